// Package mmptest provides an in-process fake of the Cisco MMP, the SSH
// console of a Cisco Meeting Server, for tests and for `leakwatch demo`.
//
// It is a real SSH server (golang.org/x/crypto/ssh) on 127.0.0.1 with its
// own ed25519 host key. It authenticates by password, keyboard-interactive
// (one hidden "Password:" prompt) and public key, answers exec requests
// the way an MMP might, and records every command. Faults can be injected
// to exercise a client's error paths.
//
// What the real MMP prints for `webbridge restart` is undocumented; the
// fake prints a plausible line. Unknown commands answer
// "FAILURE: unknown command" with exit status 1, as MMP configuration
// commands report failures with a FAILURE line.
package mmptest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Faults are errors the server can be told to make.
type Faults struct {
	// Hang makes exec requests never answer: no output, no exit, until the
	// client disconnects or the server closes.
	Hang bool
	// PrintFailure makes `webbridge restart` print a FAILURE line (and exit
	// 1) without calling OnRestart.
	PrintFailure bool
	// RejectAuth rejects every authentication attempt.
	RejectAuth bool
	// Delay is waited before answering each exec request.
	Delay time.Duration
	// NoExitStatus closes the channel without an exit-status message, as
	// some appliances do.
	NoExitStatus bool
}

// ServerConfig configures a fake MMP. The zero value accepts nobody: set
// Password or AuthorizedKeys.
type ServerConfig struct {
	// Name is the Web Bridge name passed to OnRestart.
	Name string
	// User is the accepted user name; empty means "admin".
	User string
	// Password is the accepted password; empty disables password and
	// keyboard-interactive authentication.
	Password string
	// NoPasswordMethod stops offering the "password" method, so that a
	// client must use keyboard-interactive to send the password.
	NoPasswordMethod bool
	// NoKeyboardInteractive stops offering keyboard-interactive.
	NoKeyboardInteractive bool
	// AuthorizedKeys are the public keys accepted for User.
	AuthorizedKeys []ssh.PublicKey
	// HostKey is the server's host key; nil means a fresh ed25519 key.
	HostKey ssh.Signer
	// LaterHostKeys, if set, are the keys that the second, third, ...
	// connection present instead of HostKey (the last one for every
	// connection after), as a man in the middle that appears between two
	// connections would.
	LaterHostKeys []ssh.Signer
	// OnRestart is called with Name when `webbridge restart` succeeds,
	// before the reply is sent.
	OnRestart func(name string)
	// Faults are the initial faults; see SetFaults.
	Faults Faults
	// Logger receives connection-level debug logs; nil discards them.
	Logger *slog.Logger
}

// Received is one exec request the server got.
type Received struct {
	Time       time.Time
	User       string
	AuthMethod string // "password", "keyboard-interactive" or "publickey"
	Command    string
}

// Server is a running fake MMP.
type Server struct {
	cfg    ServerConfig
	ssh    *ssh.ServerConfig
	ln     net.Listener
	logger *slog.Logger
	closed chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	faults   Faults
	received []Received
	conns    map[net.Conn]struct{}
	restarts int
	pwTries  int
	accepted int // connections so far
}

// handshakeTimeout stops a client that never finishes the handshake from
// holding a goroutine.
const handshakeTimeout = 10 * time.Second

// NewKey returns a fresh ed25519 key, as a signer for an SSH server or
// client and as the private key to write to a file.
func NewKey() (ssh.Signer, ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating an ed25519 key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("wrapping an ed25519 key: %w", err)
	}
	return signer, priv, nil
}

// NewServer starts a fake MMP on 127.0.0.1 on a free port.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.User == "" {
		cfg.User = "admin"
	}
	if cfg.HostKey == nil {
		signer, _, err := NewKey()
		if err != nil {
			return nil, fmt.Errorf("host key: %w", err)
		}
		cfg.HostKey = signer
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:    cfg,
		logger: logger,
		closed: make(chan struct{}),
		faults: cfg.Faults,
		conns:  make(map[net.Conn]struct{}),
	}
	s.ssh = s.serverConfig(cfg.HostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *Server) serverConfig(hostKey ssh.Signer) *ssh.ServerConfig {
	sc := &ssh.ServerConfig{ServerVersion: "SSH-2.0-mmptest"}
	sc.AddHostKey(hostKey)
	perms := func(method string) *ssh.Permissions {
		return &ssh.Permissions{Extensions: map[string]string{"method": method}}
	}
	if s.cfg.Password != "" && !s.cfg.NoPasswordMethod {
		sc.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if s.authOK(c.User(), pw) {
				return perms("password"), nil
			}
			return nil, errors.New("wrong password")
		}
	}
	if s.cfg.Password != "" && !s.cfg.NoKeyboardInteractive {
		sc.KeyboardInteractiveCallback = func(c ssh.ConnMetadata, ch ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := ch("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(answers) == 1 && s.authOK(c.User(), []byte(answers[0])) {
				return perms("keyboard-interactive"), nil
			}
			return nil, errors.New("wrong password")
		}
	}
	if len(s.cfg.AuthorizedKeys) > 0 {
		sc.PublicKeyCallback = func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if s.currentFaults().RejectAuth || c.User() != s.cfg.User {
				return nil, errors.New("key rejected")
			}
			for _, k := range s.cfg.AuthorizedKeys {
				if subtle.ConstantTimeCompare(k.Marshal(), key.Marshal()) == 1 {
					return perms("publickey"), nil
				}
			}
			return nil, errors.New("key not authorized")
		}
	}
	return sc
}

func (s *Server) authOK(user string, pw []byte) bool {
	s.mu.Lock()
	s.pwTries++
	s.mu.Unlock()
	if s.currentFaults().RejectAuth || user != s.cfg.User {
		return false
	}
	return subtle.ConstantTimeCompare(pw, []byte(s.cfg.Password)) == 1
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// HostKey returns the server's public host key.
func (s *Server) HostKey() ssh.PublicKey { return s.cfg.HostKey.PublicKey() }

// KnownHostsLine returns a plain known_hosts line for the server.
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{s.Addr()}, s.HostKey())
}

// SetFaults replaces the injected faults; it affects requests that arrive
// afterwards.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

func (s *Server) currentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Commands returns every command received so far, in order.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmds := make([]string, len(s.received))
	for i, r := range s.received {
		cmds[i] = r.Command
	}
	return cmds
}

// Received returns every exec request received so far, in order.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Restarts returns how many times `webbridge restart` succeeded.
func (s *Server) Restarts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}

// PasswordAttempts returns how many passwords clients have sent, by the
// password and keyboard-interactive methods together.
func (s *Server) PasswordAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pwTries
}

// Close stops the server, drops every connection and waits for all its
// goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return nil
	default:
	}
	close(s.closed)
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.closed:
			default:
				s.logger.Error("fake MMP accept failed", "err", err)
			}
			return
		}
		if !s.track(c) {
			c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serve(c)
		}()
	}
}

// track registers c so that Close can drop it; false once closed.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed:
		return false
	default:
		s.conns[c] = struct{}{}
		return true
	}
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	c.Close()
}

func (s *Server) serve(c net.Conn) {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	config := s.ssh
	s.mu.Lock()
	n := s.accepted
	s.accepted++
	s.mu.Unlock()
	if later := s.cfg.LaterHostKeys; n > 0 && len(later) > 0 {
		config = s.serverConfig(later[min(n-1, len(later)-1)])
	}
	sc, chans, reqs, err := ssh.NewServerConn(c, config)
	if err != nil {
		s.logger.Debug("fake MMP handshake failed", "remote", c.RemoteAddr(), "err", err)
		return
	}
	c.SetDeadline(time.Time{})
	defer sc.Close()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ssh.DiscardRequests(reqs)
	}()
	var chWG sync.WaitGroup
	defer chWG.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		chWG.Add(1)
		go func() {
			defer chWG.Done()
			s.session(sc, ch, creqs)
		}()
	}
}

// session serves one channel: the first exec request runs; shells and
// terminals are refused, as this fake has no interactive console.
func (s *Server) session(sc *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			req.Reply(false, nil)
			continue
		}
		req.Reply(true, nil)
		s.exec(sc, ch, payload.Command)
		return
	}
}

func (s *Server) exec(sc *ssh.ServerConn, ch ssh.Channel, cmd string) {
	method := ""
	if sc.Permissions != nil {
		method = sc.Permissions.Extensions["method"]
	}
	f := s.currentFaults()
	s.mu.Lock()
	s.received = append(s.received, Received{Time: time.Now(), User: sc.User(), AuthMethod: method, Command: cmd})
	s.mu.Unlock()

	// A closed connection ends the channel: waiting for the client's side
	// to finish tells us the client has gone.
	gone := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		io.Copy(io.Discard, ch)
		sc.Wait()
		close(gone)
	}()
	wait := func(d time.Duration) bool {
		var timeout <-chan time.Time
		if d >= 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-timeout:
			return true
		case <-gone:
		case <-s.closed:
		}
		return false
	}
	if f.Delay > 0 && !wait(f.Delay) {
		return
	}
	if f.Hang {
		wait(-1)
		return
	}
	out, status := s.respond(cmd, f)
	io.WriteString(ch, out)
	if !f.NoExitStatus {
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
	}
	ch.CloseWrite()
}

// respond computes the reply to cmd and performs its effect.
func (s *Server) respond(cmd string, f Faults) (string, uint32) {
	switch strings.Join(strings.Fields(cmd), " ") {
	case "webbridge restart":
		if f.PrintFailure {
			return "FAILURE: webbridge restart failed\n", 1
		}
		if s.cfg.OnRestart != nil {
			s.cfg.OnRestart(s.cfg.Name)
		}
		s.mu.Lock()
		s.restarts++
		s.mu.Unlock()
		return "Restarting webbridge...\nSUCCESS: webbridge restarted\n", 0
	case "webbridge":
		return "Enabled : true\nInterface whitelist : a:443\n", 0
	default:
		return "FAILURE: unknown command\n", 1
	}
}

package mmptest

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const password = "fake-mmp-pw"

func start(t *testing.T, cfg ServerConfig) *Server {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dial connects with the given auth methods, verifying the host key
// against KnownHostsLine so that the line is checked too.
func dial(t *testing.T, s *Server, user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	marker, hosts, key, _, rest, err := ssh.ParseKnownHosts([]byte(s.KnownHostsLine()))
	if err != nil || len(rest) != 0 {
		t.Fatalf("KnownHostsLine %q does not parse: %v", s.KnownHostsLine(), err)
	}
	if marker != "" || len(hosts) != 1 || hosts[0] != knownhosts.Normalize(s.Addr()) {
		t.Fatalf("KnownHostsLine hosts = %q, want [%s]", hosts, knownhosts.Normalize(s.Addr()))
	}
	return ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(key),
		Timeout:         5 * time.Second,
	})
}

// run executes cmd and returns its output and exit status.
func run(t *testing.T, c *ssh.Client, cmd string) (string, int) {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var out bytes.Buffer
	sess.Stdout = &out
	err = sess.Run(cmd)
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exitErr):
		return out.String(), exitErr.ExitStatus()
	default:
		t.Fatalf("running %q: %v", cmd, err)
		return "", 0
	}
}

func kbd(answer string) ssh.AuthMethod {
	return ssh.KeyboardInteractive(func(_, _ string, q []string, _ []bool) ([]string, error) {
		a := make([]string, len(q))
		for i := range a {
			a[i] = answer
		}
		return a, nil
	})
}

func TestCommands(t *testing.T) {
	var mu sync.Mutex
	var restarted []string
	s := start(t, ServerConfig{Name: "wb-a", Password: password, OnRestart: func(n string) {
		mu.Lock()
		defer mu.Unlock()
		restarted = append(restarted, n)
	}})
	c, err := dial(t, s, "admin", ssh.Password(password))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		cmd        string
		wantOut    string
		wantStatus int
	}{
		{"webbridge restart", "SUCCESS", 0},
		{"  webbridge   restart ", "SUCCESS", 0},
		{"webbridge", "Enabled : true", 0},
		{"callbridge restart", "FAILURE: unknown command", 1},
	}
	for _, tt := range tests {
		out, status := run(t, c, tt.cmd)
		if !strings.Contains(out, tt.wantOut) || status != tt.wantStatus {
			t.Errorf("%q: output %q status %d, want %q and %d", tt.cmd, out, status, tt.wantOut, tt.wantStatus)
		}
	}
	wantCmds := []string{"webbridge restart", "  webbridge   restart ", "webbridge", "callbridge restart"}
	if got := s.Commands(); strings.Join(got, "|") != strings.Join(wantCmds, "|") {
		t.Errorf("Commands() = %q, want %q", got, wantCmds)
	}
	if s.Restarts() != 2 || len(restarted) != 2 || restarted[0] != "wb-a" {
		t.Errorf("restarts = %d, OnRestart calls = %q; want 2 for wb-a", s.Restarts(), restarted)
	}
	for _, r := range s.Received() {
		if r.AuthMethod != "password" || r.User != "admin" || r.Time.IsZero() {
			t.Errorf("Received entry %+v lacks method, user or time", r)
		}
	}
}

func TestAuthentication(t *testing.T) {
	clientKey, _, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		cfg    ServerConfig
		user   string
		auth   ssh.AuthMethod
		wantOK bool
		method string
	}{
		{name: "password", cfg: ServerConfig{Password: password}, user: "admin", auth: ssh.Password(password), wantOK: true, method: "password"},
		{name: "wrong password", cfg: ServerConfig{Password: password}, user: "admin", auth: ssh.Password("nope")},
		{name: "wrong user", cfg: ServerConfig{Password: password}, user: "root", auth: ssh.Password(password)},
		{name: "keyboard-interactive", cfg: ServerConfig{Password: password, NoPasswordMethod: true}, user: "admin", auth: kbd(password), wantOK: true, method: "keyboard-interactive"},
		{name: "password method disabled", cfg: ServerConfig{Password: password, NoPasswordMethod: true}, user: "admin", auth: ssh.Password(password)},
		{name: "keyboard-interactive disabled", cfg: ServerConfig{Password: password, NoKeyboardInteractive: true}, user: "admin", auth: kbd(password)},
		{name: "public key", cfg: ServerConfig{AuthorizedKeys: []ssh.PublicKey{clientKey.PublicKey()}}, user: "admin", auth: ssh.PublicKeys(clientKey), wantOK: true, method: "publickey"},
		{name: "unauthorized key", cfg: ServerConfig{AuthorizedKeys: []ssh.PublicKey{clientKey.PublicKey()}}, user: "admin", auth: ssh.PublicKeys(otherKey)},
		{name: "RejectAuth", cfg: ServerConfig{Password: password, Faults: Faults{RejectAuth: true}}, user: "admin", auth: ssh.Password(password)},
		{name: "custom user", cfg: ServerConfig{User: "operator", Password: password}, user: "operator", auth: ssh.Password(password), wantOK: true, method: "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.cfg)
			c, err := dial(t, s, tt.user, tt.auth)
			if !tt.wantOK {
				if err == nil {
					c.Close()
					t.Fatal("authentication succeeded, want failure")
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			run(t, c, "webbridge restart")
			if r := s.Received(); len(r) != 1 || r[0].AuthMethod != tt.method {
				t.Errorf("Received = %+v, want one via %s", r, tt.method)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	s := start(t, ServerConfig{Password: password, Faults: Faults{PrintFailure: true}})
	c, err := dial(t, s, "admin", ssh.Password(password))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out, status := run(t, c, "webbridge restart"); !strings.HasPrefix(out, "FAILURE") || status != 1 || s.Restarts() != 0 {
		t.Errorf("PrintFailure: output %q status %d restarts %d", out, status, s.Restarts())
	}

	s.SetFaults(Faults{Delay: 150 * time.Millisecond})
	start := time.Now()
	if out, _ := run(t, c, "webbridge restart"); !strings.Contains(out, "SUCCESS") {
		t.Errorf("Delay: output %q", out)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("Delay: answered after %v, want >= 150ms", d)
	}

	s.SetFaults(Faults{NoExitStatus: true})
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var missing *ssh.ExitMissingError
	if err := sess.Run("webbridge restart"); !errors.As(err, &missing) {
		t.Errorf("NoExitStatus: Run error = %v, want ExitMissingError", err)
	}
	sess.Close()
}

// TestHangEndsOnClose checks that a hung exec holds until Close, and that
// Close returns once every server goroutine has finished.
func TestHangEndsOnClose(t *testing.T) {
	s, err := NewServer(ServerConfig{Password: password, Faults: Faults{Hang: true}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := dial(t, s, "admin", ssh.Password(password))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Run("webbridge restart") }()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Commands()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("command never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("hung command returned early: %v", err)
	default:
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a hung session open")
	}
	if err := <-done; err == nil {
		t.Error("hung command succeeded after Close")
	}
	if s.Restarts() != 0 {
		t.Error("a hung restart was counted")
	}
}

func TestShellRefused(t *testing.T) {
	s := start(t, ServerConfig{Password: password})
	c, err := dial(t, s, "admin", ssh.Password(password))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Shell(); err == nil {
		t.Error("interactive shell accepted")
	}
}

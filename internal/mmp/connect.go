package mmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// normalizeAddress returns host:port, adding port 22 when absent.
func normalizeAddress(a string) (string, error) {
	if a == "" {
		return "", errors.New("empty MMP address")
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		host = strings.TrimSuffix(strings.TrimPrefix(a, "["), "]")
		port = "22"
	}
	if host == "" {
		return "", fmt.Errorf("MMP address %q has no host", a)
	}
	if port == "" {
		port = "22"
	}
	return net.JoinHostPort(host, port), nil
}

// connection is an authenticated SSH connection and what was learnt
// about the host key on the way.
type connection struct {
	address string
	client  *ssh.Client
	key     ssh.PublicKey // presented host key, nil if the handshake never got there
	known   bool          // known_hosts lists key
	agent   io.Closer
}

func (cn *connection) close() {
	if cn.client != nil {
		cn.client.Close()
	}
	if cn.agent != nil {
		cn.agent.Close()
	}
}

// connect paces, dials, verifies the host key and authenticates. It
// returns a non-nil connection carrying the host key whenever the server
// presented one, even on error. started is called with the time dialling
// begins (after pacing).
func (c *Client) connect(ctx context.Context, t Target, started func(time.Time)) (*connection, error) {
	addr, err := normalizeAddress(t.Address)
	if err != nil {
		return nil, err
	}
	if t.User == "" {
		return nil, errors.New("no MMP user configured")
	}
	if t.Fingerprint != "" {
		if err := ValidateFingerprint(t.Fingerprint); err != nil {
			return nil, err
		}
	}
	db, err := loadKnownHosts(c.opts.KnownHostsFile)
	if err != nil {
		return nil, err
	}
	if err := c.pacer.wait(ctx, addr); err != nil {
		return nil, err
	}
	started(c.now())
	deadline := time.Now().Add(c.opts.DialTimeout)
	cn := &connection{address: addr}

	cfg := &ssh.ClientConfig{
		User:              t.User,
		HostKeyAlgorithms: db.hostKeyAlgorithms(addr),
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			cn.key = key
			known, err := hostKeyCheck(db, addr, t.Fingerprint, key)
			cn.known = known
			return err
		},
	}
	var signers []ssh.Signer
	if c.signer != nil {
		signers = append(signers, c.signer)
	}
	if c.agentSocket != "" {
		as, agentConn, err := agentSigners(c.agentSocket, c.opts.DialTimeout)
		switch {
		case err == nil:
			signers = append(signers, as...)
			cn.agent = agentConn
		case c.signer == nil && c.auth.Password == "":
			return cn, err
		default:
			c.logger.Warn("ssh-agent unavailable, trying other methods", "webbridge", t.Name, "err", err)
		}
	}
	if len(signers) > 0 {
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signers...))
	}
	if c.auth.Password != "" {
		cfg.Auth = append(cfg.Auth, passwordMethods(c.auth.Password)...)
	}

	dialer := net.Dialer{Deadline: deadline}
	nc, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		cn.close()
		return cn, dialError(ctx, err)
	}
	// The deadline bounds the handshake and authentication; a server that
	// accepts TCP but never speaks SSH cannot hold us past DialTimeout.
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if !stop() || ctx.Err() != nil {
		if err == nil {
			sc.Close()
		}
		cn.close()
		return cn, ctx.Err()
	}
	if err != nil {
		cn.close()
		return cn, handshakeError(err, cn.key != nil)
	}
	nc.SetDeadline(time.Time{})
	cn.client = ssh.NewClient(sc, chans, reqs)
	c.logger.Debug("SSH connected", "webbridge", t.Name, "address", addr,
		"fingerprint", ssh.FingerprintSHA256(cn.key), "known_hosts", cn.known)
	return cn, nil
}

// dialError classifies a TCP dial failure.
func dialError(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, syscall.ECONNREFUSED):
		return classify(ErrConnRefused, err, "dialling")
	case errors.As(err, &ne) && ne.Timeout():
		return classify(ErrDialTimeout, err, "dialling")
	default:
		return classify(ErrConnect, err, "dialling")
	}
}

// handshakeError classifies a failed SSH handshake. x/crypto reports an
// exhausted set of authentication methods only as text, hence the string
// matching; sawKey tells whether the failure came after the host key was
// accepted.
func handshakeError(err error, sawKey bool) error {
	var hk *HostKeyError
	var ne net.Error
	msg := err.Error()
	switch {
	case errors.As(err, &hk):
		return hk
	case errors.Is(err, errKbdRejected),
		sawKey && strings.Contains(msg, "unable to authenticate"),
		sawKey && strings.Contains(msg, "disconnect, reason 14"), // SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE
		sawKey && strings.Contains(msg, "Too many authentication failures"):
		return classify(ErrAuth, err, "authenticating")
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return classify(ErrDialTimeout, err, "SSH handshake")
	default:
		return classify(ErrConnect, err, "SSH handshake")
	}
}

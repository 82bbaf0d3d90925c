package mmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Defaults for Options and Target.
const (
	DefaultCommand        = "webbridge restart"
	DefaultDialTimeout    = 10 * time.Second
	DefaultCommandTimeout = 60 * time.Second
	DefaultMinInterval    = 2 * time.Second
	DefaultMaxOutput      = 64 << 10
)

// Target is one MMP to act on.
type Target struct {
	// Name is the Web Bridge's name, used in errors and logs.
	Name string
	// Address is host:port; a bare host means port 22.
	Address string
	// User is the MMP user, such as "admin".
	User string
	// Command is the command to run; empty means DefaultCommand.
	Command string
	// Fingerprint optionally pins the host key ("SHA256:..." as printed by
	// ssh-keygen -l). A pinned key is accepted even when known_hosts does
	// not list the host, but never when known_hosts records a different key
	// for it. See hostKeyCheck for the full rules. Pin the key the server
	// presents to this client, as Probe reports it; like OpenSSH's ssh,
	// the client prefers ed25519, then ECDSA, then RSA.
	Fingerprint string
}

// Options configures a Client. Zero values take the defaults.
type Options struct {
	// KnownHostsFile is the OpenSSH known_hosts file (plain or hashed
	// entries). Empty, or a file that does not exist yet, means no host is
	// known: only targets with a pinned Fingerprint can be reached.
	KnownHostsFile string
	// DialTimeout bounds the TCP connection plus the SSH handshake and
	// authentication. Default 10s.
	DialTimeout time.Duration
	// CommandTimeout bounds the command, from opening the channel to the
	// exit. Default 60s.
	CommandTimeout time.Duration
	// MinInterval is the least time between two connection openings to the
	// same host. Default 2s; negative disables pacing.
	MinInterval time.Duration
	// MaxOutput caps the output kept in Result. Default 64 KiB.
	MaxOutput int
}

func (o *Options) setDefaults() error {
	if o.DialTimeout < 0 || o.CommandTimeout < 0 || o.MaxOutput < 0 {
		return errors.New("mmp options: timeouts and max output must not be negative")
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.CommandTimeout == 0 {
		o.CommandTimeout = DefaultCommandTimeout
	}
	if o.MinInterval == 0 {
		o.MinInterval = DefaultMinInterval
	}
	if o.MaxOutput == 0 {
		o.MaxOutput = DefaultMaxOutput
	}
	return nil
}

// Result is what a Run observed. Run fills it as far as it got, also when
// it returns an error (Output then holds what a failed command printed).
type Result struct {
	// Output is the command's stdout and stderr, interleaved, capped at
	// Options.MaxOutput.
	Output string
	// Truncated is true when output beyond the cap was dropped.
	Truncated bool
	// Fingerprint is the SHA256 fingerprint of the server's host key.
	Fingerprint string
	// Duration runs from dialling to the command's end (pacing excluded).
	Duration time.Duration
	// ExitStatus is the remote exit status, or -1 when the server reported
	// none (the MMP's behaviour here is undocumented).
	ExitStatus int
}

// ProbeResult is what a Probe observed. Probe fills the host key fields
// also when the key was refused, so that the caller can show the
// fingerprint and offer AddKnownHost.
type ProbeResult struct {
	// HostKey is the key the server presented; nil if none was seen.
	HostKey ssh.PublicKey
	// Fingerprint is HostKey's SHA256 fingerprint.
	Fingerprint string
	// KeyType is HostKey's algorithm, such as "ssh-ed25519".
	KeyType string
	// Known is true when known_hosts records HostKey for the address.
	Known bool
	// Authenticated is true when the server accepted our credentials.
	Authenticated bool
	// Duration is the time spent connecting and authenticating.
	Duration time.Duration
}

// Client runs commands on MMPs over SSH. It is safe for concurrent use.
type Client struct {
	opts        Options
	auth        Auth
	signer      ssh.Signer // from Auth.KeyFile, nil if none
	agentSocket string
	logger      *slog.Logger
	pacer       *pacer
	now         func() time.Time
	khMu        sync.Mutex // serialises AddKnownHost's read-check-append
}

// NewClient validates opts and auth, resolves auth's secrets (see
// Auth.Resolve) and loads the private key, so that configuration mistakes
// surface at start-up rather than at the first restart.
func NewClient(opts Options, auth Auth, logger *slog.Logger) (*Client, error) {
	if logger == nil {
		return nil, errors.New("mmp: nil logger")
	}
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	if err := auth.Resolve(); err != nil {
		return nil, err
	}
	// Read known_hosts once now so that a malformed or unreadable file is
	// a start-up error, not a failed restart at 3 a.m.
	if _, err := loadKnownHosts(opts.KnownHostsFile); err != nil {
		return nil, err
	}
	if st, err := os.Stat(opts.KnownHostsFile); err == nil && st.Mode().Perm()&0o022 != 0 {
		logger.Warn("known_hosts file is writable by others: anyone who can write it decides which MMP hosts are trusted",
			"path", opts.KnownHostsFile, "mode", st.Mode().Perm().String())
	}
	c := &Client{opts: opts, auth: auth, logger: logger, pacer: newPacer(opts.MinInterval), now: time.Now}
	if auth.KeyFile != "" {
		s, err := loadSigner(auth.KeyFile, auth.KeyPassphrase)
		if err != nil {
			return nil, err
		}
		c.signer = s
	}
	if auth.UseAgent {
		c.agentSocket = auth.AgentSocket
		if c.agentSocket == "" {
			c.agentSocket = os.Getenv("SSH_AUTH_SOCK")
		}
		if c.agentSocket == "" {
			return nil, errors.New("ssh-agent requested but SSH_AUTH_SOCK is not set")
		}
	}
	if auth.Password == "" && c.signer == nil && !auth.UseAgent {
		return nil, errors.New("no SSH authentication configured: set a password, a key file or the agent")
	}
	return c, nil
}

// Run connects to t, verifies its host key, authenticates, runs the
// command in an exec channel and returns what it printed. A command that
// prints FAILURE or exits non-zero is an error (ErrCommandFailed); one
// that outlasts CommandTimeout is cut off by closing the connection
// (ErrCommandTimeout). Errors classify with Classify.
func (c *Client) Run(ctx context.Context, t Target) (Result, error) {
	res := Result{ExitStatus: -1}
	cmd := t.Command
	if cmd == "" {
		cmd = DefaultCommand
	}
	if err := checkCommand(cmd); err != nil {
		return res, c.wrap(t, err)
	}
	start := time.Time{}
	conn, err := c.connect(ctx, t, func(s time.Time) { start = s })
	if conn != nil && conn.key != nil {
		res.Fingerprint = ssh.FingerprintSHA256(conn.key)
	}
	if err != nil {
		if !start.IsZero() {
			res.Duration = c.now().Sub(start)
		}
		return res, c.wrap(t, err)
	}
	defer conn.close()

	out := newOutputBuffer(c.opts.MaxOutput)
	status, signal, err := c.exec(ctx, conn.client, cmd, out)
	res.Duration = c.now().Sub(start)
	res.ExitStatus = status
	var failure bool
	res.Output, res.Truncated, failure = out.snapshot()
	c.logger.Debug("MMP command finished", "webbridge", t.Name, "address", conn.address,
		"command", cmd, "duration", res.Duration, "exit_status", status,
		"output_bytes", len(res.Output), "err", err)
	switch {
	case err != nil:
		return res, c.wrap(t, err)
	case failure:
		return res, c.wrap(t, &CommandError{Command: cmd, ExitStatus: status, Detail: failureLine(res.Output), kind: ErrFailureOutput})
	case status != 0 && status != -1, signal != "":
		return res, c.wrap(t, &CommandError{Command: cmd, ExitStatus: status, Signal: signal, kind: ErrExitStatus})
	}
	return res, nil
}

// Probe connects to t, checks its host key and authenticates, then
// disconnects without running anything. It never authenticates to a host
// whose key it refused.
func (c *Client) Probe(ctx context.Context, t Target) (ProbeResult, error) {
	var pr ProbeResult
	start := time.Time{}
	conn, err := c.connect(ctx, t, func(s time.Time) { start = s })
	if !start.IsZero() {
		pr.Duration = c.now().Sub(start)
	}
	if conn != nil && conn.key != nil {
		pr.HostKey = conn.key
		pr.Fingerprint = ssh.FingerprintSHA256(conn.key)
		pr.KeyType = conn.key.Type()
		pr.Known = conn.known
	}
	if err != nil {
		return pr, c.wrap(t, err)
	}
	conn.close()
	pr.Authenticated = true
	return pr, nil
}

// wrap adds the target to err. Nothing here ever holds a secret.
func (c *Client) wrap(t Target, err error) error {
	return fmt.Errorf("MMP of web bridge %q (%s@%s): %w", t.Name, t.User, t.Address, err)
}

package mmp

// Tests against a real OpenSSH sshd standing in for the MMP, started by the
// integration harness with its stand-in script (see harness.StartMMP).
// Password and keyboard-interactive authentication would need a real
// account password, so they are covered in-process against mmptest; here
// the current user (root in CI containers) logs in by key.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshdServer is the stand-in MMP as these tests address it.
type sshdServer struct {
	*harness.MMP
	addr     string
	hostKeys []ssh.PublicKey // ed25519 first, then RSA
}

// startSSHD starts sshd with an ed25519 and an RSA host key, or skips the
// test when sshd is missing (fails instead when $CI is set).
func startSSHD(t *testing.T) *sshdServer {
	t.Helper()
	m := harness.StartMMP(t, harness.MMPOptions{RSAHostKey: true})
	return &sshdServer{MMP: m, addr: m.Addrs[0], hostKeys: m.HostKeys}
}

func (s *sshdServer) setMode(t *testing.T, mode string) { s.SetMode(t, mode) }

func (s *sshdServer) commands(t *testing.T) []string { return s.Commands(t) }

// stop terminates sshd and waits for it.
func (s *sshdServer) stop(t *testing.T) {
	t.Helper()
	if err := s.Process.Stop(10 * time.Second); err != nil {
		t.Logf("stopping sshd: %v", err)
	}
}

func (s *sshdServer) target() Target {
	return Target{Name: "wb-sshd", Address: s.addr, User: s.User}
}

func (s *sshdServer) client(t *testing.T, opts Options) *Client {
	t.Helper()
	c, _ := newTestClient(t, opts, Auth{KeyFile: s.ClientKeyFile})
	return c
}

func TestSSHDKeyAuthRunsCommand(t *testing.T) {
	s := startSSHD(t)
	c := s.client(t, fastOptions(writeKnownHosts(t, knownhosts.Line([]string{s.addr}, s.hostKeys[0]))))

	pr, err := c.Probe(context.Background(), s.target())
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if !pr.Known || !pr.Authenticated || pr.Fingerprint != ssh.FingerprintSHA256(s.hostKeys[0]) {
		t.Errorf("ProbeResult = %+v, want known ed25519 key, authenticated", pr)
	}
	if cmds := s.commands(t); len(cmds) != 0 {
		t.Errorf("Probe ran %q", cmds)
	}

	res, err := c.Run(context.Background(), s.target())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitStatus != 0 || !strings.Contains(res.Output, "SUCCESS: webbridge restarted") {
		t.Errorf("Result = %+v, want exit 0 and the script's output", res)
	}
	if cmds := s.commands(t); len(cmds) != 1 || cmds[0] != DefaultCommand {
		t.Errorf("sshd ran %q, want [%q]", cmds, DefaultCommand)
	}
}

func TestSSHDHostKey(t *testing.T) {
	s := startSSHD(t)
	impostor, _ := newKey(t)
	ed, rsaKey := s.hostKeys[0], s.hostKeys[1]
	tests := []struct {
		name    string
		lines   []string
		pin     string
		wantErr error
	}{
		{name: "hashed entry", lines: []string{hashedKnownHostsLine(t, s.addr, ed)}},
		// known_hosts lists only the RSA key: the client must ask for RSA
		// rather than accept the ed25519 key sshd prefers, or fail.
		{name: "only the RSA key recorded", lines: []string{hashedKnownHostsLine(t, s.addr, rsaKey)}},
		{name: "pinned, not in known_hosts", pin: ssh.FingerprintSHA256(ed)},
		{name: "unknown host key", lines: []string{hashedKnownHostsLine(t, "192.0.2.7:22", ed)}, wantErr: ErrHostKeyUnknown},
		{name: "changed host key", lines: []string{hashedKnownHostsLine(t, s.addr, impostor.PublicKey())}, wantErr: ErrHostKeyChanged},
		{name: "pin mismatch", lines: []string{hashedKnownHostsLine(t, s.addr, ed)}, pin: ssh.FingerprintSHA256(impostor.PublicKey()), wantErr: ErrHostKeyChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kh := ""
			if tt.lines != nil {
				kh = writeKnownHosts(t, tt.lines...)
			}
			before := len(s.commands(t))
			target := s.target()
			target.Fingerprint = tt.pin
			_, err := s.client(t, fastOptions(kh)).Run(context.Background(), target)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			wantRan := 0
			if tt.wantErr == nil {
				wantRan = 1
			}
			if ran := len(s.commands(t)) - before; ran != wantRan {
				t.Errorf("%d commands ran, want %d", ran, wantRan)
			}
		})
	}
}

func TestSSHDAuthRejected(t *testing.T) {
	s := startSSHD(t)
	_, otherPriv := newKey(t)
	c, _ := newTestClient(t, fastOptions(writeKnownHosts(t, knownhosts.Line([]string{s.addr}, s.hostKeys[0]))),
		Auth{KeyFile: writePrivateKey(t, otherPriv, "")})
	_, err := c.Run(context.Background(), s.target())
	if !errors.Is(err, ErrAuth) || Classify(err) != "auth" {
		t.Fatalf("Run error = %v (class %q), want ErrAuth", err, Classify(err))
	}
	if cmds := s.commands(t); len(cmds) != 0 {
		t.Errorf("commands ran without authentication: %q", cmds)
	}
}

func TestSSHDCommandResult(t *testing.T) {
	s := startSSHD(t)
	kh := writeKnownHosts(t, knownhosts.Line([]string{s.addr}, s.hostKeys[0]))
	tests := []struct {
		mode       string
		wantErr    error
		wantClass  string
		wantStatus int
		wantOutput []string
	}{
		{mode: "failure", wantErr: ErrFailureOutput, wantClass: "failure_output", wantStatus: 0, wantOutput: []string{"FAILURE: webbridge is not configured"}},
		{mode: "exit3", wantErr: ErrExitStatus, wantClass: "exit_status", wantStatus: 3, wantOutput: []string{"partial output", "error detail"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			s.setMode(t, tt.mode)
			res, err := s.client(t, fastOptions(kh)).Run(context.Background(), s.target())
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrCommandFailed) || Classify(err) != tt.wantClass {
				t.Fatalf("Run error = %v (class %q), want %v", err, Classify(err), tt.wantErr)
			}
			var ce *CommandError
			if !errors.As(err, &ce) || ce.ExitStatus != tt.wantStatus || res.ExitStatus != tt.wantStatus {
				t.Errorf("exit status: error %+v, result %d; want %d", ce, res.ExitStatus, tt.wantStatus)
			}
			for _, want := range tt.wantOutput {
				if !strings.Contains(res.Output, want) {
					t.Errorf("Output %q lacks %q", res.Output, want)
				}
			}
		})
	}
}

func TestSSHDCommandTimeout(t *testing.T) {
	s := startSSHD(t)
	s.setMode(t, "hang")
	opts := fastOptions(writeKnownHosts(t, knownhosts.Line([]string{s.addr}, s.hostKeys[0])))
	opts.CommandTimeout = 500 * time.Millisecond
	start := time.Now()
	_, err := s.client(t, opts).Run(context.Background(), s.target())
	elapsed := time.Since(start)
	if !errors.Is(err, ErrCommandTimeout) || Classify(err) != "command_timeout" {
		t.Fatalf("Run error = %v (class %q), want ErrCommandTimeout", err, Classify(err))
	}
	if elapsed < opts.CommandTimeout || elapsed > opts.CommandTimeout+opts.DialTimeout {
		t.Errorf("Run returned after %v, want about %v", elapsed, opts.CommandTimeout)
	}
	// The script may record the command after the client gave up (a slow
	// machine), so wait for it rather than read once.
	deadline := time.Now().Add(10 * time.Second)
	for len(s.commands(t)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if cmds := s.commands(t); len(cmds) != 1 || cmds[0] != DefaultCommand {
		t.Errorf("sshd ran %q, want the command that hung", cmds)
	}
}

func TestSSHDConnectionRefused(t *testing.T) {
	s := startSSHD(t)
	c := s.client(t, fastOptions(writeKnownHosts(t, knownhosts.Line([]string{s.addr}, s.hostKeys[0]))))
	if _, err := c.Run(context.Background(), s.target()); err != nil {
		t.Fatalf("Run while sshd is up: %v", err)
	}
	s.stop(t)
	_, err := c.Run(context.Background(), s.target())
	if !errors.Is(err, ErrConnRefused) || Classify(err) != "connect" {
		t.Fatalf("Run after sshd stopped: error = %v (class %q), want ErrConnRefused", err, Classify(err))
	}
}

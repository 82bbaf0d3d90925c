package mmp

// Tests against a real OpenSSH sshd standing in for the MMP. Each test
// starts its own sshd on 127.0.0.1 with its own host keys, authorized
// keys and a ForceCommand script that records $SSH_ORIGINAL_COMMAND and
// behaves as selected by a mode file (ok, failure, exit3, hang). Password
// and keyboard-interactive authentication would need a real account
// password, so they are covered in-process against mmptest; here the
// current user (root in CI containers) logs in by key.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const sshdPath = "/usr/sbin/sshd"

// mmpScript stands in for the MMP behind ForceCommand. The hang mode
// polls for a release file, which the test's cleanup creates, or for its
// directory to vanish, so that no process outlives the test (sshd's
// session children run in their own session and a signal to sshd does
// not reach them).
const mmpScript = `#!/bin/sh
dir='%s'
printf '%%s\n' "$SSH_ORIGINAL_COMMAND" >> "$dir/commands.log"
case "$(cat "$dir/mode" 2>/dev/null)" in
failure) echo "FAILURE: webbridge is not configured"; exit 0 ;;
exit3) echo "partial output"; echo "error detail" >&2; exit 3 ;;
hang)
	i=0
	while [ -d "$dir" ] && [ ! -e "$dir/release" ] && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i+1)); done
	exit 0 ;;
*) echo "Restarting webbridge..."; echo "SUCCESS: webbridge restarted" ;;
esac
`

// sshdRSAKey is generated once per test binary: RSA key generation takes
// seconds on a loaded machine.
var sshdRSAKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

type sshdServer struct {
	dir       string
	addr      string
	hostKeys  []ssh.PublicKey // ed25519 first, then RSA
	clientKey string          // private key file authorized for the user
	user      string
	stderr    *syncBuffer
	cmd       *exec.Cmd
	exited    chan error
	stopped   bool
}

// startSSHD starts sshd or skips the test when sshd is missing (fails
// instead when $CI is set).
func startSSHD(t *testing.T) *sshdServer {
	t.Helper()
	if _, err := os.Stat(sshdPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("sshd required in CI: %v", err)
		}
		t.Skipf("sshd not installed: %v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// sshd running as root insists on its privilege separation
		// directory, which the init script or systemd normally creates.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("creating /run/sshd: %v", err)
		}
	}

	s := &sshdServer{dir: t.TempDir(), user: u.Username, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	path := func(name string) string { return filepath.Join(s.dir, name) }
	write := func(name, content string, perm os.FileMode) {
		if err := os.WriteFile(path(name), []byte(content), perm); err != nil {
			t.Fatal(err)
		}
	}

	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPriv, err := sshdRSAKey()
	if err != nil {
		t.Fatal(err)
	}
	for name, priv := range map[string]any{"host_ed25519": edPriv, "host_rsa": rsaPriv} {
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			t.Fatal(err)
		}
		write(name, string(pem.EncodeToMemory(block)), 0o600)
	}
	for _, priv := range []any{edPriv, rsaPriv} {
		signer, err := ssh.NewSignerFromKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		s.hostKeys = append(s.hostKeys, signer.PublicKey())
	}

	clientSigner, clientPriv := newKey(t)
	s.clientKey = writePrivateKey(t, clientPriv, "")
	write("authorized_keys", string(ssh.MarshalAuthorizedKey(clientSigner.PublicKey())), 0o600)
	write("mmp.sh", fmt.Sprintf(mmpScript, s.dir), 0o755)
	s.setMode(t, "ok")

	s.addr = freePort(t)
	write("sshd_config", strings.Join([]string{
		"ListenAddress " + s.addr,
		"HostKey " + path("host_ed25519"),
		"HostKey " + path("host_rsa"),
		"PidFile " + path("sshd.pid"),
		"AuthorizedKeysFile " + path("authorized_keys"),
		"StrictModes no",
		"UsePAM no",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"AllowUsers " + s.user,
		"ForceCommand " + path("mmp.sh"),
		"PrintMotd no",
		"LogLevel VERBOSE",
	}, "\n")+"\n", 0o600)

	s.cmd = exec.Command(sshdPath, "-D", "-e", "-f", path("sshd_config"))
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		write("release", "", 0o600)
		s.stop(t)
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.stderr)
		}
	})
	s.waitReady(t)
	return s
}

// waitReady polls until sshd accepts connections or exits.
func (s *sshdServer) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case werr := <-s.exited:
			s.exited <- werr // stop() reads it again
			t.Fatalf("sshd exited before listening (%v):\n%s", werr, s.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd not listening on %s after 10s:\n%s", s.addr, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop terminates sshd and waits for it; calling it twice is harmless.
func (s *sshdServer) stop(t *testing.T) {
	t.Helper()
	if s.stopped {
		return
	}
	s.stopped = true
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *sshdServer) setMode(t *testing.T, mode string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, "mode"), []byte(mode), 0o600); err != nil {
		t.Fatal(err)
	}
}

// commands returns the commands the stand-in script recorded.
func (s *sshdServer) commands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "commands.log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func (s *sshdServer) target() Target {
	return Target{Name: "wb-sshd", Address: s.addr, User: s.user}
}

func (s *sshdServer) client(t *testing.T, opts Options) *Client {
	t.Helper()
	c, _ := newTestClient(t, opts, Auth{KeyFile: s.clientKey})
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

package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/leakwatch/leakwatch/internal/mmp/mmptest"
)

// testPassword is the fake MMPs' password. It must never be printed.
const testPassword = "s3cret-Mmp-pa55word"

// mmpSite is a temporary leakwatch setup whose Web Bridges' MMPs are
// in-process fake MMP servers (mmptest) accepting admin/testPassword.
type mmpSite struct {
	dir        string
	stateDir   string
	config     string
	knownHosts string
	auditFile  string
	logFile    string
	servers    map[string]*mmptest.Server // by Web Bridge name
}

// siteOptions vary the config newSite writes.
type siteOptions struct {
	// bridges are the Web Bridge names, each with its own fake MMP and
	// syslog host "h-<name>"; the Call Bridge cb1 logs as "h-cb1".
	bridges []string
	// extra is appended to the YAML (e.g. a policy section).
	extra string
	// laterHostKeys are presented by every fake MMP from its second
	// connection on (mmptest.ServerConfig.LaterHostKeys).
	laterHostKeys []ssh.Signer
}

// newSite starts a fake MMP per bridge and writes a config naming them,
// with the password in ssh.password_file and known_hosts in the state
// folder (absent until something adds to it).
func newSite(t *testing.T, o siteOptions) *mmpSite {
	t.Helper()
	dir := t.TempDir()
	s := &mmpSite{
		dir:      dir,
		stateDir: filepath.Join(dir, "state"),
		config:   filepath.Join(dir, "leakwatch.yaml"),
		logFile:  filepath.Join(dir, "cms.log"),
		servers:  map[string]*mmptest.Server{},
	}
	s.knownHosts = filepath.Join(s.stateDir, "known_hosts")
	s.auditFile = filepath.Join(s.stateDir, "audit.jsonl")
	pwFile := filepath.Join(dir, "mmp-password")
	if err := os.WriteFile(pwFile, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var wbs strings.Builder
	for _, name := range o.bridges {
		srv, err := mmptest.NewServer(mmptest.ServerConfig{Name: name, Password: testPassword, LaterHostKeys: o.laterHostKeys})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		s.servers[name] = srv
		fmt.Fprintf(&wbs, "    - name: %s\n      hosts: [h-%s]\n      mmp:\n        address: %q\n        user: admin\n", name, name, srv.Addr())
	}
	cfg := fmt.Sprintf(`timezone: UTC
state_dir: %q
inputs:
  files:
    paths: [%q]
    poll_interval: 200ms
inventory:
  webbridges:
%s  callbridges:
    - name: cb1
      hosts: [h-cb1]
ssh:
  password_file: %q
  dial_timeout: 5s
  command_timeout: 10s
  min_interval: 0s
%s`, s.stateDir, s.logFile, wbs.String(), pwFile, o.extra)
	if err := os.WriteFile(s.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.logFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// noSecret fails the test if the password appears in any of outs.
func noSecret(t *testing.T, outs ...string) {
	t.Helper()
	for _, o := range outs {
		if strings.Contains(o, testPassword) {
			t.Errorf("the MMP password appears in the output:\n%s", o)
		}
	}
}

// noCommands fails the test if any fake MMP received a command.
func (s *mmpSite) noCommands(t *testing.T) {
	t.Helper()
	for name, srv := range s.servers {
		if cmds := srv.Commands(); len(cmds) != 0 {
			t.Errorf("MMP of %s ran %q; check --ssh must run nothing", name, cmds)
		}
	}
}

func fingerprint(srv *mmptest.Server) string { return ssh.FingerprintSHA256(srv.HostKey()) }

// TestCheckSSHTrustOnFirstUse walks the documented first-use path: the
// unknown keys are shown and refused (no password sent), then accepted on
// request and written hashed to known_hosts, then trusted.
func TestCheckSSHTrustOnFirstUse(t *testing.T) {
	s := newSite(t, siteOptions{bridges: []string{"wb1", "wb2"}})

	code, out, errOut := run(t, "check", "--config", s.config, "--ssh")
	noSecret(t, out, errOut)
	if code != 1 {
		t.Fatalf("unknown host keys: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for name, srv := range s.servers {
		want := fmt.Sprintf("%s %s: ssh-ed25519 %s: ", name, srv.Addr(), fingerprint(srv))
		if !strings.Contains(out, want) || !strings.Contains(out, "[host_key_unknown]") {
			t.Errorf("stdout lacks %q with [host_key_unknown]:\n%s", want, out)
		}
		if n := srv.PasswordAttempts(); n != 0 {
			t.Errorf("the password was sent %d times to the unverified %s", n, name)
		}
	}
	for name, srv := range s.servers {
		if hint := "rerun with --accept-host-key " + name + "=" + fingerprint(srv); !strings.Contains(out, hint) {
			t.Errorf("stdout lacks the hint %q:\n%s", hint, out)
		}
	}
	if !strings.Contains(errOut, "2 of 2 MMPs failed the check") {
		t.Errorf("stderr lacks the summary:\n%s", errOut)
	}
	if _, err := os.Stat(s.knownHosts); !os.IsNotExist(err) {
		t.Errorf("known_hosts written without --accept-new-host-keys (stat: %v)", err)
	}

	code, out, errOut = runIn(t, "yes\nyes\n", "check", "--config", s.config, "--ssh", "--accept-new-host-keys")
	noSecret(t, out, errOut)
	if code != 0 {
		t.Fatalf("--accept-new-host-keys: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for name, srv := range s.servers {
		if want := fmt.Sprintf("%s %s: ssh-ed25519 %s: UNKNOWN host key. Compare it", name, srv.Addr(), fingerprint(srv)); !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if got := strings.Count(out, "added; then: host key trusted, authenticated"); got != 2 {
		t.Errorf("%d MMPs trusted and authenticated after accepting, want 2:\n%s", got, out)
	}
	kh, err := os.ReadFile(s.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(s.knownHosts); err != nil {
		t.Error(err)
	} else if st.Mode().Perm() != 0o600 {
		t.Errorf("known_hosts mode = %v, want 0600", st.Mode().Perm())
	}
	check, err := knownhosts.New(s.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	for name, srv := range s.servers {
		if strings.Contains(string(kh), srv.Addr()) || strings.Contains(string(kh), "127.0.0.1") {
			t.Errorf("known_hosts names the host in clear; want hashed entries:\n%s", kh)
		}
		tcp, err := net.ResolveTCPAddr("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if err := check(srv.Addr(), tcp, srv.HostKey()); err != nil {
			t.Errorf("known_hosts does not trust %s's key: %v", name, err)
		}
	}

	code, out, errOut = run(t, "check", "--config", s.config, "--ssh")
	noSecret(t, out, errOut)
	if code != 0 {
		t.Fatalf("after accepting: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for name, srv := range s.servers {
		if want := fmt.Sprintf("%s %s: ssh-ed25519 %s: host key trusted, authenticated", name, srv.Addr(), fingerprint(srv)); !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
		if srv.PasswordAttempts() == 0 {
			t.Errorf("%s was never authenticated against", name)
		}
	}
	s.noCommands(t)
}

// TestCheckSSHRefusesChangedHostKey: a different key recorded for the MMP
// is refused, and --accept-new-host-keys never replaces it.
func TestCheckSSHRefusesChangedHostKey(t *testing.T) {
	s := newSite(t, siteOptions{bridges: []string{"wb1"}})
	srv := s.servers["wb1"]
	impostor := newHostKey(t).PublicKey()
	if err := os.MkdirAll(s.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	recorded := knownhosts.Line([]string{srv.Addr()}, impostor) + "\n"
	if err := os.WriteFile(s.knownHosts, []byte(recorded), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{
		{"check", "--config", s.config, "--ssh"},
		{"check", "--config", s.config, "--ssh", "--accept-new-host-keys"},
		{"check", "--config", s.config, "--ssh", "--accept-host-key", "wb1=" + fingerprint(srv)},
	} {
		code, out, errOut := runIn(t, "yes\n", args...)
		noSecret(t, out, errOut)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		if !strings.Contains(out, fingerprint(srv)) || !strings.Contains(out, "[host_key_changed]") {
			t.Errorf("%v: stdout lacks the presented fingerprint %s and [host_key_changed]:\n%s", args, fingerprint(srv), out)
		}
		if !strings.Contains(out, ssh.FingerprintSHA256(impostor)) {
			t.Errorf("%v: stdout lacks the recorded fingerprint %s:\n%s", args, ssh.FingerprintSHA256(impostor), out)
		}
		if strings.Contains(out, "adding it to known_hosts") || strings.Contains(out, "added") || strings.Contains(out, "authenticated") {
			t.Errorf("%v: a changed key was accepted:\n%s", args, out)
		}
	}
	if kh, err := os.ReadFile(s.knownHosts); err != nil || string(kh) != recorded {
		t.Errorf("known_hosts changed (err %v):\n%s", err, kh)
	}
	if n := srv.PasswordAttempts(); n != 0 {
		t.Errorf("the password was sent %d times to a host with a changed key", n)
	}
	s.noCommands(t)
}

// TestCheckSSHRejectedPasswordStaysSecret: a password the MMP rejects fails
// the check with the auth class, and the password is never printed.
func TestCheckSSHRejectedPasswordStaysSecret(t *testing.T) {
	s := newSite(t, siteOptions{bridges: []string{"wb1"}})
	srv := s.servers["wb1"]
	if err := os.MkdirAll(s.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.knownHosts, []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(mmptest.Faults{RejectAuth: true})

	code, out, errOut := run(t, "check", "--config", s.config, "--ssh")
	noSecret(t, out, errOut)
	if code != 1 || !strings.Contains(out, "[auth]") {
		t.Errorf("rejected password: exit %d, want 1 with [auth]\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if srv.PasswordAttempts() == 0 {
		t.Error("no password was tried; the test proves nothing")
	}
	s.noCommands(t)
}

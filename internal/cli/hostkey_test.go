package cli

import (
	"net"
	"os"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/mmp/mmptest"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func newHostKey(t *testing.T) ssh.Signer {
	t.Helper()
	s, _, err := mmptest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// trusted reports whether the site's known_hosts trusts key for srvAddr.
func trusted(t *testing.T, s *mmpSite, addr string, key ssh.PublicKey) bool {
	t.Helper()
	if _, err := os.Stat(s.knownHosts); os.IsNotExist(err) {
		return false
	}
	check, err := knownhosts.New(s.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return check(addr, tcp, key) == nil
}

// TestAcceptHostKeyRefusesADifferentKey is trust on first use against a
// man in the middle who appears between the run that showed the key and
// the run that accepts it: the MMP presents key A on the first connection
// and key B on every later one. The operator compares A, accepts it by its
// fingerprint, and B must not be written. Before the fix,
// --accept-new-host-keys wrote whatever key the second run's connection
// presented, without asking.
func TestAcceptHostKeyRefusesADifferentKey(t *testing.T) {
	mitm := newHostKey(t)
	s := newSite(t, siteOptions{bridges: []string{"wb1"}, laterHostKeys: []ssh.Signer{mitm}})
	srv := s.servers["wb1"]
	shown := fingerprint(srv)

	code, out, errOut := run(t, "check", "--config", s.config, "--ssh")
	if code != 1 || !strings.Contains(out, shown) {
		t.Fatalf("first look: exit %d, want 1 showing %s\nstdout:\n%s\nstderr:\n%s", code, shown, out, errOut)
	}

	code, out, errOut = run(t, "check", "--config", s.config, "--ssh", "--accept-host-key", "wb1="+shown)
	noSecret(t, out, errOut)
	if code != 1 || !strings.Contains(out, "NOT the "+shown+" you accepted") || !strings.Contains(errOut, "nothing recorded") {
		t.Errorf("accepting %s while %s is presented: exit %d, want 1 refusing it\nstdout:\n%s\nstderr:\n%s",
			shown, ssh.FingerprintSHA256(mitm.PublicKey()), code, out, errOut)
	}
	// The old flag, without an answer on stdin, records nothing either.
	code, out, errOut = run(t, "check", "--config", s.config, "--ssh", "--accept-new-host-keys")
	if code != 1 || !strings.Contains(out, "not added") {
		t.Errorf("--accept-new-host-keys without an answer: exit %d, want 1 adding nothing\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if trusted(t, s, srv.Addr(), mitm.PublicKey()) {
		t.Fatal("known_hosts trusts the key the operator never accepted")
	}
	if kh, err := os.ReadFile(s.knownHosts); err == nil && len(kh) > 0 {
		t.Errorf("known_hosts written:\n%s", kh)
	}
	if n := srv.PasswordAttempts(); n != 0 {
		t.Errorf("the password was sent %d times to an unverified host", n)
	}
	s.noCommands(t)
}

// TestAcceptHostKeyByFingerprint: the fingerprint named on the command
// line is what gets trusted, with no question asked.
func TestAcceptHostKeyByFingerprint(t *testing.T) {
	s := newSite(t, siteOptions{bridges: []string{"wb1", "wb2"}})
	wb1, wb2 := s.servers["wb1"], s.servers["wb2"]
	code, out, errOut := run(t, "check", "--config", s.config, "--ssh", "--accept-host-key", "wb1="+fingerprint(wb1))
	noSecret(t, out, errOut)
	// wb2 was not named: shown, refused, not written.
	if code != 1 || !strings.Contains(out, "UNKNOWN host key with the fingerprint you accepted") ||
		!strings.Contains(out, "added; then: host key trusted, authenticated") || !strings.Contains(errOut, "1 of 2 MMPs failed") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !trusted(t, s, wb1.Addr(), wb1.HostKey()) || trusted(t, s, wb2.Addr(), wb2.HostKey()) {
		t.Error("known_hosts should trust wb1's key, and only it")
	}
	// Naming a fingerprint that differs from what known_hosts now trusts
	// is a mistake worth failing on.
	other := ssh.FingerprintSHA256(newHostKey(t).PublicKey())
	code, out, _ = run(t, "check", "--config", s.config, "--ssh", "--accept-host-key", "wb1="+other, "--accept-host-key", "wb2="+fingerprint(wb2))
	if code != 1 || !strings.Contains(out, "not the "+other+" you gave") || !trusted(t, s, wb2.Addr(), wb2.HostKey()) {
		t.Errorf("exit %d\nstdout:\n%s", code, out)
	}
}

// TestAcceptNewHostKeysWritesTheKeyShown: the interactive path records the
// key of the connection whose fingerprint it showed, never one a later
// connection presents (here the check's own second connection, which then
// fails as a changed key).
func TestAcceptNewHostKeysWritesTheKeyShown(t *testing.T) {
	mitm := newHostKey(t)
	s := newSite(t, siteOptions{bridges: []string{"wb1"}, laterHostKeys: []ssh.Signer{mitm}})
	srv := s.servers["wb1"]
	code, out, errOut := runIn(t, "yes\n", "check", "--config", s.config, "--ssh", "--accept-new-host-keys")
	if code != 1 || !strings.Contains(out, fingerprint(srv)+": UNKNOWN host key. Compare it") ||
		!strings.Contains(out, "added; then:") || !strings.Contains(out, "[host_key_changed]") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !trusted(t, s, srv.Addr(), srv.HostKey()) || trusted(t, s, srv.Addr(), mitm.PublicKey()) {
		t.Error("known_hosts does not hold exactly the key shown")
	}
	// Anything but yes adds nothing.
	s2 := newSite(t, siteOptions{bridges: []string{"wb1"}})
	code, out, _ = runIn(t, "y\n", "check", "--config", s2.config, "--ssh", "--accept-new-host-keys")
	if code != 1 || !strings.Contains(out, "not added") || trusted(t, s2, s2.servers["wb1"].Addr(), s2.servers["wb1"].HostKey()) {
		t.Errorf("answer y: exit %d\nstdout:\n%s", code, out)
	}
}

func TestAcceptHostKeyUsage(t *testing.T) {
	s := newSite(t, siteOptions{bridges: []string{"wb1"}})
	fp := fingerprint(s.servers["wb1"])
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--accept-host-key", "wb1=" + fp}, "need --ssh"},
		{[]string{"--ssh", "--accept-host-key", "wb1"}, "want NAME=SHA256:"},
		{[]string{"--ssh", "--accept-host-key", "wb1=MD5:aa:bb"}, "SHA256:<base64>"},
		{[]string{"--ssh", "--accept-host-key", "wb9=" + fp}, "no web bridge of that name"},
		{[]string{"--ssh", "--accept-host-key", "wb1=" + fp, "--accept-host-key", "wb1=" + fp}, "given twice"},
	} {
		code, out, errOut := run(t, append([]string{"check", "--config", s.config}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 with %q\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.want, out, errOut)
		}
	}
	s.noCommands(t)
}

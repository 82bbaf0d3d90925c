package harness

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHD is a real OpenSSH sshd on loopback, standing in for the MMPs: it
// runs ForceCommand for every session, whatever the client asked, and
// accepts only ClientKeyFile's key for the current user.
type SSHD struct {
	Dir     string
	Addrs   []string // one 127.0.0.1 port per listener
	HostKey ssh.PublicKey
	// HostKeys are every host key sshd offers: HostKey (ed25519) first,
	// then the RSA key when SSHDOptions.RSAHostKey asked for one.
	HostKeys      []ssh.PublicKey
	ClientKeyFile string // an unencrypted OpenSSH private key it accepts
	User          string
	Process       *Process
}

// SSHDOptions configure StartSSHD.
type SSHDOptions struct {
	// Dir holds the keys and sshd_config; the ForceCommand script may
	// live there too. "" makes a temporary one.
	Dir string
	// Listeners is the number of loopback ports (default 1), e.g. one per MMP.
	Listeners int
	// ForceCommand is the program every session runs; the client's command
	// is in $SSH_ORIGINAL_COMMAND.
	ForceCommand string
	// RSAHostKey adds an RSA host key beside the ed25519 one, so a client
	// can be made to ask for a key sshd does not prefer.
	RSAHostKey bool
}

// StartSSHD starts sshd -D with a fresh ed25519 host key and client key and
// waits until every listener accepts connections. A missing sshd skips the
// test, or fails it under CI. It is killed at the end of the test.
func StartSSHD(t testing.TB, opts SSHDOptions) *SSHD {
	t.Helper()
	bin := Need(t, "sshd")
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// sshd running as root needs its privilege separation folder,
		// which the init system normally creates.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("creating /run/sshd: %v", err)
		}
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Listeners <= 0 {
		opts.Listeners = 1
	}
	s := &SSHD{Dir: opts.Dir, User: u.Username}
	path := func(name string) string { return filepath.Join(s.Dir, name) }
	hostFile := path("host_ed25519")
	s.HostKey = WriteKey(t, hostFile)
	s.HostKeys = []ssh.PublicKey{s.HostKey}
	s.ClientKeyFile = path("client_ed25519")
	client := WriteKey(t, s.ClientKeyFile)
	if err := os.WriteFile(path("authorized_keys"), ssh.MarshalAuthorizedKey(client), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := []string{"HostKey " + hostFile}
	if opts.RSAHostKey {
		rsaFile := path("host_rsa")
		s.HostKeys = append(s.HostKeys, writeRSAKey(t, rsaFile))
		conf = append(conf, "HostKey "+rsaFile)
	}
	conf = append(conf,
		"PidFile "+path("sshd.pid"),
		"AuthorizedKeysFile "+path("authorized_keys"),
		"StrictModes no",
		"UsePAM no",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"AllowUsers "+s.User,
		"ForceCommand "+opts.ForceCommand,
		"PrintMotd no",
		"LogLevel VERBOSE",
	)
	for range opts.Listeners {
		a := net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
		s.Addrs = append(s.Addrs, a)
		conf = append(conf, "ListenAddress "+a)
	}
	if err := os.WriteFile(path("sshd_config"), []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Process = Start(t, nil, bin, "-D", "-e", "-f", path("sshd_config"))
	for _, a := range s.Addrs {
		WaitListening(t, s.Process, "sshd", a, 20*time.Second)
	}
	return s
}

// WriteKey writes a new unencrypted ed25519 private key in OpenSSH form to
// file and returns its public key.
func WriteKey(t testing.TB, file string) ssh.PublicKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return writeKey(t, file, priv)
}

// rsaKey is generated once per test binary: 2048-bit RSA key generation
// takes seconds on a loaded machine.
var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// writeRSAKey writes the test binary's RSA private key in OpenSSH form to
// file and returns its public key.
func writeRSAKey(t testing.TB, file string) ssh.PublicKey {
	t.Helper()
	priv, err := rsaKey()
	if err != nil {
		t.Fatal(err)
	}
	return writeKey(t, file, priv)
}

// writeKey writes priv unencrypted in OpenSSH form to file and returns its
// public key.
func writeKey(t testing.TB, file string, priv crypto.Signer) ssh.PublicKey {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// WaitListening polls until addr accepts TCP connections, failing the test
// if p exits first or timeout passes.
func WaitListening(t testing.TB, p *Process, name, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-p.Done():
			t.Fatalf("%s exited before listening on %s:\n%s", name, addr, p.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening on %s after %s:\n%s", name, addr, timeout, p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

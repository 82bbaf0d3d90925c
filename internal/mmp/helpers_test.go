package mmp

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/pem"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/mmp/mmptest"
)

// testPassword is distinctive so that a leak into an error or a log line
// is found by a plain substring search.
const testPassword = "Tr0ub4dor-s3cr3t-9f2c"

// testLogger logs at debug level into a buffer the test can search.
func testLogger() (*slog.Logger, *harness.Buffer) {
	buf := &harness.Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// fastOptions are test options: short timeouts, no pacing.
func fastOptions(knownHosts string) Options {
	return Options{
		KnownHostsFile: knownHosts,
		DialTimeout:    5 * time.Second,
		CommandTimeout: 5 * time.Second,
		MinInterval:    -1,
	}
}

func newTestClient(t *testing.T, opts Options, auth Auth) (*Client, *harness.Buffer) {
	t.Helper()
	logger, buf := testLogger()
	c, err := NewClient(opts, auth, logger)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, buf
}

func startMMP(t *testing.T, cfg mmptest.ServerConfig) *mmptest.Server {
	t.Helper()
	s, err := mmptest.NewServer(cfg)
	if err != nil {
		t.Fatalf("starting fake MMP: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing fake MMP: %v", err)
		}
	})
	return s
}

// writeFile writes content to name in a fresh temp dir and returns the path.
func writeFile(t *testing.T, name, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeKnownHosts(t *testing.T, lines ...string) string {
	t.Helper()
	return writeFile(t, "known_hosts", strings.Join(lines, "\n")+"\n", 0o600)
}

// newKey returns a fresh ed25519 signer and its private key.
func newKey(t *testing.T) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	s, priv, err := mmptest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

// writePrivateKey writes priv as an OpenSSH private key file, encrypted
// when passphrase is non-empty.
func writePrivateKey(t *testing.T, priv ed25519.PrivateKey, passphrase string) string {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "leakwatch test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "leakwatch test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "id_ed25519", string(pem.EncodeToMemory(block)), 0o600)
}

// hashedKnownHostsLine builds a hashed known_hosts line the way OpenSSH
// does: |1|base64(salt)|base64(HMAC-SHA1(key=salt, host)), where host is
// "[host]:port" for a port other than 22. Written here rather than taken
// from knownhosts so that the test checks the library against the format.
func hashedKnownHostsLine(t *testing.T, addr string, key ssh.PublicKey) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	name := host
	if port != "22" {
		name = "[" + host + "]:" + port
	}
	salt := make([]byte, sha1.Size)
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha1.New, salt)
	mac.Write([]byte(name))
	enc := base64.StdEncoding
	return "|1|" + enc.EncodeToString(salt) + "|" + enc.EncodeToString(mac.Sum(nil)) + " " +
		key.Type() + " " + enc.EncodeToString(key.Marshal())
}

// assertNoSecret fails if any of texts contains a secret.
func assertNoSecret(t *testing.T, secret string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("secret leaked into %q", s)
		}
	}
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

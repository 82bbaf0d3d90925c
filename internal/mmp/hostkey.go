package mmp

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ValidateFingerprint reports whether fp is a host key fingerprint in the
// form ssh-keygen -l prints: "SHA256:" followed by unpadded base64 of a
// SHA-256 digest.
func ValidateFingerprint(fp string) error {
	b64, ok := strings.CutPrefix(fp, "SHA256:")
	if !ok {
		return fmt.Errorf("fingerprint %q: want the form SHA256:<base64> as printed by ssh-keygen -l", fp)
	}
	// 32 bytes encode to 43 characters of unpadded base64.
	if b64 = strings.TrimRight(b64, "="); len(b64) != 43 {
		return fmt.Errorf("fingerprint %q: SHA256 digest has the wrong length", fp)
	}
	return nil
}

// normalizeFingerprint drops base64 padding, which ssh-keygen omits but
// some tools print.
func normalizeFingerprint(fp string) string { return strings.TrimRight(fp, "=") }

// knownHostsDB is the parsed known_hosts file, read afresh for every
// connection so that AddKnownHost and the operator's edits take effect
// without a restart.
type knownHostsDB struct {
	callback ssh.HostKeyCallback
}

// loadKnownHosts reads path. An empty path or a missing file is an empty
// database: every host is then unknown unless its fingerprint is pinned.
func loadKnownHosts(path string) (*knownHostsDB, error) {
	empty := &knownHostsDB{callback: func(string, net.Addr, ssh.PublicKey) error {
		return &knownhosts.KeyError{}
	}}
	if path == "" {
		return empty, nil
	}
	cb, err := knownhosts.New(path)
	if errors.Is(err, os.ErrNotExist) {
		return empty, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading known_hosts %s: %w", path, err)
	}
	return &knownHostsDB{callback: cb}, nil
}

// khVerdict is what known_hosts says about one key for one address.
type khVerdict int

const (
	khKnown khVerdict = iota
	khUnknown
	khChanged
	khRevoked
)

// lookup checks key against known_hosts for address (host:port). want
// lists the fingerprints recorded for the address when the key differs.
func (db *knownHostsDB) lookup(address string, key ssh.PublicKey) (khVerdict, []string, error) {
	err := db.callback(address, placeholderRemote, key)
	var keyErr *knownhosts.KeyError
	var revErr *knownhosts.RevokedError
	switch {
	case err == nil:
		return khKnown, nil, nil
	case errors.As(err, &revErr):
		return khRevoked, nil, nil
	case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
		return khUnknown, nil, nil
	case errors.As(err, &keyErr):
		want := make([]string, 0, len(keyErr.Want))
		for _, k := range keyErr.Want {
			want = append(want, ssh.FingerprintSHA256(k.Key))
		}
		return khChanged, want, nil
	default:
		return 0, nil, fmt.Errorf("checking known_hosts: %w", err)
	}
}

// placeholderRemote satisfies knownhosts, which parses the remote address
// even though it matches on the hostname we pass.
var placeholderRemote = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}

// probeKey is a key no known_hosts file contains; looking it up returns
// the keys recorded for an address.
var probeKey = sync.OnceValue(func() ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("generating ed25519 key: %v", err))
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(fmt.Sprintf("wrapping ed25519 key: %v", err))
	}
	return k
})

// defaultHostKeyAlgorithms is OpenSSH's client preference for plain host
// keys. x/crypto prefers RSA and ECDSA over ed25519, so without this a
// fingerprint pinned from `ssh` or `ssh-keyscan` output (ed25519 on any
// recent server) would not match the key a server with several host keys
// presents to us. Host certificates are not used.
var defaultHostKeyAlgorithms = []string{
	ssh.KeyAlgoED25519,
	ssh.KeyAlgoECDSA256,
	ssh.KeyAlgoECDSA384,
	ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512,
	ssh.KeyAlgoRSASHA256,
}

// hostKeyAlgorithms returns the host key algorithms to ask the server
// for. For a host known_hosts lists, they are the recorded key types, so
// that a server holding several host keys presents one we can verify
// rather than one we would reject; otherwise defaultHostKeyAlgorithms.
func (db *knownHostsDB) hostKeyAlgorithms(address string) []string {
	err := db.callback(address, placeholderRemote, probeKey())
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) || len(keyErr.Want) == 0 {
		return defaultHostKeyAlgorithms
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, k := range keyErr.Want {
		if k.Key.Type() == ssh.KeyAlgoRSA {
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
		}
		add(k.Key.Type())
	}
	return algos
}

// hostKeyCheck decides whether to accept key for address. The rules:
//
//   - a key marked @revoked in known_hosts is refused;
//   - with a pinned fingerprint, the key must match the pin, and known_hosts
//     must not record a different key for the address (a contradiction is
//     refused as a changed key); known_hosts need not list the host;
//   - without a pin, known_hosts must record this key for the address.
//
// known reports whether known_hosts lists the key.
func hostKeyCheck(db *knownHostsDB, address, pin string, key ssh.PublicKey) (known bool, err error) {
	fp := ssh.FingerprintSHA256(key)
	verdict, want, err := db.lookup(address, key)
	if err != nil {
		return false, err
	}
	hkErr := &HostKeyError{Address: address, KeyType: key.Type(), Fingerprint: fp, Pinned: pin != ""}
	switch verdict {
	case khRevoked:
		hkErr.Revoked, hkErr.kind = true, ErrHostKeyChanged
		return false, hkErr
	case khChanged:
		hkErr.Want, hkErr.kind = want, ErrHostKeyChanged
		hkErr.Pinned = false // known_hosts, not the pin, disagrees
		return false, hkErr
	}
	if pin != "" {
		if normalizeFingerprint(pin) != fp {
			hkErr.Want, hkErr.kind = []string{pin}, ErrHostKeyChanged
			return verdict == khKnown, hkErr
		}
		return verdict == khKnown, nil
	}
	if verdict == khUnknown {
		hkErr.kind = ErrHostKeyUnknown
		return false, hkErr
	}
	return true, nil
}

// AddKnownHost records key as the host key of t in Options.KnownHostsFile:
// explicit trust on first use, for `leakwatch check --accept-host-key`.
// The host name is hashed as OpenSSH's HashKnownHosts does (ssh-keygen -F
// finds it); the file and its directory are created 0600 and 0700. Adding
// a key already recorded is a no-op. It never replaces a different key
// recorded for the host (ErrHostKeyChanged: the operator removes the old
// line with ssh-keygen -R after checking why it changed), and refuses a
// key that does not match the target's pinned fingerprint.
func (c *Client) AddKnownHost(t Target, key ssh.PublicKey) error {
	path := c.opts.KnownHostsFile
	if path == "" {
		return errors.New("adding host key: no known_hosts file configured")
	}
	addr, err := normalizeAddress(t.Address)
	if err != nil {
		return err
	}
	c.khMu.Lock()
	defer c.khMu.Unlock()

	db, err := loadKnownHosts(path)
	if err != nil {
		return err
	}
	known, err := hostKeyCheck(db, addr, t.Fingerprint, key)
	var hkErr *HostKeyError
	switch {
	case known && err == nil:
		return nil
	case errors.As(err, &hkErr) && errors.Is(err, ErrHostKeyUnknown):
		// The one case we came for.
	case err == nil:
		// Pinned and matching, not yet in known_hosts.
	default:
		return fmt.Errorf("adding host key for %s: %w", addr, err)
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating directory for %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	line := knownhosts.HashHostname(knownhosts.Normalize(addr)) + " " +
		strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))) + "\n"
	if needsNewline(f) {
		line = "\n" + line
	}
	if _, err := io.WriteString(f, line); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	c.logger.Info("recorded SSH host key", "webbridge", t.Name, "address", addr,
		"fingerprint", ssh.FingerprintSHA256(key), "known_hosts", path)
	return nil
}

// needsNewline reports whether f is non-empty and does not end in a
// newline, so that an appended line would glue onto the last one.
func needsNewline(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return false
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], st.Size()-1); err != nil {
		return false
	}
	return last[0] != '\n'
}

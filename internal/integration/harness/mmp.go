package harness

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"
)

// mmpScript stands in for the MMP behind sshd's ForceCommand. One sshd may
// listen on one port per Web Bridge; the script tells them apart by the
// server port in $SSH_CONNECTION. It records every command with the time
// and port, then behaves as the mode file says:
//
//	ok (or none)  `webbridge restart` succeeds and its port is appended to
//	              restart-requests; any other command fails with exit 1
//	failure       prints FAILURE: with exit 0, as a misconfigured MMP does
//	exit3         prints to stdout and stderr and exits 3
//	hang          waits for the release file, or for its folder to vanish
//
// The hang mode polls so that no session child outlives the test: sshd runs
// it in a session of its own that a signal to sshd does not reach.
const mmpScript = `#!/bin/sh
dir='%s'
port=${SSH_CONNECTION##* }
printf '%%s %%s %%s\n' "$(date -u +%%Y-%%m-%%dT%%H:%%M:%%S.%%NZ)" "$port" "$SSH_ORIGINAL_COMMAND" >> "$dir/record"
case "$(cat "$dir/mode" 2>/dev/null)" in
failure) echo "FAILURE: webbridge is not configured"; exit 0 ;;
exit3) echo "partial output"; echo "error detail" >&2; exit 3 ;;
hang)
	i=0
	while [ -d "$dir" ] && [ ! -e "$dir/release" ] && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i+1)); done
	echo "SUCCESS: webbridge restarted late"; exit 0 ;;
esac
case "$SSH_ORIGINAL_COMMAND" in
"webbridge restart")
	printf '%%s\n' "$port" >> "$dir/restart-requests"
	echo "Restarting webbridge..."
	echo "SUCCESS: webbridge restarted" ;;
*)
	echo "FAILURE: unknown command"
	exit 1 ;;
esac
`

// MMP is a real OpenSSH sshd on loopback standing in for the MMPs of one or
// more Web Bridges, one port each, running the stand-in script above.
type MMP struct {
	*SSHD
}

// MMPRecord is one command the stand-in ran.
type MMPRecord struct {
	Time    time.Time
	Port    string
	Command string
}

// MMPOptions configure StartMMP.
type MMPOptions struct {
	// Listeners is the number of MMPs (loopback ports), default 1.
	Listeners int
	// Mode is the stand-in's first mode (see SetMode); "" is "ok".
	Mode string
	// RSAHostKey adds an RSA host key beside the ed25519 one.
	RSAHostKey bool
}

// StartMMP starts sshd with the stand-in script. A missing sshd skips the
// test, or fails it under CI. A hanging command is released before sshd is
// stopped at the end of the test.
func StartMMP(t testing.TB, opts MMPOptions) *MMP {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "mmp.sh")
	if err := os.WriteFile(script, fmt.Appendf(nil, mmpScript, dir), 0o755); err != nil {
		t.Fatal(err)
	}
	m := &MMP{SSHD: &SSHD{Dir: dir}}
	m.SetMode(t, opts.Mode)
	m.SSHD = StartSSHD(t, SSHDOptions{Dir: dir, Listeners: opts.Listeners, ForceCommand: script, RSAHostKey: opts.RSAHostKey})
	// Registered after the start, so it runs first.
	t.Cleanup(func() { _ = os.WriteFile(filepath.Join(dir, "release"), nil, 0o600) })
	return m
}

// SetMode switches the stand-in's behaviour for the next commands: "ok",
// "failure", "exit3" or "hang".
func (m *MMP) SetMode(t testing.TB, mode string) {
	t.Helper()
	if mode == "" {
		mode = "ok"
	}
	if err := os.WriteFile(filepath.Join(m.Dir, "mode"), []byte(mode), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Records returns the commands the stand-in ran, oldest first.
func (m *MMP) Records(t testing.TB) []MMPRecord {
	t.Helper()
	var out []MMPRecord
	for _, line := range readLines(t, filepath.Join(m.Dir, "record")) {
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 {
			t.Fatalf("MMP record line %q has no time, port and command", line)
		}
		ts, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil {
			t.Fatalf("MMP record line %q: %v", line, err)
		}
		out = append(out, MMPRecord{Time: ts, Port: f[1], Command: f[2]})
	}
	return out
}

// Commands returns the commands the stand-in ran, oldest first.
func (m *MMP) Commands(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, r := range m.Records(t) {
		out = append(out, r.Command)
	}
	return out
}

// RestartRequests returns the port of each `webbridge restart` that
// succeeded, oldest first.
func (m *MMP) RestartRequests(t testing.TB) []string {
	t.Helper()
	return readLines(t, filepath.Join(m.Dir, "restart-requests"))
}

// RestartRequestFile is where the stand-in appends the port of each
// `webbridge restart` it answered; a reader must expect a line being written.
func (m *MMP) RestartRequestFile() string { return filepath.Join(m.Dir, "restart-requests") }

// PortOf returns the port of the i-th MMP.
func (m *MMP) PortOf(i int) string {
	_, port, _ := net.SplitHostPort(m.Addrs[i])
	return port
}

// KnownHostsLine is the known_hosts line that trusts the ed25519 host key
// for every MMP address.
func (m *MMP) KnownHostsLine() string {
	return knownhosts.Line(m.Addrs, m.HostKey)
}

// readLines returns the lines of file, none if it does not exist.
func readLines(t testing.TB, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) || len(b) == 0 {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

package cli

import (
	"net"
	"os"
	"strings"
	"testing"
)

// TestDemoOnBusyPort: a port in use exits 1 with an error naming the
// address and the flag (it panicked on a nil *Demo), and leaves no
// temporary folder holding the fake MMP password.
func TestDemoOnBusyPort(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	code, out, errOut := run(t, "demo", "--web.listen-address", addr, "--duration", "1s")
	if code != 1 || !strings.Contains(errOut, addr) || !strings.Contains(errOut, "--web.listen-address") {
		t.Errorf("exit %d, want 1 naming %s and --web.listen-address\nstdout:\n%s\nstderr:\n%s", code, addr, out, errOut)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("the failed demo left %d entries in the temporary folder (%s...)", len(entries), entries[0].Name())
	}
}

// TestDemoSpeedMustBePositive: --speed 0 claimed "0x" and ran at 60x.
func TestDemoSpeedMustBePositive(t *testing.T) {
	for _, v := range []string{"0", "-5", "NaN", "+Inf"} {
		code, out, errOut := run(t, "demo", "--speed", v, "--web.listen-address", "127.0.0.1:0", "--duration", "1s")
		if code != 2 || !strings.Contains(errOut, "--speed") || strings.Contains(out, "speed") {
			t.Errorf("--speed %s: exit %d, want 2 naming --speed before starting\nstdout:\n%s\nstderr:\n%s", v, code, out, errOut)
		}
	}
}

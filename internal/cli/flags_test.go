package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/version"
)

// The tests in this file hold leakwatch to the conventions of Prometheus
// tools: top-level --help and --version, help on stdout with status 0,
// and the exporter-toolkit web flags.

func TestTopLevelVersion(t *testing.T) {
	code, out, errOut := run(t, "--version")
	if code != 0 || out != version.String()+"\n" || errOut != "" {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want 0, %q, nothing", code, out, errOut, version.String()+"\n")
	}
}

func TestTopLevelHelpGoesToStdout(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		code, out, errOut := run(t, arg)
		if code != 0 || !strings.Contains(out, "Commands:") || !strings.Contains(out, "--version") || errOut != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0, the usage, nothing", arg, code, out, errOut)
		}
	}
}

func TestCommandHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"run", "--help"}, {"run", "-h"}, {"help", "run"}} {
		code, out, errOut := run(t, args...)
		if code != 0 || !strings.Contains(out, "Usage: leakwatch run") || !strings.Contains(out, "--web.systemd-socket") || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 0, run's flags, nothing", args, code, out, errOut)
		}
	}
}

func TestMistakesGoToStderr(t *testing.T) {
	code, out, errOut := run(t)
	if code != 2 || out != "" || !strings.Contains(errOut, "Commands:") {
		t.Errorf("no command: exit %d, stdout %q, stderr %q; want 2, nothing, the usage", code, out, errOut)
	}
	code, out, errOut = run(t, "run", "--no-such-flag")
	if code != 2 || out != "" || !strings.Contains(errOut, "unknown flag: --no-such-flag") {
		t.Errorf("bad flag: exit %d, stdout %q, stderr %q; want 2, nothing, the error", code, out, errOut)
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startRun runs `leakwatch run args...` in process until the test ends.
func startRun(t *testing.T, args ...string) *harness.Buffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	logs := &harness.Buffer{}
	wg.Go(func() {
		args := append([]string{"run", "--state-dir", t.TempDir(), "--log.level", "warn"}, args...)
		if code := Main(ctx, args, &Env{Stdout: io.Discard, Stderr: logs, Getenv: func(string) string { return "" }}); code != 0 {
			t.Errorf("run exited %d: %s", code, logs.String())
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return logs
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _ := harness.Get(base + "/-/ready"); code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became ready", base)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunServesOnEveryListenAddress(t *testing.T) {
	a1, a2 := freeAddr(t), freeAddr(t)
	startRun(t, "--web.listen-address", a1, "--web.listen-address="+a2)
	for _, a := range []string{a1, a2} {
		waitReady(t, "http://"+a)
		if code, body := harness.Get("http://" + a + "/metrics"); code != 200 || !strings.Contains(body, "leakwatch_build_info") {
			t.Errorf("%s/metrics: %d", a, code)
		}
	}
}

func TestRunTelemetryPath(t *testing.T) {
	a := freeAddr(t)
	startRun(t, "--web.listen-address", a, "--web.telemetry-path", "/lw/metrics")
	base := "http://" + a
	waitReady(t, base)
	if code, body := harness.Get(base + "/lw/metrics"); code != 200 || !strings.Contains(body, "leakwatch_build_info") {
		t.Errorf("/lw/metrics: %d", code)
	}
	if code, _ := harness.Get(base + "/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics: %d, want 404 once the metrics moved", code)
	}
	if _, page := harness.Get(base + "/"); !strings.Contains(page, `href="/lw/metrics"`) {
		t.Error("the status page does not link the moved metrics")
	}
}

func TestRunSystemdSocketWithoutSystemdIsAClearError(t *testing.T) {
	t.Setenv("LISTEN_FDS", "")
	t.Setenv("LISTEN_PID", "")
	var errb bytes.Buffer
	code := Main(context.Background(), []string{"run", "--state-dir", t.TempDir(), "--web.systemd-socket"},
		&Env{Stdout: io.Discard, Stderr: &errb, Getenv: func(string) string { return "" }})
	if code != 1 || !strings.Contains(errb.String(), "web.systemd_socket: systemd passed no listening socket") {
		t.Errorf("exit %d, stderr %s", code, errb.String())
	}
}

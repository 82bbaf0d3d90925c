//go:build unix

package rotation

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// instance is a leakwatch configuration in a temporary folder: its log
// folder, followed with the pattern logs/*.log, its state folder and the
// URL of its HTTP server on a free loopback port.
type instance struct {
	bin     string
	cfgPath string
	logs    string
	state   string
	url     string
}

// newInstance builds leakwatch and writes an observe-mode configuration
// that follows <dir>/logs/*.log.
func newInstance(t testing.TB) *instance {
	t.Helper()
	dir := t.TempDir()
	in := &instance{
		bin:     harness.Binary(t),
		cfgPath: filepath.Join(dir, "leakwatch.yaml"),
		logs:    filepath.Join(dir, "logs"),
		state:   filepath.Join(dir, "state"),
	}
	if err := os.Mkdir(in.logs, 0o755); err != nil {
		t.Fatal(err)
	}
	port := harness.FreePort(t)
	in.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	// A window is required even in observe mode; nothing here proves a
	// leak (there is no Call Bridge), so no decision is ever taken.
	cfg := fmt.Sprintf(`timezone: UTC
state_dir: %q
web:
  listen_address: "127.0.0.1:%d"
inputs:
  files:
    paths: [%q]
policy:
  mode: observe
  windows: ["Sun 03:00-04:00"]
`, in.state, port, filepath.Join(in.logs, "*.log"))
	if err := os.WriteFile(in.cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return in
}

// start starts `leakwatch run` and waits until it is ready: every file
// present at its start read to its end once.
func (in *instance) start(t testing.TB) *harness.Process {
	t.Helper()
	p := harness.Start(t, nil, in.bin, "run", "--config", in.cfgPath)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := harness.Get(in.url + "/-/ready"); code == 200 {
			return p
		}
		select {
		case <-p.Done():
			t.Fatalf("leakwatch exited while starting:\n%s", p.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("leakwatch not ready within 60s:\n%s", p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scrape is what the tests read from leakwatch's /metrics.
type scrape struct {
	lines     uint64 // leakwatch_lines_total{source="files"}
	stats     uint64 // leakwatch_stats_lines_total{kind="webbridge"}
	malformed uint64 // leakwatch_malformed_lines_total{kind="webbridge"}
	conn      uint64 // cms_webbridge_connections_total{webbridge="cms1"}: c: of the newest Stats line
	hasConn   bool
}

// get scrapes /metrics; ok is false when the server does not answer.
func (in *instance) get() (s scrape, ok bool) {
	code, body := harness.Get(in.url + "/metrics")
	if code != 200 {
		return scrape{}, false
	}
	val := func(series string) (uint64, bool) {
		v, ok := harness.Metric(body, series)
		return uint64(v), ok
	}
	s.lines, _ = val(`leakwatch_lines_total{source="files"}`)
	s.stats, _ = val(`leakwatch_stats_lines_total{kind="webbridge"}`)
	s.malformed, _ = val(`leakwatch_malformed_lines_total{kind="webbridge"}`)
	s.conn, s.hasConn = val(`cms_webbridge_connections_total{webbridge="cms1"}`)
	return s, true
}

// mustGet scrapes /metrics, retrying for up to 10 s.
func (in *instance) mustGet(t testing.TB) scrape {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s, ok := in.get(); ok {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/metrics failed for 10s", in.url)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLines waits until the running leakwatch has counted want lines, and
// fails at once if it counts more.
func (in *instance) waitLines(t testing.TB, want uint64, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last scrape
	for {
		if s, ok := in.get(); ok {
			last = s
			if s.lines > want {
				t.Fatalf("%s: leakwatch counted %d lines, more than the %d written", what, s.lines, want)
			}
			if s.lines == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: leakwatch counted %d of %d lines after 30s", what, last.lines, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

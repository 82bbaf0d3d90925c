//go:build unix

package badinput

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// hostCount is how many distinct hostnames send Web Bridge stats.
const hostCount = 1_000_000

// writeHostnames writes one Stats line for each of hostCount hosts
// h1..h1000000, all stamped at, and returns the file's size.
func writeHostnames(t *testing.T, path string, at time.Time) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	stamp := at.UTC().Format(stampLayout)
	for i := 1; i <= hostCount; i++ {
		fmt.Fprintf(w, "%s h%d webbridge: INFO : [DEBUGGING] Stats %d, c:%d, d:0\n", stamp, i, i%150, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestMillionDistinctHostnames sends Web Bridge stats from a million
// distinct hostnames, with no inventory. Only model.max_discovered (64 by
// default) bridges may appear, the lines of every other host must be
// counted as dropped and logged, and memory must stay bounded; replay must
// hold to the same cap.
func TestMillionDistinctHostnames(t *testing.T) {
	const limit = cluster.DefaultMaxDiscovered // model.max_discovered's default
	dir := t.TempDir()
	logPath := filepath.Join(dir, "cms.log")
	at := time.Now()
	size := writeHostnames(t, logPath, at)
	t.Logf("%d hostnames, %s of stats lines", hostCount, mb(size))

	t.Run("run", func(t *testing.T) {
		// The file appears once leakwatch runs, so that its memory is
		// sampled while it reads the lines.
		live := filepath.Join(t.TempDir(), "cms.log")
		d := startDaemon(t, fmt.Sprintf("inputs:\n  files:\n    paths: [%q]\n", live))
		idle, err := harness.RSS(d.pid())
		if err != nil {
			t.Fatal(err)
		}
		rss := sampleRSS(d.pid())
		started := time.Now()
		if err := os.Link(logPath, live); err != nil {
			t.Fatal(err)
		}
		d.waitMetric(3*time.Minute, `leakwatch_stats_lines_total{kind="webbridge"}`, hostCount)
		peak := rss.Stop(t)
		t.Logf("%d lines digested in %s; RSS idle %s, peak %s", hostCount, time.Since(started).Round(time.Millisecond), mb(idle), mb(peak))
		if peak > rssLimit {
			t.Errorf("RSS peaked at %s, want at most %s", mb(peak), mb(rssLimit))
		}

		body := d.scrape()
		if got, ok := harness.Metric(body, "leakwatch_discovery_dropped_lines_total"); !ok || got != hostCount-limit {
			t.Errorf("leakwatch_discovery_dropped_lines_total = %g (present: %v), want %d", got, ok, hostCount-limit)
		}
		if n := strings.Count(body, "\ncms_webbridge_session_limit{"); n != limit {
			t.Errorf("/metrics has %d web bridges, want the cap, %d", n, limit)
		}
		// The first hosts seen are kept; later ones are not monitored.
		for host, want := range map[string]bool{"h1": true, fmt.Sprintf("h%d", limit): true, fmt.Sprintf("h%d", limit+1): false, "h1000000": false} {
			if _, ok := harness.Metric(body, fmt.Sprintf(`cms_webbridge_sessions{webbridge=%q}`, host)); ok != want {
				t.Errorf("cms_webbridge_sessions for %s present: %v, want %v", host, ok, want)
			}
		}
		if n := len(body); n > 1<<20 {
			t.Errorf("/metrics is %d bytes", n)
		}
		if n := countLines(d.proc.Output(), "discovery cap"); n < 1 || n > 3 {
			t.Errorf("%d log lines about the discovery cap, want a handful (1 to 3)", n)
		}
		d.stop()
	})

	t.Run("replay", func(t *testing.T) {
		cfg := writeReplayConfig(t, dir, "")
		r := runCLI(t, "replay", "--config", cfg, "--format", "json", "--reference-time", at.Add(time.Minute).Format(time.RFC3339), logPath)
		t.Logf("replay: exit %d, peak RSS %s", r.code, mb(r.maxRSS))
		if r.code != 0 {
			t.Fatalf("replay exited %d; stderr:\n%s", r.code, r.stderr)
		}
		rep := parseReport(t, r)
		if len(rep.WebBridges) != limit {
			t.Errorf("replay reports %d web bridges, want the cap, %d", len(rep.WebBridges), limit)
		}
		if rep.Lines.Read != hostCount || rep.Lines.WebBridgeStats != hostCount {
			t.Errorf("lines = %+v, want %d read and webbridge_stats", rep.Lines, hostCount)
		}
		if r.maxRSS > rssLimit {
			t.Errorf("replay RSS peaked at %s, want at most %s", mb(r.maxRSS), mb(rssLimit))
		}
	})
}

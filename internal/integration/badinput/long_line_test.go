//go:build unix

package badinput

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// longLine is the size of the hostile line: far above max_line_bytes
// (64 KiB) and replay's 4 MiB buffer, and near rssLimit, so that buffering
// it would show in the process's memory.
const longLine = 50 << 20

// replayReport is the part of `leakwatch replay --format json` the tests
// read.
type replayReport struct {
	WebBridges map[string]struct {
		Sessions       int64 `json:"sessions"`
		Disconnections int64 `json:"disconnections"`
	} `json:"webbridges"`
	CallBridges map[string]json.RawMessage `json:"callbridges"`
	Lines       struct {
		Read            uint64 `json:"read"`
		WebBridgeStats  uint64 `json:"webbridge_stats"`
		CallBridgeStats uint64 `json:"callbridge_stats"`
		Malformed       uint64 `json:"malformed"`
	} `json:"lines"`
}

func parseReport(t *testing.T, r cliResult) replayReport {
	t.Helper()
	var rep replayReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("replay output is not the JSON report: %v\nstdout: %.2000s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return rep
}

// writeLongLine appends n bytes of 'x' to f in 1 MiB writes, no newline.
func writeLongLine(t *testing.T, f *os.File, n int) {
	t.Helper()
	piece := bytes.Repeat([]byte{'x'}, 1<<20)
	for n > 0 {
		w := min(n, len(piece))
		if _, err := f.Write(piece[:w]); err != nil {
			t.Fatal(err)
		}
		n -= w
	}
}

func mustWrite(t *testing.T, f *os.File, s string) {
	t.Helper()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestFiftyMegabyteLineWithoutNewline appends a 50 MB line without a
// newline to a followed file, then its newline and a valid Stats line.
// leakwatch must keep running with bounded memory, count the cut line
// (truncated_line), and read the Stats line after it. Replay must get
// through such files too, whether the long line ends or the file does.
func TestFiftyMegabyteLineWithoutNewline(t *testing.T) {
	t.Run("run", func(t *testing.T) {
		dir := t.TempDir()
		logPath := filepath.Join(dir, "cms.log")
		now := time.Now()
		if err := os.WriteFile(logPath, []byte(wbLine(now, "cms1", 7, 100, 93)), 0o644); err != nil {
			t.Fatal(err)
		}
		d := startDaemon(t, fmt.Sprintf("inputs:\n  files:\n    paths: [%q]\n", logPath))
		const sessions = `cms_webbridge_sessions{webbridge="cms1"}`
		const cut = `leakwatch_input_errors_total{reason="truncated_line",source="files"}`
		const lines = `leakwatch_lines_total{source="files"}`
		d.waitMetric(20*time.Second, sessions, 7)
		idle, err := harness.RSS(d.pid())
		if err != nil {
			t.Fatal(err)
		}

		rss := sampleRSS(d.pid())
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		writeLongLine(t, f, longLine)
		// The head of the line is delivered and the cut counted as soon as
		// the line passes max_line_bytes, before its newline exists.
		d.waitMetric(30*time.Second, cut, 1)
		d.waitMetric(10*time.Second, lines, 2)
		mustWrite(t, f, "\n"+wbLine(time.Now(), "cms1", 42, 150, 108))
		d.waitMetric(30*time.Second, sessions, 42)
		peak := rss.Stop(t)
		t.Logf("RSS idle %s, peak %s while following a %s line", mb(idle), mb(peak), mb(longLine))
		if peak > rssLimit {
			t.Errorf("RSS peaked at %s while following a %s line, want at most %s", mb(peak), mb(longLine), mb(rssLimit))
		}

		body := d.scrape()
		for series, want := range map[string]float64{
			cut:   1, // one line cut, however many bytes were dropped
			lines: 3, // the first line, the head of the long one, the last
			`leakwatch_stats_lines_total{kind="webbridge"}`:     2,
			`leakwatch_malformed_lines_total{kind="webbridge"}`: 0,
			`cms_webbridge_connections_total{webbridge="cms1"}`: 150,
		} {
			if got, ok := harness.Metric(body, series); !ok || got != want {
				t.Errorf("%s = %g (present: %v), want %g", series, got, ok, want)
			}
		}
		if n := countLines(d.proc.Output(), "max_line_bytes"); n != 1 {
			t.Errorf("the cut line was logged %d times, want once (a line naming max_line_bytes)", n)
		}
		d.stop()
	})

	t.Run("replay", func(t *testing.T) {
		dir := t.TempDir()
		cfg := writeReplayConfig(t, dir, "")
		t0 := time.Date(2026, 3, 18, 15, 0, 0, 0, time.UTC)
		ref := t0.Add(time.Hour).Format(time.RFC3339)

		// The long line ends, and a Stats line follows it.
		ended := filepath.Join(dir, "ended.log")
		f, err := os.Create(ended)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, f, wbLine(t0, "cms1", 7, 100, 93))
		writeLongLine(t, f, longLine)
		mustWrite(t, f, "\n"+wbLine(t0.Add(time.Minute), "cms1", 42, 150, 108))
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		// The file ends inside the long line.
		open := filepath.Join(dir, "open.log")
		if f, err = os.Create(open); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, f, wbLine(t0, "cms1", 7, 100, 93))
		writeLongLine(t, f, longLine)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			file                 string
			read, stats          uint64
			sessions, lastDiscon int64
		}{
			{ended, 3, 2, 42, 108},
			{open, 2, 1, 7, 93},
		} {
			t.Run(filepath.Base(tc.file), func(t *testing.T) {
				r := runCLI(t, "replay", "--config", cfg, "--format", "json", "--reference-time", ref, tc.file)
				t.Logf("replay of %s: exit %d, peak RSS %s", filepath.Base(tc.file), r.code, mb(r.maxRSS))
				if r.code != 0 {
					t.Fatalf("replay exited %d, want 0; stderr:\n%s", r.code, r.stderr)
				}
				rep := parseReport(t, r)
				if rep.Lines.Read != tc.read || rep.Lines.WebBridgeStats != tc.stats || rep.Lines.Malformed != 0 {
					t.Errorf("lines = %+v, want read %d, webbridge_stats %d, malformed 0", rep.Lines, tc.read, tc.stats)
				}
				wb, ok := rep.WebBridges["cms1"]
				if !ok || wb.Sessions != tc.sessions || wb.Disconnections != tc.lastDiscon {
					t.Errorf("webbridges[cms1] = %+v (present: %v), want sessions %d, disconnections %d", wb, ok, tc.sessions, tc.lastDiscon)
				}
				if r.maxRSS > rssLimit {
					t.Errorf("replay RSS peaked at %s, want at most %s", mb(r.maxRSS), mb(rssLimit))
				}
			})
		}
	})
}

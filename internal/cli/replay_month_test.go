package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/replay"
	"github.com/leakwatch/leakwatch/internal/sim"
)

// monthStart is Monday 2 March 2026, 00:00 UTC.
var monthStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// monthDays is the span replayed: a month, or under the race detector
// (what CI runs the unit tests with) the first ten days, which still hold
// every lie and a week after the last.
func monthDays() int {
	if raceDetector {
		return 10
	}
	return 30
}

// writeMonth writes a month of the simulated cluster's syslog with the
// hazards given to path.
func writeMonth(t *testing.T, path string, hz sim.Hazards) {
	t.Helper()
	s, err := sim.New(sim.Config{
		Seed:  2026,
		Start: monthStart,
		WebBridges: []sim.Bridge{
			{Name: "cms-wb1", Host: "cms-wb1"}, {Name: "cms-wb2", Host: "cms-wb2"}, {Name: "cms-wb3", Host: "cms-wb3"},
		},
		CallBridges: []string{"cms-cb1", "cms-cb2"},
		OtherHosts:  []string{},
		// Slow enough that no bridge reaches its limit within the month:
		// the what-if takes the sessions a restart frees off the logged
		// counts, which stop growing at the limit.
		Leak:          map[string]float64{"cms-wb1": 0.16, "cms-wb2": 0.12, "cms-wb3": 0.08},
		InitialLeak:   map[string]int{"cms-wb1": 9},
		NoisePerStats: -1,
		Hazards:       hz,
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	s.Advance(time.Duration(monthDays())*24*time.Hour, func(l []byte) {
		w.Write(l)
		w.WriteByte('\n')
	})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// replayRestarts runs `leakwatch replay --format json` on path and returns
// the what-if's restarts.
func replayRestarts(t *testing.T, cfg, path string) []replay.RestartReport {
	t.Helper()
	end := monthStart.Add(time.Duration(monthDays()) * 24 * time.Hour).Format(time.RFC3339)
	code, out, errOut := run(t, "replay", "--config", cfg, "--format", "json", "--reference-time", end, path)
	if code != 0 {
		t.Fatalf("replay %s: exit %d: %s", filepath.Base(path), code, errOut)
	}
	var rep replay.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("replay %s: %v\n%s", filepath.Base(path), err, out)
	}
	return rep.Restarts
}

// TestReplayMonthOfLiesOrdersTheCleanRestarts is issue 9's acceptance test:
// a month with a full inventory, one stray lab host, one line stamped a day
// ahead and one Call Bridge silent for two hours orders exactly the restarts
// that the same month without them orders.
func TestReplayMonthOfLiesOrdersTheCleanRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and replays two months of syslog")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "leakwatch.yaml")
	if err := os.WriteFile(cfg, []byte(`timezone: UTC
inventory:
  webbridges:
    - name: cms-wb1
    - name: cms-wb2
    - name: cms-wb3
  callbridges:
    - name: cms-cb1
    - name: cms-cb2
policy:
  threshold: 10
  sustain: 1h
  windows: ["daily 01:00-05:00"]
  max_active_sessions: 10
  cooldown: 20h
  max_per_day: 3
  # A bridge needing a restart every few days is not flapping here.
  flap_max: 100
`), 0o644); err != nil {
		t.Fatal(err)
	}
	day := func(d, h int) time.Time {
		return monthStart.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
	}
	lies := sim.Hazards{
		// One line of cms-wb1 stamped a day ahead, on day 4 at noon.
		Misstamps: []sim.Misstamp{{Host: "cms-wb1", At: day(3, 12), Offset: 24 * time.Hour}},
		// A listed Call Bridge silent for two hours one afternoon.
		Silences: []sim.Silence{{Host: "cms-cb2", From: day(2, 13), To: day(2, 15)}},
	}
	// Three lines from a lab host, once.
	lies.Strays = []sim.Stray{{Host: "cms-lab1", From: day(2, 10), To: day(2, 10).Add(3 * time.Minute)}}
	clean, lying := filepath.Join(dir, "clean.log"), filepath.Join(dir, "lies.log")
	writeMonth(t, clean, sim.Hazards{})
	writeMonth(t, lying, lies)

	want := replayRestarts(t, cfg, clean)
	got := replayRestarts(t, cfg, lying)
	if len(want) < monthDays()/2 {
		t.Fatalf("the clean month orders only %d restarts: the test proves little", len(want))
	}
	key := func(r replay.RestartReport) string { return r.Time + " " + r.WebBridge }
	if !slices.EqualFunc(want, got, func(a, b replay.RestartReport) bool { return key(a) == key(b) }) {
		var w, g []string
		for _, r := range want {
			w = append(w, key(r))
		}
		for _, r := range got {
			g = append(g, key(r))
		}
		t.Fatalf("the month with lies ordered %d restarts, the clean month %d:\n lies:  %q\n clean: %q", len(got), len(want), g, w)
	}
	t.Logf("both months order the same %d restarts", len(want))
}

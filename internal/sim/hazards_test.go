package sim

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/logline"
)

var hazardStart = time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)

// run returns the lines cfg gives over d, and the Sim.
func run(t *testing.T, cfg Config, d time.Duration) ([]string, *Sim) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	s.Advance(d, func(l []byte) { lines = append(lines, string(l)) })
	return lines, s
}

type parsedStats struct {
	host string
	at   time.Time
	line logline.Line
}

func parseAll(t *testing.T, lines []string) []parsedStats {
	t.Helper()
	p := logline.NewParser(time.UTC, hazardStart)
	var out []parsedStats
	for _, l := range lines {
		var pl logline.Line
		switch p.Parse([]byte(l), &pl) {
		case logline.WebBridgeStats, logline.CallBridgeStats:
			out = append(out, parsedStats{host: string(pl.Host), at: pl.Time, line: pl})
		case logline.Malformed:
			t.Fatalf("simulator wrote a malformed stats line (%s): %s", pl.Reason, l)
		}
	}
	return out
}

// TestHazardsLeaveTheHistoryAlone checks that duplicates and strays only add
// lines: with them removed, the output is byte for byte the clean one.
func TestHazardsLeaveTheHistoryAlone(t *testing.T) {
	base := Config{Seed: 5, Start: hazardStart, Leak: map[string]float64{"cms2": 3}, NoisePerStats: 2}
	clean, _ := run(t, base, 6*time.Hour)

	dup := base
	dup.Hazards.Duplicate = 0.1
	got, _ := run(t, dup, 6*time.Hour)
	var dedup []string
	twice := 0
	j := 0
	for _, l := range got {
		if j < len(clean) && l == clean[j] {
			dedup = append(dedup, l)
			j++
			continue
		}
		if len(dedup) == 0 || l != dedup[len(dedup)-1] {
			t.Fatalf("line %q is neither the next clean line nor a duplicate", l)
		}
		twice++
	}
	if j != len(clean) {
		t.Fatalf("only %d of %d clean lines came through", j, len(clean))
	}
	if twice == 0 {
		t.Fatal("no line was duplicated")
	}

	stray := base
	stray.Hazards.Strays = []Stray{
		{Host: "cms-lab1", From: hazardStart.Add(time.Hour), To: hazardStart.Add(time.Hour + 3*time.Minute)},
		{Host: "cms-labcb", CallBridge: true, From: hazardStart, To: hazardStart.Add(time.Hour)},
	}
	got, _ = run(t, stray, 6*time.Hour)
	var kept []string
	strays := map[string]int{}
	for _, l := range got {
		if strings.Contains(l, " cms-lab1 ") || strings.Contains(l, " cms-labcb ") {
			strays[strings.Fields(l)[4]]++
			continue
		}
		kept = append(kept, l)
	}
	if strings.Join(kept, "\n") != strings.Join(clean, "\n") {
		t.Fatal("stray hosts changed the cluster's own lines")
	}
	if strays["cms-lab1"] != 3 || strays["cms-labcb"] != 12 {
		t.Fatalf("stray lines per host %v, want 3 Web Bridge lines and 12 Call Bridge reports", strays)
	}
}

// TestSilence checks that a silent host writes no stats, that its Call
// Bridge's report periods go on meanwhile, and that the truth says when it
// last wrote.
func TestSilence(t *testing.T) {
	from, to := hazardStart.Add(time.Hour), hazardStart.Add(2*time.Hour)
	cfg := Config{Seed: 9, Start: hazardStart, NoisePerStats: -1, Hazards: Hazards{
		Silences: []Silence{{Host: "cms4", From: from, To: to}, {Host: "cms2", From: from, To: to}},
	}}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	s.Advance(90*time.Minute, func(l []byte) { lines = append(lines, string(l)) })
	tr := s.Truth()
	if w, _ := tr.WebBridge("cms2"); !w.StatsWritten || w.LastStats.After(from) || from.Sub(w.LastStats) > time.Minute {
		t.Fatalf("cms2 truth: last stats %v (written %v), want the last minute before %v", w.LastStats, w.StatsWritten, from)
	}
	if c := tr.CallBridges[1]; c.Host != "cms4" || c.LastReport.After(from) {
		t.Fatalf("cms4 truth %+v: reported during its silence", c)
	}
	s.Advance(2*time.Hour, func(l []byte) { lines = append(lines, string(l)) })
	for _, ps := range parseAll(t, lines) {
		if (ps.host == "cms4" || ps.host == "cms2") && !ps.at.Before(from.Add(-time.Second)) && ps.at.Before(to.Add(-time.Second)) {
			t.Fatalf("%s wrote stats at %v during its silence", ps.host, ps.at)
		}
	}
	if w, _ := s.Truth().WebBridge("cms2"); w.LastStats.Before(to) {
		t.Fatalf("cms2 never wrote again after its silence (last %v)", w.LastStats)
	}
}

// TestHandRestart checks that a hand restart drops the bridge's sessions
// and puts its counters back to zero, so that the next line shows them
// going back.
func TestHandRestart(t *testing.T) {
	var traced []string
	cfg := Config{Seed: 3, Start: hazardStart, NoisePerStats: -1, Leak: map[string]float64{"cms1": 20, "cms2": 20, "cms3": 20},
		Hazards: Hazards{HandRestartsPerDay: 4, Trace: func(at time.Time, what string) { traced = append(traced, what) }}}
	lines, s := run(t, cfg, 48*time.Hour)
	hand := 0
	for _, w := range s.Truth().WebBridges {
		hand += w.HandRestarts
		if w.HandRestarts > w.Restarts {
			t.Fatalf("%s: %d hand restarts of %d", w.Name, w.HandRestarts, w.Restarts)
		}
	}
	if hand < 2 || len(traced) < hand {
		t.Fatalf("%d hand restarts in two days at 4 a day per bridge; traced %q", hand, traced)
	}
	back := 0
	last := map[string]logline.WebBridge{}
	for _, ps := range parseAll(t, lines) {
		if ps.line.Kind != logline.WebBridgeStats {
			continue
		}
		if prev, ok := last[ps.host]; ok && ps.line.WebBridge.Connections < prev.Connections {
			back++
			if ps.line.WebBridge.Connections > 100 {
				t.Fatalf("%s: counters went back to %d, not near zero", ps.host, ps.line.WebBridge.Connections)
			}
		}
		last[ps.host] = ps.line.WebBridge
	}
	if back != hand {
		t.Fatalf("counters went back %d times, %d hand restarts", back, hand)
	}
}

// TestMisstamps checks one-off and random misstamps: the line is the true
// one, with its time off by the offset.
func TestMisstamps(t *testing.T) {
	at := hazardStart.Add(30 * time.Minute)
	cfg := Config{Seed: 4, Start: hazardStart, NoisePerStats: -1, Hazards: Hazards{
		Misstamps: []Misstamp{{Host: "cms3", At: at, Offset: 24 * time.Hour}},
	}}
	lines, _ := run(t, cfg, time.Hour)
	ahead := 0
	for _, ps := range parseAll(t, lines) {
		if ps.at.After(hazardStart.Add(2 * time.Hour)) {
			ahead++
			if ps.host != "cms3" || ps.at.Sub(at) < 24*time.Hour || ps.at.Sub(at) > 24*time.Hour+time.Minute {
				t.Fatalf("misstamped line of %s at %v, want cms3 a day after %v", ps.host, ps.at, at)
			}
		}
	}
	if ahead != 1 {
		t.Fatalf("%d lines stamped ahead, want 1", ahead)
	}

	cfg.Hazards = Hazards{Misstamp: 0.05, MisstampOffsets: []time.Duration{-time.Hour}}
	lines, _ = run(t, cfg, 6*time.Hour)
	var prev = map[string]time.Time{}
	behind := 0
	for _, ps := range parseAll(t, lines) {
		if p, ok := prev[ps.host]; ok && ps.at.Before(p.Add(-30*time.Minute)) {
			behind++
			continue // do not take the misstamped time as the host's clock
		}
		prev[ps.host] = ps.at
	}
	if behind == 0 {
		t.Fatal("no line stamped an hour behind at a 5% misstamp rate")
	}
}

// TestIrregularAndLostReports checks the jitter bounds of Call Bridge
// report intervals and that lost reports leave gaps.
func TestIrregularAndLostReports(t *testing.T) {
	cfg := Config{Seed: 8, Start: hazardStart, NoisePerStats: -1, CallBridges: []string{"cms4"},
		Hazards: Hazards{CBJitter: 2 * time.Minute, CBLoss: 0.2}}
	lines, _ := run(t, cfg, 24*time.Hour)
	var times []time.Time
	for _, ps := range parseAll(t, lines) {
		if ps.line.Kind == logline.CallBridgeStats {
			times = append(times, ps.at)
		}
	}
	short, gaps := 0, 0
	for i := 1; i < len(times); i++ {
		d := times[i].Sub(times[i-1])
		switch {
		case d < time.Minute:
			t.Fatalf("reports %v apart, below 5m - 2×2m", d)
		case d < 4*time.Minute:
			short++
		case d > 9*time.Minute:
			gaps++
		}
	}
	if short == 0 || gaps == 0 || len(times) > 288*9/10 {
		t.Fatalf("%d reports in a day, %d short intervals, %d gaps: jitter or loss missing", len(times), short, gaps)
	}
	if _, err := New(Config{Hazards: Hazards{CBJitter: 3 * time.Minute}}); err == nil {
		t.Fatal("jitter above half the report interval accepted")
	}
}

// TestHazardConfigErrors names each bad hazard field.
func TestHazardConfigErrors(t *testing.T) {
	_, err := New(Config{Hazards: Hazards{
		CBLoss: 2, Duplicate: -1, HandRestartsPerDay: -1,
		Silences:  []Silence{{Host: "nope", From: hazardStart, To: hazardStart}},
		Strays:    []Stray{{From: hazardStart, To: hazardStart.Add(time.Hour)}},
		Misstamps: []Misstamp{{Host: "nope"}},
	}})
	if err == nil {
		t.Fatal("bad hazards accepted")
	}
	for _, want := range []string{"Hazards.CBLoss", "Hazards.Duplicate", "Hazards.HandRestartsPerDay", "Hazards.Silences[0].Host", "Hazards.Silences[0]: To", "Hazards.Strays[0].Host", "Hazards.Misstamps[0].Host"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

package cluster

import (
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/logline"
)

// world is a synthetic one-Web-Bridge cluster with a known leak: each
// minute the bridge reports leak(t)+real(t) sessions; every 5 minutes the
// Call Bridge reports the CMA it saw (the bridge's real sessions plus
// other(t): other bridges' users and desktop clients) and the period's peak.
type world struct {
	start      time.Time
	leak, real func(t time.Time) int64
	other      func(t time.Time) int64
	conn       int64 // the c: counter; a restart sets it back
}

func (w *world) otherAt(t time.Time) int64 {
	if w.other == nil {
		return 0
	}
	return w.other(t)
}

// run feeds the model from from to to.
func (w *world) run(m *Model, from, to time.Time) {
	var peak int64
	for t := from; !t.After(to); t = t.Add(time.Minute) {
		real := w.real(t)
		cma := real + w.otherAt(t)
		peak = max(peak, cma)
		w.conn += 3
		observe(m, &logline.Line{Kind: logline.WebBridgeStats, Host: []byte("wb1"), Time: t,
			WebBridge: logline.WebBridge{Active: w.leak(t) + real, Connections: w.conn, Disconnections: w.conn - real}})
		if t.Sub(w.start)%(5*time.Minute) == 0 {
			observe(m, &logline.Line{Kind: logline.CallBridgeStats, Host: []byte("cb1"), Time: t.Add(time.Second),
				CallBridge: logline.CallBridge{CMA: logline.Pair{Current: cma, Peak: peak}}})
			peak = cma
		}
	}
}

func forecastOf(t *testing.T, m *Model, now time.Time) Forecast {
	t.Helper()
	snap := m.Snapshot(now)
	wb, ok := snap.WebBridge("wb1")
	if !ok {
		t.Fatal("wb1 not in the snapshot")
	}
	return wb.Forecast
}

// steady grows by one session every 1/rate hours from leaked0.
func steady(start time.Time, leaked0 int64, rate float64) func(time.Time) int64 {
	return func(t time.Time) int64 { return leaked0 + int64(rate*t.Sub(start).Hours()) }
}

func none(time.Time) int64 { return 0 }

// office is a weekday-like daily swing: peak from 08:00 to 18:00, nothing
// from 20:00 to 06:00, ramps between.
func office(peak int64) func(time.Time) int64 {
	return func(t time.Time) int64 {
		h := float64(t.Hour()) + float64(t.Minute())/60
		switch {
		case h >= 8 && h < 18:
			return peak
		case h >= 6 && h < 8:
			return int64(float64(peak) * (h - 6) / 2)
		case h >= 18 && h < 20:
			return int64(float64(peak) * (20 - h) / 2)
		}
		return 0
	}
}

func within(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// A steady leak, no load: the rate, the leak now and the time to full are
// the leak's own.
func TestForecastSteadyLeak(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w := &world{start: start, leak: steady(start, 0, 0.5), real: none}
	m := mustModel(t, Options{})
	now := start.Add(72 * time.Hour)
	w.run(m, start, now)
	f := forecastOf(t, m, now)
	if !f.Known {
		t.Fatalf("forecast unknown after 72h: %s", f.Reason)
	}
	if !within(f.Rate, 0.5, 0.01) {
		t.Errorf("rate = %.3f/h, want 0.5/h", f.Rate)
	}
	if !within(f.Leak, 36, 1) {
		t.Errorf("leak now = %.1f, want 36", f.Leak)
	}
	if f.RealPeak > 1 {
		t.Errorf("real peak = %d, want 0 (no real sessions; 1 for a bucket's rounding)", f.RealPeak)
	}
	// The leak reaches 149 at 298h.
	if want := start.Add(298 * time.Hour); absDur(f.Full.Sub(want)) > 3*time.Hour {
		t.Errorf("full at %s, want %s ±3h", f.Full, want)
	}
}

// Real load swings daily and other bridges' users swamp the proof by day (it
// falls to zero), yet the rate is the leak's and the real peak is the
// bridge's own daytime load, give or take a day's growth.
func TestForecastDailyLoadSwing(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // starts by day: the proof must settle
	w := &world{start: start, leak: steady(start, 30, 1), real: office(40), other: office(80)}
	now := start.Add(60 * time.Hour) // Wed 22:00: night
	m := mustModel(t, Options{})
	w.run(m, start, now)
	f := forecastOf(t, m, now)
	if !f.Known || !within(f.Rate, 1, 0.05) {
		t.Fatalf("at 60h: %+v, want a rate of 1/h", f)
	}
	// Real sessions peak at 40; the bound subtracts the leak proven the
	// night before, so up to 12h of growth shows as real.
	if f.RealPeak < 40 || f.RealPeak > 40+13 {
		t.Errorf("real peak = %d, want 40..53", f.RealPeak)
	}
	// Truly full when 30 + t + 40 = 149: at 79h. The forecast must not be
	// later, and errs early by at most the real peak's slack.
	truth := start.Add(79 * time.Hour)
	if f.Full.After(truth.Add(time.Hour)) || f.Full.Before(truth.Add(-14*time.Hour)) {
		t.Errorf("full at %s, want between %s and %s", f.Full, truth.Add(-14*time.Hour), truth)
	}
}

// A restart in the middle: the fast leak before it says nothing about the
// slow one after.
func TestForecastRestartInTheMiddle(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	restart := start.Add(30 * time.Hour)
	before, after := steady(start, 0, 2), steady(restart, 0, 0.5)
	w := &world{start: start, real: none, leak: func(t time.Time) int64 {
		if t.Before(restart) {
			return before(t)
		}
		return after(t)
	}}
	m := mustModel(t, Options{})
	w.run(m, start, restart.Add(-time.Minute))
	w.conn = 0 // the bridge's counters start again
	w.run(m, restart, restart.Add(10*time.Hour))
	f := forecastOf(t, m, restart.Add(10*time.Hour))
	if f.Known {
		t.Fatalf("known 10h after a restart: %+v", f)
	}
	// After a restart the leak starts from nothing: a day of history will do.
	if want := 14 * time.Hour; absDur(f.NeedMore-want) > 10*time.Minute {
		t.Errorf("needs %s more, want %s", f.NeedMore, want)
	}
	now := restart.Add(72 * time.Hour)
	w.run(m, restart.Add(10*time.Hour+time.Minute), now)
	f = forecastOf(t, m, now)
	if !f.Known || !within(f.Rate, 0.5, 0.02) {
		t.Fatalf("rate after the restart = %.3f/h (known %v: %s), want 0.5/h", f.Rate, f.Known, f.Reason)
	}
	if f.Since.Before(restart) {
		t.Errorf("fit starts at %s, before the restart at %s", f.Since, restart)
	}
	if !within(f.Leak, 36, 1) {
		t.Errorf("leak now = %.1f, want 36 (the leak since the restart)", f.Leak)
	}
}

// Too little data: unknown, saying how much more history is needed.
func TestForecastTooLittleData(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w := &world{start: start, leak: steady(start, 0, 3), real: none}
	m := mustModel(t, Options{})
	now := start.Add(10 * time.Hour)
	w.run(m, start, now)
	f := forecastOf(t, m, now)
	if f.Known || f.Growing() {
		t.Fatalf("known after 10h: %+v", f)
	}
	// No restart began this history: a day for the proof to settle, and a
	// day to fit. The first proven sample comes after the 5-minute warm-up.
	if want := 38*time.Hour + 5*time.Minute; absDur(f.NeedMore-want) > 10*time.Minute {
		t.Errorf("needs %s more, want %s", f.NeedMore, want)
	}
	if !strings.Contains(f.Reason, "needs 38h more") {
		t.Errorf("reason %q does not say how much history is missing", f.Reason)
	}
	// Nothing proven at all: the whole minimum is missing.
	empty := mustModel(t, Options{})
	observe(empty, wbLine("wb1", start, 3))
	f = forecastOf(t, empty, start)
	if f.Known || f.NeedMore != 2*DefaultForecastMinHistory || !strings.Contains(f.Reason, "needs 2 days of proven history") {
		t.Errorf("no proof: %+v", f)
	}
}

// A leak that does not grow gives a known forecast with no time to full.
func TestForecastNotGrowing(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w := &world{start: start, leak: func(time.Time) int64 { return 12 }, real: office(30)}
	m := mustModel(t, Options{})
	now := start.Add(72 * time.Hour)
	w.run(m, start, now)
	f := forecastOf(t, m, now)
	if !f.Known || f.Rate != 0 || f.Growing() || !f.Full.IsZero() {
		t.Errorf("flat leak: %+v, want known, rate 0, no time to full", f)
	}
	if f.RealPeak != 30 {
		t.Errorf("real peak = %d, want 30", f.RealPeak)
	}
}

// History returns the running maximum of the proven leak and marks the
// restart.
func TestHistoryPoints(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w := &world{start: start, leak: steady(start, 0, 6), real: office(20), other: office(50)}
	m := mustModel(t, Options{})
	w.run(m, start, start.Add(24*time.Hour))
	m.MarkRestart("wb1", start.Add(24*time.Hour+30*time.Second))
	pts := m.History("wb1", start, start.Add(24*time.Hour+time.Minute))
	if len(pts) != 24*12+1 {
		t.Fatalf("%d points, want %d", len(pts), 24*12+1)
	}
	prev := int64(-1)
	for _, p := range pts[:len(pts)-1] {
		if p.Leak < prev {
			t.Fatalf("leak shrank from %d to %d at %s without a restart", prev, p.Leak, p.At)
		}
		prev = p.Leak
	}
	if last := pts[len(pts)-1]; !last.Restart || last.Leak != -1 {
		t.Errorf("restart bucket = %+v, want a restart and no proof yet", last)
	}
	if prev < 6*23 {
		t.Errorf("leak before the restart = %d, want about %d", prev, 6*24)
	}
	if m.History("nope", start, start) != nil {
		t.Error("history of an unknown bridge")
	}
}

// TestHistoryMemoryCost measures what the bounded history costs per Web
// Bridge with a full week and a day of data, and keeps it bounded.
func TestHistoryMemoryCost(t *testing.T) {
	const bridges = 20
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := mustModel(t, Options{})
	hosts := make([][]byte, bridges)
	for i := range hosts {
		hosts[i] = []byte("wb" + string(rune('a'+i)))
	}
	// Twice the history's length, one sample a bucket: the ring must not grow.
	for t := start; t.Before(start.Add(2 * HistoryLength)); t = t.Add(HistoryStep) {
		for _, h := range hosts {
			observe(m, &logline.Line{Kind: logline.WebBridgeStats, Host: h, Time: t, WebBridge: logline.WebBridge{Active: 10}})
		}
		observe(m, cbLine("cb1", t.Add(time.Second), 0, 0))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / bridges
	t.Logf("model with %d Web Bridges and full histories: %.1f KiB per bridge (the ring alone %d KiB)", bridges, per/1024, historySlots*12/1024)
	if per > 40<<10 {
		t.Errorf("%.0f bytes per bridge, want at most 40 KiB", per)
	}
	runtime.KeepAlive(m)
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// A leak past the limit is counted at the limit: the bridge cannot hold more.
func TestForecastLeakNeverAboveLimit(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w := &world{start: start, leak: steady(start, 0, 5), real: none}
	m := mustModel(t, Options{})
	now := start.Add(72 * time.Hour)
	w.run(m, start, now) // 360 sessions leaked by the end, in this synthetic world
	f := forecastOf(t, m, now)
	if !f.Known || f.Leak != DefaultSessionLimit || !f.Full.Equal(now) {
		t.Errorf("forecast %+v, want the leak at the limit 149 and full now", f)
	}
}

// Nearly enough history: the reason must not read as if enough were there
// ("48h of proven history ...; needs 25m more"): what is there rounds down,
// what is missing up.
func TestForecastNearlyEnoughHistorySaysSo(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w := &world{start: start, leak: steady(start, 0, 3), real: none}
	m := mustModel(t, Options{})
	now := start.Add(47*time.Hour + 40*time.Minute)
	w.run(m, start, now)
	f := forecastOf(t, m, now)
	if f.Known {
		t.Fatalf("known before 48h of history: %+v", f)
	}
	if !strings.Contains(f.Reason, "47h of proven history") || strings.Contains(f.Reason, "needs 0m") {
		t.Errorf("reason %q: want the history rounded down to 47h and a missing span above 0", f.Reason)
	}
}

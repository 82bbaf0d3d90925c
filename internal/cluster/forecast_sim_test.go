package cluster_test

import (
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/logline"
	"github.com/leakwatch/leakwatch/internal/sim"
)

// TestForecastAgainstSimulator runs the simulated three-bridge cluster (office
// load, desktop clients, Poisson leaks, two Call Bridges) for five days and
// checks each bridge's forecast rate against the leak the simulator really
// made, and the time to full against when the true leak plus the bridge's
// true real peak reaches the limit.
func TestForecastAgainstSimulator(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday
	rates := map[string]float64{"cms1": 0.25, "cms2": 1, "cms3": 0}
	s, err := sim.New(sim.Config{Seed: 7, Start: start, Leak: rates, NoisePerStats: -1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := cluster.New(cluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := logline.NewParser(time.UTC, start.Add(10*24*time.Hour))
	var l logline.Line
	feed := func(b []byte) {
		if k := p.Parse(b, &l); k == logline.WebBridgeStats || k == logline.CallBridgeStats {
			m.Observe(&l, l.Time)
		}
	}
	realPeak := map[string]int{}
	leakedAt := map[string]int{}
	const days = 5
	for range days * 24 * 60 {
		s.Advance(time.Minute, feed)
		tr := s.Truth()
		for _, wb := range tr.WebBridges {
			if tr.Now.Sub(start) >= 24*time.Hour { // after the first day, as the forecast counts it
				realPeak[wb.Name] = max(realPeak[wb.Name], wb.Genuine)
			}
			if tr.Now.Sub(start) == 24*time.Hour {
				leakedAt[wb.Name] = wb.Leaked
			}
		}
	}
	tr := s.Truth()
	snap := m.Snapshot(tr.Now)
	for _, truth := range tr.WebBridges {
		wb, _ := snap.WebBridge(truth.Name)
		f := wb.Forecast
		if !f.Known {
			t.Errorf("%s: forecast unknown after %d days: %s", truth.Name, days, f.Reason)
			continue
		}
		// The rate the simulator realised over the days the fit uses.
		realised := float64(truth.Leaked-leakedAt[truth.Name]) / (float64(days-1) * 24)
		t.Logf("%s: true rate %.3f/h (set %.2f), forecast %.3f/h; true leak %d, forecast %.1f; true real peak %d, forecast %d; %s",
			truth.Name, realised, rates[truth.Name], f.Rate, truth.Leaked, f.Leak, realPeak[truth.Name], f.RealPeak, f.Reason)
		if f.Rate < realised*0.8-0.02 || f.Rate > realised*1.25+0.02 {
			t.Errorf("%s: forecast rate %.3f/h, true %.3f/h", truth.Name, f.Rate, realised)
		}
		// The fit's line may run ahead of a Poisson leak a little.
		if f.Leak > float64(truth.Leaked)*1.1+2 {
			t.Errorf("%s: forecast leak now %.1f well above the true %d", truth.Name, f.Leak, truth.Leaked)
		}
		// An upper bound of real sessions, on the bridge's own samples (a
		// minute apart, so a peak between two may be missed), loose by at
		// most a day's growth of the leak past the night's proof.
		if lo, hi := realPeak[truth.Name]-3, float64(realPeak[truth.Name])+realised*18+3; f.RealPeak < int64(lo) || float64(f.RealPeak) > hi {
			t.Errorf("%s: real peak %d, want %d..%.0f", truth.Name, f.RealPeak, lo, hi)
		}
		if realised == 0 && f.Growing() {
			t.Errorf("%s: does not leak, yet forecast full at %s", truth.Name, f.Full)
		}
	}
}

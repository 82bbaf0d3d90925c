package cluster

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/logline"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func wbLine(host string, at time.Time, active int64) *logline.Line {
	return &logline.Line{Kind: logline.WebBridgeStats, Host: []byte(host), Time: at,
		WebBridge: logline.WebBridge{Active: active, Connections: 100, Disconnections: 50}}
}

func cbLine(host string, at time.Time, cur, peak int64) *logline.Line {
	return &logline.Line{Kind: logline.CallBridgeStats, Host: []byte(host), Time: at,
		CallBridge: logline.CallBridge{CMA: logline.Pair{Current: cur, Peak: peak}}}
}

// warmUp gives the model one earlier report of each Call Bridge, as a
// running cluster has, so the warm-up period is over by t0+5m.
func warmUp(m *Model, cbs ...string) {
	for _, cb := range cbs {
		observe(m, cbLine(cb, t0, 0, 0))
	}
}

func mustModel(t *testing.T, o Options) *Model {
	t.Helper()
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDiscoveryAndEstimate(t *testing.T) {
	m := mustModel(t, Options{})
	warmUp(m, "cb1", "cb2")
	observe(m, wbLine("wb1", t0.Add(1*time.Minute), 30))
	observe(m, wbLine("wb2", t0.Add(1*time.Minute+2*time.Second), 20))
	observe(m, cbLine("cb1", t0.Add(5*time.Minute), 12, 15))
	observe(m, cbLine("cb2", t0.Add(5*time.Minute), 8, 10))
	s := m.Snapshot(t0.Add(5 * time.Minute))
	if !s.Leak.Valid {
		t.Fatalf("leak invalid: %s", s.Leak.Reason)
	}
	if got, want := s.Leak.Estimate, int64(50-20); got != want {
		t.Errorf("estimate = %d, want %d", got, want)
	}
	// Both WB samples lie inside both report periods: bound = 50 - (15+10).
	if !s.Leak.BoundKnown || s.Leak.LowerBound != 25 {
		t.Errorf("lower bound = %d (known %v), want 25", s.Leak.LowerBound, s.Leak.BoundKnown)
	}
	wb1, _ := s.WebBridge("wb1")
	if !wb1.LeakKnown || wb1.LeakLowerBound != 5 || wb1.Headroom != 119 {
		t.Errorf("wb1 = %+v, want proven leak 5 (30-25), headroom 119", wb1)
	}
	wb2, _ := s.WebBridge("wb2")
	if wb2.LeakLowerBound != 0 {
		t.Errorf("wb2 proven leak = %d, want 0 (20 < 25)", wb2.LeakLowerBound)
	}
}

func TestClusterBoundNeedsSimultaneousSamples(t *testing.T) {
	m := mustModel(t, Options{})
	warmUp(m, "cb1", "cb2")
	// Sampled a minute apart: users may have moved between the bridges, so
	// only the per-bridge bounds (30-25=5 and 0) are proven.
	observe(m, wbLine("wb1", t0.Add(1*time.Minute), 30))
	observe(m, wbLine("wb2", t0.Add(2*time.Minute), 20))
	observe(m, cbLine("cb1", t0.Add(5*time.Minute), 12, 15))
	observe(m, cbLine("cb2", t0.Add(5*time.Minute), 8, 10))
	s := m.Snapshot(t0.Add(5 * time.Minute))
	if !s.Leak.BoundKnown || s.Leak.LowerBound != 5 || s.Leak.Estimate != 30 {
		t.Errorf("leak = %+v, want bound 5 from the per-bridge bounds, estimate 30", s.Leak)
	}
}

func TestStaleMakesEstimateUnknown(t *testing.T) {
	m := mustModel(t, Options{})
	observe(m, wbLine("wb1", t0.Add(1*time.Minute), 30))
	observe(m, cbLine("cb1", t0.Add(5*time.Minute), 12, 15))
	observe(m, cbLine("cb2", t0.Add(5*time.Minute), 8, 10))
	// wb1 keeps reporting, cb2 goes silent.
	for i := 1; i <= 3; i++ {
		at := t0.Add(time.Duration(5+5*i) * time.Minute)
		observe(m, wbLine("wb1", at.Add(-time.Minute), 31))
		observe(m, cbLine("cb1", at, 12, 15))
	}
	now := t0.Add(20 * time.Minute) // cb2 last seen 15m ago > 11m
	s := m.Snapshot(now)
	if s.Leak.Valid || s.Leak.Estimate != 0 || s.Leak.LowerBound != 0 {
		t.Fatalf("stale cb2 must make the leak unknown, got %+v", s.Leak)
	}
	if s.Leak.Reason != "call bridge cb2 is stale (last report 15m0s ago)" {
		t.Errorf("reason = %q", s.Leak.Reason)
	}
	if wb, _ := s.WebBridge("wb1"); wb.LeakKnown {
		t.Errorf("per-bridge leak must be unknown while a call bridge is stale: %+v", wb)
	}
}

func TestInventoryMissingComponent(t *testing.T) {
	m := mustModel(t, Options{
		WebBridges:  []Member{{Name: "wb-a", Hosts: []string{"CMS1"}}, {Name: "wb-b", Hosts: []string{"cms2"}, Limit: 100}},
		CallBridges: []Member{{Name: "cb-a", Hosts: []string{"cms1"}}},
	})
	// Combined server: cms1 is both a web bridge and a call bridge.
	observe(m, wbLine("cms1", t0.Add(time.Minute), 10))
	observe(m, cbLine("cms1", t0.Add(5*time.Minute), 3, 4))
	s := m.Snapshot(t0.Add(5 * time.Minute))
	if s.Leak.Valid {
		t.Fatal("wb-b never reported: estimate must be unknown")
	}
	if s.Leak.Reason != "web bridge wb-b has never reported" {
		t.Errorf("reason = %q", s.Leak.Reason)
	}
	wb, _ := s.WebBridge("wb-a")
	if !wb.Listed || wb.Sessions != 10 || len(s.CallBridges) != 1 || s.CallBridges[0].Name != "cb-a" {
		t.Errorf("combined host not mapped to both roles: %+v %+v", wb, s.CallBridges)
	}
	if b, _ := s.WebBridge("wb-b"); b.Limit != 100 || b.Headroom != 100 {
		t.Errorf("wb-b limit/headroom = %d/%d", b.Limit, b.Headroom)
	}
}

func TestWarmUp(t *testing.T) {
	m := mustModel(t, Options{})
	observe(m, wbLine("wb1", t0, 30))
	observe(m, cbLine("cb1", t0.Add(time.Minute), 1, 1))
	// cb2 reports at its own phase, four minutes later: before that, the
	// sums would leave its sessions out.
	if s := m.Snapshot(t0.Add(4 * time.Minute)); s.Leak.Valid {
		t.Fatalf("valid before a whole report period passed: %+v", s.Leak)
	}
	observe(m, wbLine("wb1", t0.Add(5*time.Minute), 30))
	observe(m, cbLine("cb2", t0.Add(5*time.Minute), 9, 9))
	if s := m.Snapshot(t0.Add(5*time.Minute + 5*time.Second)); !s.Leak.Valid || s.Leak.Estimate != 20 {
		t.Fatalf("after warm-up: %+v", s.Leak)
	}
}

func TestDiscoveryCap(t *testing.T) {
	m := mustModel(t, Options{MaxDiscovered: 3})
	for i := 0; i < 10; i++ {
		observe(m, wbLine(fmt.Sprintf("h%d", i), t0, 1))
	}
	s := m.Snapshot(t0)
	if len(s.WebBridges) != 3 || s.Dropped != 7 {
		t.Errorf("got %d bridges, %d dropped; want 3 and 7", len(s.WebBridges), s.Dropped)
	}
}

func TestSampleOutsidePeriodIsNotProven(t *testing.T) {
	m := mustModel(t, Options{})
	// WB sample taken after the last CB report: no period covers it yet, so
	// a burst of real users after the report could explain it.
	observe(m, cbLine("cb1", t0.Add(-5*time.Minute), 0, 0))
	observe(m, cbLine("cb1", t0, 0, 0))
	observe(m, wbLine("wb1", t0.Add(2*time.Minute), 40))
	s := m.Snapshot(t0.Add(2 * time.Minute))
	wb, _ := s.WebBridge("wb1")
	if wb.LeakKnown {
		t.Fatalf("uncovered sample must not prove a leak: %+v", wb)
	}
	if !s.Leak.Valid || s.Leak.Estimate != 40 || s.Leak.BoundKnown {
		t.Errorf("leak = %+v, want valid estimate 40 and bound unknown", s.Leak)
	}
	observe(m, cbLine("cb1", t0.Add(5*time.Minute), 1, 3))
	s = m.Snapshot(t0.Add(5 * time.Minute))
	wb, _ = s.WebBridge("wb1")
	if !wb.LeakKnown || wb.LeakLowerBound != 37 || !wb.LeakAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("after the covering report: %+v, want 37 proven at +2m", wb)
	}
}

func TestRestartCapsProvenLeak(t *testing.T) {
	m := mustModel(t, Options{})
	warmUp(m, "cb1")
	observe(m, wbLine("wb1", t0.Add(time.Minute), 80))
	observe(m, cbLine("cb1", t0.Add(5*time.Minute), 2, 2))
	observe(m, wbLine("wb1", t0.Add(6*time.Minute), 1)) // restarted
	s := m.Snapshot(t0.Add(6 * time.Minute))
	wb, _ := s.WebBridge("wb1")
	if wb.LeakLowerBound != 1 {
		t.Errorf("proven leak after restart = %d, want capped at current 1", wb.LeakLowerBound)
	}
}

func TestClockSkewMargin(t *testing.T) {
	m := mustModel(t, Options{ClockSkew: 10 * time.Second})
	observe(m, wbLine("wb1", t0.Add(-5*time.Second), 40)) // within skew of the report time
	observe(m, cbLine("cb1", t0, 0, 0))
	s := m.Snapshot(t0)
	if wb, _ := s.WebBridge("wb1"); wb.LeakKnown {
		t.Errorf("a sample within the skew margin of the period end must not count: %+v", wb)
	}
}

// TestLowerBoundNeverExceedsTruth drives random but consistent clusters and
// checks the estimator's promise: proven leaks never exceed the true leak.
func TestLowerBoundNeverExceedsTruth(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		m := mustModel(t, Options{})
		nWB, nCB := 1+rng.Intn(4), 1+rng.Intn(3)
		leaked := make([]int64, nWB)
		genuine := make([]int64, nWB)
		desktop := make([]int64, nCB)
		peak := make([]int64, nCB)
		offsets := make([]time.Duration, nCB)
		for i := range offsets {
			offsets[i] = time.Duration(rng.Intn(300)) * time.Second
		}
		now := t0
		for step := 0; step < 24*60; step++ { // a day, minute by minute
			now = now.Add(time.Minute)
			for w := range genuine {
				genuine[w] = max(0, genuine[w]+int64(rng.Intn(7)-3))
				if rng.Intn(20) == 0 {
					leaked[w]++
				}
			}
			var totalGenuine int64
			for _, g := range genuine {
				totalGenuine += g
			}
			// Genuine calls spread over CBs; CMA also has desktop clients.
			cur := make([]int64, nCB)
			left := totalGenuine
			for c := range cur {
				desktop[c] = max(0, desktop[c]+int64(rng.Intn(3)-1))
				share := left
				if c < nCB-1 {
					share = rng.Int63n(left + 1)
				}
				left -= share
				cur[c] = share + desktop[c]
				peak[c] = max(peak[c], cur[c])
			}
			for w := range genuine {
				if rng.Intn(3) > 0 {
					observe(m, wbLine(fmt.Sprintf("wb%d", w), now, genuine[w]+leaked[w]))
				}
			}
			for c := range cur {
				if since := now.Sub(t0.Add(offsets[c])); since >= 0 && since%(5*time.Minute) < time.Minute {
					observe(m, cbLine(fmt.Sprintf("cb%d", c), now, cur[c], peak[c]))
					peak[c] = cur[c]
				}
			}
			s := m.Snapshot(now)
			var totalLeak int64
			for w := range leaked {
				totalLeak += leaked[w]
				wb, ok := s.WebBridge(fmt.Sprintf("wb%d", w))
				if ok && wb.LeakLowerBound > leaked[w] {
					t.Fatalf("trial %d step %d: %s proven leak %d > true %d", trial, step, wb.Name, wb.LeakLowerBound, leaked[w])
				}
			}
			if s.Leak.Valid && s.Leak.LowerBound > totalLeak {
				t.Fatalf("trial %d step %d: cluster bound %d > true leak %d", trial, step, s.Leak.LowerBound, totalLeak)
			}
		}
	}
}

// TestRestartForgetsEarlierSamples: after a restart, samples taken before
// it prove nothing about the leak the bridge has now, for the bridge and
// for the cluster, until a report period covers a sample taken after it.
func TestRestartForgetsEarlierSamples(t *testing.T) {
	for _, how := range []string{"MarkRestart", "counters reset"} {
		t.Run(how, func(t *testing.T) {
			m := mustModel(t, Options{})
			warmUp(m, "cb1")
			observe(m, wbLine("wb1", t0.Add(time.Minute), 80))
			observe(m, wbLine("wb2", t0.Add(time.Minute), 10))
			observe(m, cbLine("cb1", t0.Add(5*time.Minute), 2, 2))
			s := m.Snapshot(t0.Add(5 * time.Minute))
			if wb, _ := s.WebBridge("wb1"); wb.LeakLowerBound != 78 || s.Leak.LowerBound != 88 {
				t.Fatalf("before the restart: wb1 %d, cluster %d", wb.LeakLowerBound, s.Leak.LowerBound)
			}
			// Sample times are the bridge's clock, which may run up to
			// FutureTolerance (2m) ahead of the restart's: only a sample
			// stamped later than that proves anything after it.
			after := &logline.Line{Kind: logline.WebBridgeStats, Host: []byte("wb1"), Time: t0.Add(8 * time.Minute),
				WebBridge: logline.WebBridge{Active: 20, Connections: 100, Disconnections: 50}}
			if how == "MarkRestart" {
				m.MarkRestart("wb1", t0.Add(5*time.Minute+30*time.Second))
			} else {
				after.WebBridge.Connections, after.WebBridge.Disconnections = 3, 0
			}
			observe(m, after) // 20 genuine users came back
			s = m.Snapshot(t0.Add(8 * time.Minute))
			wb, _ := s.WebBridge("wb1")
			if wb.LeakKnown || wb.LeakLowerBound != 0 {
				t.Errorf("right after the restart wb1 = %+v, want unknown", wb)
			}
			if s.Leak.LowerBound > 8 {
				t.Errorf("cluster bound %d still counts wb1's leak from before its restart", s.Leak.LowerBound)
			}
			observe(m, wbLine("wb2", t0.Add(8*time.Minute), 10))
			observe(m, cbLine("cb1", t0.Add(10*time.Minute), 25, 30))
			s = m.Snapshot(t0.Add(10 * time.Minute))
			if wb, _ := s.WebBridge("wb1"); !wb.LeakKnown || wb.LeakLowerBound != 0 {
				t.Errorf("after a covering report wb1 = %+v, want proven 0", wb)
			}
		})
	}
}

// TestIrregularReportsDoNotOverCreditAPeak: a Call Bridge report that comes
// two minutes after the previous one may have a peak over those two minutes
// only. A Web Bridge sample from before the previous report must be proven
// against the previous report's peak, not the later, lower one.
func TestIrregularReportsDoNotOverCreditAPeak(t *testing.T) {
	m := mustModel(t, Options{})
	warmUp(m, "cb1")
	observe(m, cbLine("cb1", t0.Add(5*time.Minute), 25, 30))
	observe(m, wbLine("wb1", t0.Add(4*time.Minute), 40)) // inside the 10:05 report's period
	observe(m, cbLine("cb1", t0.Add(7*time.Minute), 1, 2))
	s := m.Snapshot(t0.Add(7 * time.Minute))
	wb1, _ := s.WebBridge("wb1")
	// The 10:07 report covers 10:05-10:07 only: the sample at 10:04 is
	// proven against the peak of 30, so the bound is 40-30 = 10, not 38.
	if !wb1.LeakKnown || wb1.LeakLowerBound != 10 {
		t.Errorf("wb1 proven leak = %d (known %v), want 10 (40 - the peak 30 of the report covering the sample)", wb1.LeakLowerBound, wb1.LeakKnown)
	}
	if s.Leak.BoundKnown && s.Leak.LowerBound > 10 {
		t.Errorf("cluster bound = %d, want at most 10", s.Leak.LowerBound)
	}
}

// TestLoadCountsTheLatestPeak: the load guard's number is, per Call Bridge,
// the larger of the current CMA count and the latest report's peak.
func TestLoadCountsTheLatestPeak(t *testing.T) {
	m := mustModel(t, Options{})
	warmUp(m, "cb1", "cb2")
	observe(m, wbLine("wb1", t0.Add(4*time.Minute), 40))
	observe(m, cbLine("cb1", t0.Add(5*time.Minute), 2, 9))
	observe(m, cbLine("cb2", t0.Add(5*time.Minute), 3, 1)) // current above peak: odd, but counted
	s := m.Snapshot(t0.Add(5 * time.Minute))
	if got := s.Leak.Load(); got != 12 {
		t.Errorf("load = %d, want 12 (max(2,9) + max(3,1))", got)
	}
}

// observe gives l to m as arriving at its own time, as a replay does.
func observe(m *Model, l *logline.Line) Outcome { return m.Observe(l, l.Time) }

// TestWideClockSkewStillProves: with a clock_skew of 90s each report period
// keeps only its middle two minutes, and three Call Bridges reporting out of
// phase left no moment inside a kept part of all three: no leak was ever
// proven, and leakwatch never acted. Found by the property test in
// internal/actuator. A sample near the end of one period is covered by that
// period and the next together, with the larger of their peaks.
func TestWideClockSkewStillProves(t *testing.T) {
	m := mustModel(t, Options{ClockSkew: 90 * time.Second})
	for i := range 7 {
		for c, phase := range []time.Duration{0, 100 * time.Second, 200 * time.Second} {
			observe(m, cbLine(fmt.Sprintf("cb%d", c+1), t0.Add(time.Duration(i)*5*time.Minute+phase), 1, 2+int64(c)))
		}
	}
	for i := range 30 {
		observe(m, wbLine("wb1", t0.Add(time.Duration(i)*time.Minute+7*time.Second), 40))
	}
	s := m.Snapshot(t0.Add(30 * time.Minute))
	wb, _ := s.WebBridge("wb1")
	if !s.Leak.Valid || !wb.LeakKnown || wb.LeakLowerBound != 40-2-3-4 {
		t.Fatalf("leak %+v, wb1 known %v bound %d; want 40 - the peaks 2+3+4 proven", s.Leak, wb.LeakKnown, wb.LeakLowerBound)
	}
}

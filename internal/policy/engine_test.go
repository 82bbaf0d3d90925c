package policy

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
)

// testConfig passes every guard for testSnapshot at testNow.
func testConfig(t *testing.T) Config {
	t.Helper()
	return Config{
		Mode: ModeEnforce, Threshold: 20, Sustain: time.Hour,
		Windows:  []Window{MustParseWindow("Sat 02:00-04:00")},
		Location: mustLoc(t, "Europe/Berlin"), MaxActiveSessions: 5,
		Cooldown: 24 * time.Hour, MaxPerDay: 2, RecoverTimeout: 15 * time.Minute,
		FlapMax: 3, FlapPeriod: 7 * 24 * time.Hour,
	}
}

// testNow is Saturday 2025-06-07 03:00 in Berlin, inside the window.
var testNow = time.Date(2025, 6, 7, 1, 0, 0, 0, time.UTC)

// testSnapshot is one fresh bridge with a proven leak of 40 at now.
func testSnapshot(now time.Time, names ...string) cluster.Snapshot {
	if len(names) == 0 {
		names = []string{"wb1"}
	}
	s := cluster.Snapshot{Now: now, Leak: cluster.Leak{Valid: true, CMAActive: 2, CMAPeak: 3}}
	for _, n := range names {
		s.WebBridges = append(s.WebBridges, cluster.WebBridge{
			Name: n, Limit: 149, Listed: true, Restartable: true, Seen: true, LastSeen: now.Add(-30 * time.Second),
			Sessions: 60, LeakKnown: true, LeakLowerBound: 40, LeakAt: now.Add(-time.Minute),
		})
	}
	return s
}

// addRestart records a finished restart of bridge started at t.
func addRestart(t *testing.T, led *ledger.State, bridge string, at time.Time, result ledger.Result, recovered bool) {
	t.Helper()
	if err := led.BeginRestart(ledger.Restart{Bridge: bridge, Started: at, LeakBound: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := led.FinishRestart(bridge, at.Add(5*time.Second), result, "", ""); err != nil {
		t.Fatal(err)
	}
	if recovered {
		led.MarkRecovered(bridge)
	}
}

func TestGuards(t *testing.T) {
	type setup struct {
		cfg  *Config
		led  *ledger.State
		snap *cluster.Snapshot
		now  *time.Time
		warm *bool // evaluate an hour earlier so sustain is met
		gap  *bool // evaluate half an hour earlier with the leak unknown
	}
	for _, tc := range []struct {
		name       string
		setup      func(t *testing.T, s setup)
		want       Reason
		restart    bool
		would      bool
		emergency  bool
		trip       string
		recovered  bool
		detailPart string
	}{
		{name: "all guards hold", setup: func(*testing.T, setup) {}, want: ReasonNone, restart: true, would: true},
		{name: "observe mode", setup: func(_ *testing.T, s setup) { s.cfg.Mode = ModeObserve }, want: ReasonObserveMode, would: true},
		{name: "breaker tripped", setup: func(_ *testing.T, s setup) {
			s.led.TripBreaker("wb1", TripFlapping, "x", testNow.Add(-48*time.Hour))
		}, want: ReasonBreakerTripped, detailPart: "flapping"},
		{name: "recovering", setup: func(t *testing.T, s setup) {
			addRestart(t, s.led, "wb1", testNow.Add(-5*time.Minute), ledger.ResultOK, false)
		}, want: ReasonRecovering},
		{name: "recover timeout trips", setup: func(t *testing.T, s setup) {
			addRestart(t, s.led, "wb1", testNow.Add(-20*time.Minute), ledger.ResultOK, false)
		}, want: ReasonBreakerTripped, trip: TripNotRecovered},
		{name: "interrupted restart not recovered in time trips", setup: func(t *testing.T, s setup) {
			addRestart(t, s.led, "wb1", testNow.Add(-20*time.Minute), ledger.ResultInterrupted, false)
		}, want: ReasonBreakerTripped, trip: TripNotRecovered},
		{name: "recovered by sessions drop", setup: func(t *testing.T, s setup) {
			addRestart(t, s.led, "wb1", testNow.Add(-20*time.Minute), ledger.ResultOK, false)
			wb := &s.snap.WebBridges[0]
			wb.Sessions, wb.LeakLowerBound = 3, 0
		}, want: ReasonLeakBelowThreshold, recovered: true},
		{name: "recovered by proven bound", setup: func(t *testing.T, s setup) {
			addRestart(t, s.led, "wb1", testNow.Add(-10*time.Minute), ledger.ResultOK, false)
			s.snap.WebBridges[0].LeakLowerBound = 4
		}, want: ReasonLeakBelowThreshold, recovered: true},
		{name: "sample before restart proves nothing", setup: func(t *testing.T, s setup) {
			addRestart(t, s.led, "wb1", testNow.Add(-10*time.Minute), ledger.ResultOK, false)
			wb := &s.snap.WebBridges[0]
			wb.LastSeen, wb.LeakAt, wb.Sessions, wb.LeakLowerBound = testNow.Add(-11*time.Minute), testNow.Add(-11*time.Minute), 3, 0
		}, want: ReasonRecovering},
		{name: "own restart in flight", setup: func(t *testing.T, s setup) {
			s.led.BeginRestart(ledger.Restart{Bridge: "wb1", Started: testNow.Add(-time.Minute)})
		}, want: ReasonRestartInProgress},
		{name: "data invalid", setup: func(_ *testing.T, s setup) {
			s.snap.Leak.Valid, s.snap.Leak.Reason = false, "call bridge cb2 stale"
		}, want: ReasonDataInvalid, detailPart: "cb2 stale"},
		{name: "snapshot too old", setup: func(_ *testing.T, s setup) { s.snap.Now = testNow.Add(-5 * time.Minute) }, want: ReasonDataInvalid, detailPart: "old"},
		{name: "bridge stale", setup: func(_ *testing.T, s setup) { s.snap.WebBridges[0].Stale = true }, want: ReasonStale},
		{name: "bridge never seen", setup: func(_ *testing.T, s setup) {
			s.snap.WebBridges[0] = cluster.WebBridge{Name: "wb1", Limit: 149, Listed: true, Restartable: true, Stale: true}
		}, want: ReasonStale},
		{name: "leak unknown", setup: func(_ *testing.T, s setup) {
			wb := &s.snap.WebBridges[0]
			wb.LeakKnown, wb.LeakLowerBound = false, 0
		}, want: ReasonLeakUnknown},
		{name: "leak sample not newer than last restart", setup: func(t *testing.T, s setup) {
			addRestart(t, s.led, "wb1", testNow.Add(-50*time.Second), ledger.ResultOK, true)
		}, want: ReasonLeakUnknown, detailPart: "since the restart"},
		{name: "leak below threshold", setup: func(_ *testing.T, s setup) { s.snap.WebBridges[0].LeakLowerBound = 19 }, want: ReasonLeakBelowThreshold},
		{name: "leak exactly threshold", setup: func(_ *testing.T, s setup) { s.snap.WebBridges[0].LeakLowerBound = 20 }, want: ReasonNone, restart: true, would: true},
		{name: "not sustained", setup: func(_ *testing.T, s setup) { *s.warm = false }, want: ReasonNotSustained},
		{name: "sustain broken by unknown leak", setup: func(_ *testing.T, s setup) { *s.gap = true }, want: ReasonNotSustained},
		{name: "flapping", setup: func(t *testing.T, s setup) {
			for _, d := range []int{6, 4, 2} {
				addRestart(t, s.led, "wb1", testNow.Add(-time.Duration(d)*24*time.Hour), ledger.ResultOK, true)
			}
		}, want: ReasonBreakerTripped, trip: TripFlapping},
		{name: "cooldown", setup: func(t *testing.T, s setup) {
			addRestart(t, s.led, "wb1", testNow.Add(-12*time.Hour), ledger.ResultOK, true)
		}, want: ReasonCooldown},
		{name: "other restart in flight", setup: func(t *testing.T, s setup) {
			s.led.BeginRestart(ledger.Restart{Bridge: "wb2", Started: testNow.Add(-time.Minute)})
		}, want: ReasonRestartInProgress, detailPart: "wb2"},
		{name: "daily budget spent", setup: func(t *testing.T, s setup) {
			addRestart(t, s.led, "wb2", testNow.Add(-20*time.Hour), ledger.ResultOK, true)
			addRestart(t, s.led, "wb3", testNow.Add(-2*time.Hour), ledger.ResultOK, true)
		}, want: ReasonDailyBudgetSpent},
		{name: "daily budget frees after 24h", setup: func(t *testing.T, s setup) {
			addRestart(t, s.led, "wb2", testNow.Add(-24*time.Hour-time.Second), ledger.ResultOK, true)
			addRestart(t, s.led, "wb3", testNow.Add(-2*time.Hour), ledger.ResultOK, true)
		}, want: ReasonNone, restart: true, would: true},
		{name: "outside window", setup: func(_ *testing.T, s setup) { *s.now = testNow.Add(2 * time.Hour) }, want: ReasonOutsideWindow, detailPart: "next: Sat 2025-06-14 02:00 CEST"},
		{name: "emergency off by default", setup: func(_ *testing.T, s setup) {
			*s.now = testNow.Add(2 * time.Hour)
			s.snap.WebBridges[0].Sessions = 149
		}, want: ReasonOutsideWindow},
		{name: "emergency at limit lifts window", setup: func(_ *testing.T, s setup) {
			*s.now = testNow.Add(2 * time.Hour)
			s.cfg.EmergencyAtLimit = true
			s.snap.WebBridges[0].Sessions = 149
		}, want: ReasonNone, restart: true, would: true, emergency: true},
		{name: "emergency below limit", setup: func(_ *testing.T, s setup) {
			*s.now = testNow.Add(2 * time.Hour)
			s.cfg.EmergencyAtLimit = true
			s.snap.WebBridges[0].Sessions = 148
		}, want: ReasonOutsideWindow},
		{name: "emergency keeps sustain", setup: func(_ *testing.T, s setup) {
			*s.now = testNow.Add(2 * time.Hour)
			*s.warm = false
			s.cfg.EmergencyAtLimit = true
			s.snap.WebBridges[0].Sessions = 149
		}, want: ReasonNotSustained},
		{name: "emergency keeps load guard", setup: func(_ *testing.T, s setup) {
			*s.now = testNow.Add(2 * time.Hour)
			s.cfg.EmergencyAtLimit = true
			s.snap.WebBridges[0].Sessions = 149
			s.snap.Leak.CMAActive = 30
		}, want: ReasonTooManyActiveSessions, emergency: true},
		{name: "too many active sessions", setup: func(_ *testing.T, s setup) { s.snap.Leak.CMAActive = 6 }, want: ReasonTooManyActiveSessions},
		{name: "active sessions exactly max", setup: func(_ *testing.T, s setup) { s.snap.Leak.CMAActive = 5 }, want: ReasonNone, restart: true, would: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			led := ledger.NewMemory()
			now := testNow
			warm, gap := true, false
			snap := testSnapshot(testNow)
			tc.setup(t, setup{cfg: &cfg, led: led, snap: &snap, now: &now, warm: &warm, gap: &gap})
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			if now != testNow { // move the snapshot's times along with now
				snap = shift(snap, now.Sub(testNow))
			}
			e := NewEngine(cfg)
			if warm {
				e.Evaluate(shift(snap, -time.Hour), led, now.Add(-time.Hour))
			}
			if gap {
				gap := shift(snap, -30*time.Minute)
				gap.WebBridges[0].LeakKnown = false
				e.Evaluate(gap, led, now.Add(-30*time.Minute))
			}
			ds := e.Evaluate(snap, led, now)
			if len(ds) != 1 {
				t.Fatalf("%d decisions, want 1", len(ds))
			}
			d := ds[0]
			if d.Reason != tc.want || d.RestartNow != tc.restart || d.WouldRestart != tc.would || d.Emergency != tc.emergency || d.Trip != tc.trip || d.Recovered != tc.recovered {
				t.Fatalf("decision = reason %s restart %v would %v emergency %v trip %q recovered %v (%s)\nwant reason %s restart %v would %v emergency %v trip %q recovered %v",
					d.Reason, d.RestartNow, d.WouldRestart, d.Emergency, d.Trip, d.Recovered, d.Detail,
					tc.want, tc.restart, tc.would, tc.emergency, tc.trip, tc.recovered)
			}
			if !strings.Contains(d.Detail, tc.detailPart) {
				t.Errorf("detail %q does not contain %q", d.Detail, tc.detailPart)
			}
			if d.Detail == "" {
				t.Error("empty detail")
			}
		})
	}
}

// shift moves every time in s by d.
func shift(s cluster.Snapshot, d time.Duration) cluster.Snapshot {
	out := s
	out.Now = s.Now.Add(d)
	out.WebBridges = append([]cluster.WebBridge(nil), s.WebBridges...)
	for i := range out.WebBridges {
		wb := &out.WebBridges[i]
		if !wb.LastSeen.IsZero() {
			wb.LastSeen = wb.LastSeen.Add(d)
		}
		if !wb.LeakAt.IsZero() {
			wb.LeakAt = wb.LeakAt.Add(d)
		}
	}
	return out
}

func TestOneRestartPerEvaluation(t *testing.T) {
	cfg := testConfig(t)
	led := ledger.NewMemory()
	snap := testSnapshot(testNow, "wb1", "wb2", "wb3")
	snap.WebBridges[1].LeakLowerBound = 70
	e := NewEngine(cfg)
	e.Evaluate(shift(snap, -time.Hour), led, testNow.Add(-time.Hour))
	ds := e.Evaluate(snap, led, testNow)
	var chosen []string
	for _, d := range ds {
		if d.RestartNow {
			chosen = append(chosen, d.WebBridge)
		} else if d.Reason != ReasonQueued {
			t.Errorf("%s: reason %s, want queued", d.WebBridge, d.Reason)
		}
	}
	if len(chosen) != 1 || chosen[0] != "wb2" {
		t.Fatalf("restarts ordered for %v, want only wb2 (largest leak)", chosen)
	}
	// An emergency goes before a larger leak.
	cfg.EmergencyAtLimit = true
	e = NewEngine(cfg)
	later := testNow.Add(2 * time.Hour) // outside the window
	snap = shift(snap, 2*time.Hour)
	snap.WebBridges[2].Sessions = 149
	e.Evaluate(shift(snap, -time.Hour), led, later.Add(-time.Hour))
	for _, d := range e.Evaluate(snap, led, later) {
		if d.RestartNow != (d.WebBridge == "wb3") {
			t.Errorf("%s: restart %v (%s %s)", d.WebBridge, d.RestartNow, d.Reason, d.Detail)
		}
	}
}

func TestEvaluateForced(t *testing.T) {
	cfg := testConfig(t)
	cfg.Mode = ModeObserve
	outside := testNow.Add(2 * time.Hour)
	snap := shift(testSnapshot(testNow), 2*time.Hour)
	snap.Leak.CMAActive = 40
	for _, tc := range []struct {
		name    string
		prep    func(led *ledger.State)
		want    Reason
		restart bool
	}{
		{"lifts window and load, acts in observe mode", func(*ledger.State) {}, ReasonNone, true},
		{"keeps the breaker", func(led *ledger.State) { led.TripBreaker("wb1", TripRestartFailed, "", testNow) }, ReasonBreakerTripped, false},
		{"keeps cooldown", func(led *ledger.State) {
			addRestart(t, led, "wb1", testNow.Add(-6*time.Hour), ledger.ResultOK, true)
		}, ReasonCooldown, false},
		{"keeps in-flight", func(led *ledger.State) { led.BeginRestart(ledger.Restart{Bridge: "wb2", Started: testNow}) }, ReasonRestartInProgress, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			led := ledger.NewMemory()
			tc.prep(led)
			e := NewEngine(cfg)
			e.Evaluate(shift(snap, -time.Hour), led, outside.Add(-time.Hour))
			d, ok := e.EvaluateForced(snap, led, "wb1", outside)
			if !ok || d.Reason != tc.want || d.RestartNow != tc.restart {
				t.Fatalf("forced = %s restart %v (%s), want %s restart %v", d.Reason, d.RestartNow, d.Detail, tc.want, tc.restart)
			}
		})
	}
	if _, ok := NewEngine(cfg).EvaluateForced(snap, ledger.NewMemory(), "nope", outside); ok {
		t.Error("forced restart of an unknown bridge")
	}
}

func TestConfigValidate(t *testing.T) {
	good := testConfig(t)
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tc := range []struct {
		key string
		mut func(*Config)
	}{
		{"mode:", func(c *Config) { c.Mode = "act" }},
		{"threshold:", func(c *Config) { c.Threshold = 0 }},
		{"sustain:", func(c *Config) { c.Sustain = -time.Second }},
		{"timezone:", func(c *Config) { c.Location = nil }},
		{"max_active_sessions:", func(c *Config) { c.MaxActiveSessions = -1 }},
		{"cooldown:", func(c *Config) { c.Cooldown = 100 * 24 * time.Hour }},
		{"max_per_day:", func(c *Config) { c.MaxPerDay = 0 }},
		{"recover_timeout:", func(c *Config) { c.RecoverTimeout = 0 }},
		{"flap_max:", func(c *Config) { c.FlapMax = 0 }},
		{"flap_period:", func(c *Config) { c.FlapPeriod = 0 }},
	} {
		c := testConfig(t)
		tc.mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: Validate = %v, want an error naming the key", tc.key, err)
		}
	}
}

func TestNoWindowMeansNever(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Mode = ModeEnforce
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a config without windows must be valid (it never restarts): %v", err)
	}
	e := NewEngine(cfg)
	now := time.Date(2026, 3, 18, 3, 0, 0, 0, time.UTC)
	snap := cluster.Snapshot{Now: now, Leak: cluster.Leak{Valid: true},
		WebBridges: []cluster.WebBridge{{Name: "wb1", Limit: 149, Listed: true, Restartable: true, Seen: true, LastSeen: now, Sessions: 100,
			LeakKnown: true, LeakLowerBound: 90, LeakAt: now.Add(-2 * time.Hour)}}}
	led := ledger.NewMemory()
	e.Evaluate(snap, led, now.Add(-2*time.Hour))
	for _, d := range e.Evaluate(snap, led, now) {
		if d.RestartNow || d.Reason != ReasonOutsideWindow || !strings.Contains(d.Detail, "no policy.windows") {
			t.Errorf("decision = %+v", d)
		}
	}
}

// TestOnlyRestartableBridgesAreChosen: a discovered bridge (no MMP address)
// leaking more than the listed one must never be chosen; the listed one is.
func TestOnlyRestartableBridgesAreChosen(t *testing.T) {
	e := NewEngine(testConfig(t))
	led := ledger.NewMemory()
	snap := testSnapshot(testNow, "lab-wb", "wb1", "wb2")
	snap.WebBridges[0].Listed, snap.WebBridges[0].Restartable = false, false // discovered
	snap.WebBridges[0].LeakLowerBound = 90
	snap.WebBridges[2].Restartable = false // listed without an mmp.address
	snap.WebBridges[2].LeakLowerBound = 80
	e.Evaluate(snap, led, testNow.Add(-time.Hour))
	got := map[string]Decision{}
	for _, d := range e.Evaluate(snap, led, testNow) {
		got[d.WebBridge] = d
	}
	for _, n := range []string{"lab-wb", "wb2"} {
		if d := got[n]; d.RestartNow || d.WouldRestart || d.Reason != ReasonNotRestartable {
			t.Errorf("%s: restart=%v reason=%s (%s), want not_restartable", n, d.RestartNow, d.Reason, d.Detail)
		}
	}
	if d := got["wb1"]; !d.RestartNow {
		t.Errorf("wb1 (listed, with an MMP) not restarted: %s (%s)", d.Reason, d.Detail)
	}
	if d, _ := e.EvaluateManual(snap, led, "lab-wb", testNow); d.RestartNow {
		t.Error("an operator's restart of a discovered bridge was allowed")
	}
}

// TestLoadGuardCountsTheLatestPeak: CMA current may be minutes old and low
// while the report's peak shows users on; the guard uses the larger.
func TestLoadGuardCountsTheLatestPeak(t *testing.T) {
	e := NewEngine(testConfig(t)) // max_active_sessions 5
	led := ledger.NewMemory()
	snap := testSnapshot(testNow)
	snap.Leak.CMAActive, snap.Leak.CMAPeak, snap.Leak.CMALoad = 2, 9, 9
	e.Evaluate(snap, led, testNow.Add(-time.Hour))
	d := e.Evaluate(snap, led, testNow)[0]
	if d.RestartNow || d.Reason != ReasonTooManyActiveSessions || d.Inputs.CMALoad != 9 {
		t.Errorf("restart=%v reason=%s load=%d (%s), want too_many_active_sessions on 9", d.RestartNow, d.Reason, d.Inputs.CMALoad, d.Detail)
	}
	if fd, _ := e.EvaluateForced(snap, led, "wb1", testNow); !fd.RestartNow {
		t.Errorf("forced restart refused: %s (%s); --force lifts the load guard", fd.Reason, fd.Detail)
	}
}

// TestRecoveryNeedsASampleProvablyAfterTheRestart: the restart is on
// leakwatch's clock, the sample on the bridge's, which may run up to the
// model's FutureTolerance ahead. A sample stamped one minute after the
// restart may have been taken before it and shows nothing about recovery.
func TestRecoveryNeedsASampleProvablyAfterTheRestart(t *testing.T) {
	e := NewEngine(testConfig(t))
	led := ledger.NewMemory()
	restart := testNow.Add(-5 * time.Minute)
	addRestart(t, led, "wb1", restart, ledger.ResultOK, false)
	end := restart.Add(5 * time.Second)
	snap := testSnapshot(testNow)
	snap.FutureTolerance = 2 * time.Minute
	wb := &snap.WebBridges[0]
	wb.Sessions, wb.LastSeen, wb.LeakKnown = 3, end.Add(time.Minute), false
	if d := e.Evaluate(snap, led, testNow)[0]; d.Recovered || d.Reason != ReasonRecovering {
		t.Errorf("sample 1m after the restart: recovered %v, reason %s; want still recovering", d.Recovered, d.Reason)
	}
	wb.LastSeen = end.Add(3 * time.Minute)
	if d := e.Evaluate(snap, led, testNow)[0]; !d.Recovered {
		t.Errorf("sample 3m after the restart: reason %s (%s); want recovered", d.Reason, d.Detail)
	}
}

// TestNoRestartWhileAnotherIsDown checks that a bridge is not restarted
// while another, just restarted, has not come back: both would be down at
// once. Found by the property test (internal/actuator), which restarted a
// second bridge ten seconds after the first.
func TestNoRestartWhileAnotherIsDown(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxPerDay = 5
	led := ledger.NewMemory()
	snap := testSnapshot(testNow, "wb1", "wb2")
	e := NewEngine(cfg)
	e.Evaluate(shift(snap, -time.Hour), led, testNow.Add(-time.Hour))
	addRestart(t, led, "wb1", testNow.Add(-10*time.Second), ledger.ResultOK, false)
	for _, d := range e.Evaluate(snap, led, testNow) {
		if d.RestartNow {
			t.Fatalf("%s restarted while wb1 has not come back from its restart", d.WebBridge)
		}
		if d.WebBridge == "wb2" && (d.Reason != ReasonRestartInProgress || !strings.Contains(d.Detail, "wb1")) {
			t.Errorf("wb2: reason %s (%s), want %s naming wb1", d.Reason, d.Detail, ReasonRestartInProgress)
		}
	}
	// Once a sample shows wb1 back, wb2 goes in the same evaluation.
	back := shift(snap, 3*time.Minute)
	back.WebBridges[0].Sessions, back.WebBridges[0].LeakKnown = 2, false
	var chosen []string
	for _, d := range e.Evaluate(back, led, testNow.Add(3*time.Minute)) {
		if d.WebBridge == "wb1" && !d.Recovered {
			t.Errorf("wb1 not seen back: %s (%s)", d.Reason, d.Detail)
		}
		if d.RestartNow {
			chosen = append(chosen, d.WebBridge)
		}
	}
	if !slices.Equal(chosen, []string{"wb2"}) {
		t.Fatalf("restarts %v once wb1 is back, want wb2", chosen)
	}
}

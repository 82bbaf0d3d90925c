package actuator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/policy"
)

// fakeRestarter records calls and answers with out/err. onRestart, if set,
// runs inside the call.
type fakeRestarter struct {
	mu        sync.Mutex
	calls     []string
	out       string
	err       error
	onRestart func(ctx context.Context, bridge string)
}

func (f *fakeRestarter) Restart(ctx context.Context, bridge string) (string, error) {
	f.mu.Lock()
	f.calls = append(f.calls, bridge)
	hook := f.onRestart
	f.mu.Unlock()
	if hook != nil {
		hook(ctx, bridge)
	}
	return f.out, f.err
}

func (f *fakeRestarter) n() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// t0 is Saturday 2025-06-07 03:00 in Berlin, inside the window.
var t0 = time.Date(2025, 6, 7, 1, 0, 0, 0, time.UTC)

func baseConfig(t *testing.T) policy.Config {
	return policy.Config{
		Mode: policy.ModeEnforce, Threshold: 20, Sustain: 30 * time.Minute,
		Windows:  []policy.Window{policy.MustParseWindow("daily 01:00-05:00")},
		Location: loadLoc(t, "Europe/Berlin"), MaxActiveSessions: 5,
		Cooldown: 24 * time.Hour, MaxPerDay: 1, RecoverTimeout: 15 * time.Minute,
		FlapMax: 3, FlapPeriod: 7 * 24 * time.Hour,
	}
}

// snap returns a fresh snapshot at now where every named bridge has sessions
// and a proven leak of leak.
func snap(now time.Time, sessions, leak int64, names ...string) cluster.Snapshot {
	s := cluster.Snapshot{Now: now, Leak: cluster.Leak{Valid: true, CMAActive: 1}}
	for _, n := range names {
		s.WebBridges = append(s.WebBridges, cluster.WebBridge{Name: n, Limit: 149, Listed: true, Restartable: true, Seen: true, LastSeen: now.Add(-10 * time.Second),
			Sessions: sessions, LeakKnown: true, LeakLowerBound: leak, LeakAt: now.Add(-10 * time.Second)})
	}
	return s
}

type rig struct {
	t   *testing.T
	dir string
	led *ledger.State
	aud *memAudit
	r   *fakeRestarter
	a   *Actuator
	now time.Time
}

func newRig(t *testing.T, cfg policy.Config) *rig {
	t.Helper()
	rg := &rig{t: t, dir: t.TempDir(), aud: &memAudit{}, r: &fakeRestarter{out: "webbridge restarted"}, now: t0}
	var err error
	if rg.led, err = ledger.Load(rg.dir); err != nil {
		t.Fatal(err)
	}
	rg.start(cfg)
	return rg
}

// start (re)creates the actuator, as a new leakwatch process would.
func (rg *rig) start(cfg policy.Config) {
	rg.t.Helper()
	a, err := New(Options{Config: cfg, Ledger: rg.led, Audit: rg.aud, Restarter: rg.r,
		Clock: func() time.Time { return rg.now.Add(3 * time.Second) }}, rg.now)
	if err != nil {
		rg.t.Fatal(err)
	}
	rg.a = a
}

// steps runs n five-minute steps with the snapshot mk returns.
func (rg *rig) steps(n int, mk func(now time.Time) cluster.Snapshot) []policy.Decision {
	rg.t.Helper()
	var ds []policy.Decision
	for range n {
		ds, _ = rg.a.Step(context.Background(), mk(rg.now), rg.now)
		rg.now = rg.now.Add(5 * time.Minute)
	}
	return ds
}

func leaking(names ...string) func(time.Time) cluster.Snapshot {
	return func(now time.Time) cluster.Snapshot { return snap(now, 60, 40, names...) }
}

func healthy(names ...string) func(time.Time) cluster.Snapshot {
	return func(now time.Time) cluster.Snapshot { return snap(now, 3, 0, names...) }
}

func TestEnforceRestartLifecycle(t *testing.T) {
	rg := newRig(t, baseConfig(t))
	rg.r.onRestart = func(context.Context, string) {
		// The in-flight record is on disk before the command is sent.
		led, err := ledger.Load(rg.dir)
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := led.InFlight(); !ok || f.Bridge != "wb1" {
			t.Errorf("ledger on disk during the restart: in flight %+v %v", f, ok)
		}
	}
	rg.steps(6, leaking("wb1")) // 25 minutes: not yet sustained
	if rg.r.n() != 0 {
		t.Fatalf("restarted before sustain")
	}
	rg.steps(2, leaking("wb1"))
	if rg.r.n() != 1 {
		t.Fatalf("%d restarts after sustain, want 1", rg.r.n())
	}
	ds := rg.steps(1, leaking("wb1")) // leak still shown: recovering
	if ds[0].Reason != policy.ReasonRecovering {
		t.Fatalf("after restart: %s (%s)", ds[0].Reason, ds[0].Detail)
	}
	ds = rg.steps(1, healthy("wb1"))
	if ds[0].Reason != policy.ReasonLeakBelowThreshold {
		t.Fatalf("after recovery: %s (%s)", ds[0].Reason, ds[0].Detail)
	}
	if len(rg.aud.events(audit.EventRecovered)) != 1 {
		t.Error("recovery not audited")
	}
	h := rg.a.History()
	if len(h) != 1 || h[0].Result != ledger.ResultOK || h[0].Output != "webbridge restarted" || h[0].LeakBound != 40 {
		t.Fatalf("history = %+v", h)
	}
	var seq []audit.Event
	for _, e := range rg.aud.entries {
		if e.Event != audit.EventDecision {
			seq = append(seq, e.Event)
		}
	}
	want := []audit.Event{audit.EventRestartStarted, audit.EventRestartFinished, audit.EventRecovered}
	if len(seq) != len(want) {
		t.Fatalf("audit events %v, want %v", seq, want)
	}
	for i := range want {
		if seq[i] != want[i] {
			t.Fatalf("audit events %v, want %v", seq, want)
		}
	}
	st := rg.a.Status()
	if st.Bridges[0].Restarts[ledger.ResultOK] != 1 || st.Bridges[0].LastRestart.Started.IsZero() || st.Bridges[0].Recovering {
		t.Errorf("status = %+v", st.Bridges[0])
	}
}

func TestDecisionAuditedOnlyOnChange(t *testing.T) {
	cfg := baseConfig(t)
	cfg.Mode = policy.ModeObserve
	rg := newRig(t, cfg)
	rg.steps(20, healthy("wb1", "wb2"))
	if n := len(rg.aud.events(audit.EventDecision)); n != 2 {
		t.Fatalf("%d decision entries for 20 unchanged steps of 2 bridges, want 2", n)
	}
	rg.steps(1, leaking("wb1", "wb2")) // both become not_sustained
	if n := len(rg.aud.events(audit.EventDecision)); n != 4 {
		t.Fatalf("%d decision entries after a change, want 4", n)
	}
}

func TestSSHFailureTripsBreaker(t *testing.T) {
	rg := newRig(t, baseConfig(t))
	rg.r.err = errors.New("ssh: handshake failed: host key mismatch")
	rg.steps(8, leaking("wb1"))
	if rg.r.n() != 1 {
		t.Fatalf("%d restart attempts, want 1", rg.r.n())
	}
	br := rg.led.Breaker("wb1")
	if !br.Tripped || br.Reason != policy.TripRestartFailed {
		t.Fatalf("breaker = %+v", br)
	}
	rg.now = rg.now.Add(48 * time.Hour) // next night, cooldown over
	ds := rg.steps(3, leaking("wb1"))
	if rg.r.n() != 1 || ds[0].Reason != policy.ReasonBreakerTripped {
		t.Fatalf("after a failure: %d attempts, reason %s", rg.r.n(), ds[0].Reason)
	}
	if h := rg.a.History(); h[0].Result != ledger.ResultFailed || h[0].Error == "" {
		t.Errorf("history = %+v", h)
	}
	if len(rg.aud.events(audit.EventBreakerTripped)) != 1 {
		t.Error("breaker trip not audited")
	}
}

func TestNoRecoveryTripsBreaker(t *testing.T) {
	rg := newRig(t, baseConfig(t))
	rg.steps(7, leaking("wb1")) // restart at t0+30m
	ds := rg.steps(3, leaking("wb1"))
	if ds[0].Reason != policy.ReasonRecovering {
		t.Fatalf("15 minutes after the restart (3s before the timeout): %s", ds[0].Reason)
	}
	rg.steps(1, leaking("wb1"))
	if br := rg.led.Breaker("wb1"); !br.Tripped || br.Reason != policy.TripNotRecovered {
		t.Fatalf("breaker after recover_timeout = %+v", br)
	}
	// Reloading the ledger keeps the breaker.
	led, err := ledger.Load(rg.dir)
	if err != nil || !led.Breaker("wb1").Tripped {
		t.Fatalf("breaker not saved: %v", err)
	}
}

func TestFlappingTripsBreaker(t *testing.T) {
	cfg := baseConfig(t)
	cfg.FlapMax, cfg.Cooldown = 2, 0
	cfg.MaxPerDay = 10
	cfg.Windows = []policy.Window{policy.MustParseWindow("daily 00:00-24:00")}
	rg := newRig(t, cfg)
	for i := range 2 {
		rg.steps(8, leaking("wb1"))
		rg.steps(1, healthy("wb1"))
		if rg.r.n() != i+1 {
			t.Fatalf("round %d: %d restarts", i, rg.r.n())
		}
	}
	rg.steps(8, leaking("wb1"))
	if rg.r.n() != 2 {
		t.Fatalf("a third restart within flap_period: %d", rg.r.n())
	}
	if br := rg.led.Breaker("wb1"); br.Reason != policy.TripFlapping {
		t.Fatalf("breaker = %+v", br)
	}
	// The operator resets it; the count starts afresh.
	if was, err := rg.a.ResetBreaker("wb1", rg.now); err != nil || !was {
		t.Fatalf("ResetBreaker = %v, %v", was, err)
	}
	rg.steps(8, leaking("wb1"))
	if rg.r.n() != 3 {
		t.Fatalf("after reset: %d restarts, want 3", rg.r.n())
	}
	if len(rg.aud.events(audit.EventBreakerReset)) != 1 {
		t.Error("reset not audited")
	}
}

func TestCooldownAndBudgetSurviveProcessRestart(t *testing.T) {
	cfg := baseConfig(t)
	rg := newRig(t, cfg)
	rg.steps(8, leaking("wb1"))
	rg.steps(1, healthy("wb1"))
	if rg.r.n() != 1 {
		t.Fatal("no first restart")
	}
	// A new process: ledger from disk, fresh engine.
	var err error
	if rg.led, err = ledger.Load(rg.dir); err != nil {
		t.Fatal(err)
	}
	rg.start(cfg)
	ds := rg.steps(12, leaking("wb1", "wb2"))
	if rg.r.n() != 1 {
		t.Fatalf("restarted again after a process restart: %v", rg.r.calls)
	}
	want := map[string]policy.Reason{"wb1": policy.ReasonCooldown, "wb2": policy.ReasonDailyBudgetSpent}
	for _, d := range ds {
		if d.Reason != want[d.WebBridge] {
			t.Errorf("%s: %s (%s), want %s", d.WebBridge, d.Reason, d.Detail, want[d.WebBridge])
		}
	}
}

// TestKilledMidRestart: a leakwatch killed after recording the restart in
// flight; the next one treats it as a restart that may have happened.
func TestKilledMidRestart(t *testing.T) {
	cfg := baseConfig(t)
	dir := t.TempDir()
	led, _ := ledger.Load(dir)
	led.BeginRestart(ledger.Restart{Bridge: "wb1", Started: t0, LeakBound: 40})
	if err := led.Save(); err != nil {
		t.Fatal(err)
	}
	// Killed. Next process:
	led, err := ledger.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	aud := &memAudit{}
	r := &fakeRestarter{}
	now := t0.Add(2 * time.Minute)
	a, err := New(Options{Config: cfg, Ledger: led, Audit: aud, Restarter: r}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(aud.events(audit.EventRestartInterrupted)) != 1 {
		t.Fatal("interrupted restart not audited")
	}
	ds, _ := a.Step(context.Background(), snap(now, 60, 40, "wb1"), now)
	if ds[0].Reason != policy.ReasonRecovering {
		t.Fatalf("after restart: %s", ds[0].Reason)
	}
	// If the leak is gone it recovers; cooldown still counts from t0.
	now = now.Add(5 * time.Minute)
	a.Step(context.Background(), snap(now, 2, 0, "wb1"), now)
	for range 24 {
		now = now.Add(5 * time.Minute)
		ds, _ = a.Step(context.Background(), snap(now, 60, 40, "wb1"), now)
	}
	if r.n() != 0 || ds[0].Reason != policy.ReasonCooldown {
		t.Fatalf("%d restarts, reason %s: cooldown must count from the interrupted restart", r.n(), ds[0].Reason)
	}
	if saved, _ := ledger.Load(dir); saved.History()[0].Result != ledger.ResultInterrupted {
		t.Error("interrupted result not saved")
	}
}

func TestCancelledMidRestartIsInterrupted(t *testing.T) {
	rg := newRig(t, baseConfig(t))
	ctx, cancel := context.WithCancel(context.Background())
	rg.r.err = context.Canceled
	rg.r.onRestart = func(context.Context, string) { cancel() }
	rg.steps(6, leaking("wb1"))
	if _, err := rg.a.Step(ctx, snap(rg.now, 60, 40, "wb1"), rg.now); err != nil {
		t.Fatalf("Step: %v", err)
	}
	h := rg.a.History()
	if len(h) != 1 || h[0].Result != ledger.ResultInterrupted {
		t.Fatalf("history = %+v", h)
	}
	if rg.led.Breaker("wb1").Tripped {
		t.Error("a shutdown mid-restart tripped the breaker; recovery decides")
	}
	if _, ok := rg.led.Recovering("wb1"); !ok {
		t.Error("interrupted restart not awaiting recovery")
	}
}

func TestObserveModeNeverCallsRestarter(t *testing.T) {
	cfg := baseConfig(t)
	cfg.Mode = policy.ModeObserve
	rg := newRig(t, cfg)
	ds := rg.steps(20, leaking("wb1"))
	if rg.r.n() != 0 {
		t.Fatal("observe mode restarted")
	}
	if !ds[0].WouldRestart || ds[0].RestartNow || ds[0].Reason != policy.ReasonObserveMode {
		t.Fatalf("decision = %+v", ds[0])
	}
	if rg.a.Status().Bridges[0].Reason != policy.ReasonObserveMode {
		t.Error("status does not show observe_mode")
	}
	// Switching to enforce acts, and is audited.
	if err := rg.a.SetConfig(baseConfig(t), rg.now); err != nil {
		t.Fatal(err)
	}
	rg.steps(1, leaking("wb1"))
	if rg.r.n() != 1 || len(rg.aud.events(audit.EventConfig)) != 1 {
		t.Fatalf("after enforce: %d restarts, %d config entries", rg.r.n(), len(rg.aud.events(audit.EventConfig)))
	}
	bad := cfg
	bad.Threshold = 0
	if err := rg.a.SetConfig(bad, rg.now); err == nil {
		t.Error("SetConfig accepted an invalid config")
	}
}

func TestForce(t *testing.T) {
	cfg := baseConfig(t)
	cfg.Mode = policy.ModeObserve
	rg := newRig(t, cfg)
	rg.now = t0.Add(6 * time.Hour) // 09:00 Berlin: outside the window
	busy := func(now time.Time) cluster.Snapshot {
		s := snap(now, 60, 40, "wb1", "wb2")
		s.Leak.CMAActive = 50
		return s
	}
	rg.steps(8, busy)
	const alice = `user "alice" (pid 4242)`
	r, err := rg.a.Manual(context.Background(), busy(rg.now), "wb1", true, alice, rg.now)
	if err != nil || !r.Forced || rg.r.n() != 1 {
		t.Fatalf("Force = %+v, %v; %d calls", r, err, rg.r.n())
	}
	started := rg.aud.events(audit.EventRestartStarted)
	if len(started) != 1 || !started[0].Forced {
		t.Fatalf("forced restart not audited as forced: %+v", started)
	}
	// Every entry of an operator's restart names who asked.
	if finished := rg.aud.events(audit.EventRestartFinished); started[0].By != alice || len(finished) != 1 || finished[0].By != alice {
		t.Errorf("forced restart audited by %q, finished %+v; want %s in both", started[0].By, finished, alice)
	}
	// Cooldown still holds for a forced restart, and the refusal is audited.
	_, err = rg.a.Manual(context.Background(), busy(rg.now), "wb1", true, alice, rg.now.Add(10*time.Minute))
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Decision.Reason != policy.ReasonRecovering {
		t.Fatalf("second Force = %v, want refusal (recovering)", err)
	}
	// The breaker is never overridden.
	rg.led.TripBreaker("wb2", policy.TripFlapping, "", rg.now)
	_, err = rg.a.Manual(context.Background(), busy(rg.now), "wb2", true, "", rg.now)
	if !errors.As(err, &refused) || refused.Decision.Reason != policy.ReasonBreakerTripped {
		t.Fatalf("Force over a breaker = %v", err)
	}
	if len(rg.aud.events(audit.EventForceRefused)) != 2 || rg.r.n() != 1 {
		t.Errorf("refusals audited %d, calls %d", len(rg.aud.events(audit.EventForceRefused)), rg.r.n())
	}
	if by := rg.aud.events(audit.EventForceRefused)[0].By; by != alice {
		t.Errorf("force_refused audited by %q, want %s", by, alice)
	}
	if _, err := rg.a.Manual(context.Background(), busy(rg.now), "nope", true, "", rg.now); err == nil {
		t.Error("Force of an unknown bridge succeeded")
	}
}

func TestLedgerSaveFailureSendsNothing(t *testing.T) {
	rg := newRig(t, baseConfig(t))
	rg.steps(6, leaking("wb1"))
	// A non-empty directory in the ledger's place makes every save fail.
	if err := os.MkdirAll(filepath.Join(rg.dir, ledger.FileName, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := rg.a.Step(context.Background(), snap(rg.now.Add(5*time.Minute), 60, 40, "wb1"), rg.now.Add(5*time.Minute))
	if err == nil || rg.r.n() != 0 {
		t.Fatalf("Step = %v with %d calls; want an error and no command sent", err, rg.r.n())
	}
	if _, ok := rg.led.InFlight(); ok {
		t.Error("unsent restart left in flight")
	}
}

func TestNeverTwoAtOnce(t *testing.T) {
	cfg := baseConfig(t)
	cfg.MaxPerDay = 5
	rg := newRig(t, cfg)
	release := make(chan struct{})
	entered := make(chan struct{})
	rg.r.onRestart = func(context.Context, string) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
	}
	rg.steps(6, leaking("wb1", "wb2"))
	now := rg.now
	done := make(chan struct{})
	go func() {
		defer close(done)
		rg.a.Step(context.Background(), snap(now, 60, 40, "wb1", "wb2"), now)
	}()
	<-entered
	// While wb1's command runs, neither a step nor a force starts another.
	ds, _ := rg.a.Step(context.Background(), snap(now.Add(time.Minute), 60, 40, "wb1", "wb2"), now.Add(time.Minute))
	for _, d := range ds {
		if d.RestartNow || d.Reason != policy.ReasonRestartInProgress {
			t.Errorf("%s during a restart: %s", d.WebBridge, d.Reason)
		}
	}
	if _, err := rg.a.Manual(context.Background(), snap(now, 60, 40, "wb1", "wb2"), "wb2", true, "", now.Add(time.Minute)); err == nil {
		t.Error("Force during a restart succeeded")
	}
	if st := rg.a.Status(); st.InFlight == nil {
		t.Error("status does not show the restart in flight")
	}
	close(release)
	<-done
	if rg.r.n() != 1 {
		t.Fatalf("%d restarts, want 1", rg.r.n())
	}
}

// TestWhatIf replays a week in which the logs keep showing the leak: each
// ordered restart counts as recovered at once, a fresh sustain is needed,
// and cooldown, budget and flapping apply.
func TestWhatIf(t *testing.T) {
	cfg := baseConfig(t)
	cfg.Mode = policy.ModeObserve // what-if decides as enforce anyway
	cfg.FlapMax = 3
	r := &fakeRestarter{}
	a, err := New(Options{Config: cfg, Ledger: ledger.NewMemory(), Audit: audit.Discard, Restarter: r, WhatIf: true}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Config: cfg, Ledger: ledger.NewMemory(), WhatIf: true}, t0); err != nil {
		t.Fatalf("what-if without a Restarter: %v", err)
	}
	var restartTimes []time.Time
	for now := t0; now.Before(t0.Add(7 * 24 * time.Hour)); now = now.Add(5 * time.Minute) {
		before := r.n()
		a.Step(context.Background(), snap(now, 60, 40, "wb1"), now)
		if r.n() > before {
			restartTimes = append(restartTimes, now)
		}
	}
	if len(restartTimes) != 3 {
		t.Fatalf("what-if restarts at %v, want 3 (then flapping)", restartTimes)
	}
	for i := 1; i < len(restartTimes); i++ {
		if gap := restartTimes[i].Sub(restartTimes[i-1]); gap < cfg.Cooldown {
			t.Errorf("restarts %s apart, cooldown %s", gap, cfg.Cooldown)
		}
	}
	st := a.Status()
	if !st.WhatIf || st.Bridges[0].Breaker.Reason != policy.TripFlapping {
		t.Errorf("status = %+v", st)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	cfg := baseConfig(t)
	if _, err := New(Options{Config: cfg, Restarter: &fakeRestarter{}}, t0); err == nil {
		t.Error("New without a ledger succeeded")
	}
	cfg.Threshold = 0
	if _, err := New(Options{Config: cfg, Ledger: ledger.NewMemory(), Restarter: &fakeRestarter{}}, t0); err == nil {
		t.Error("New with an invalid config succeeded")
	}
}

// TestAuditFileEndToEnd writes a real audit file through a restart and reads
// it back with ReadTail.
func TestAuditFileEndToEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := &fakeRestarter{out: "ok"}
	now := t0
	a, err := New(Options{Config: baseConfig(t), Ledger: ledger.NewMemory(), Audit: l, Restarter: r,
		Clock: func() time.Time { return now.Add(2 * time.Second) }}, t0)
	if err != nil {
		t.Fatal(err)
	}
	for ; now.Before(t0.Add(40 * time.Minute)); now = now.Add(5 * time.Minute) {
		a.Step(context.Background(), snap(now, 60, 40, "wb1"), now)
	}
	entries, err := audit.ReadTail(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	var events []audit.Event
	for _, e := range entries {
		events = append(events, e.Event)
	}
	if len(entries) != 3 || entries[0].Event != audit.EventRestartStarted || entries[0].Inputs == nil || entries[0].Inputs.LeakBound != 40 ||
		entries[1].Event != audit.EventRestartFinished || entries[1].Result != "ok" || !entries[1].Time.Equal(t0.Add(30*time.Minute+2*time.Second)) ||
		entries[2].Reason != string(policy.ReasonRecovering) {
		t.Fatalf("tail events %v: %+v", events, entries)
	}
}

// TestRestartNotSentSpendsNoBudget: wb1's MMP cannot be reached, so its
// restart is never sent. That trips wb1's breaker, but must not spend the
// day's only restart: wb2, queued behind it, is restarted at the next step.
func TestRestartNotSentSpendsNoBudget(t *testing.T) {
	rg := newRig(t, baseConfig(t)) // max_per_day 1
	rg.r.onRestart = func(_ context.Context, bridge string) {
		rg.r.mu.Lock()
		defer rg.r.mu.Unlock()
		rg.r.err = nil
		if bridge == "wb1" {
			rg.r.err = fmt.Errorf("dialling cms1:22: connection refused: %w", ErrNotSent)
		}
	}
	mk := func(now time.Time) cluster.Snapshot {
		s := snap(now, 60, 40, "wb1", "wb2")
		s.WebBridges[0].LeakLowerBound = 50 // wb1 first
		return s
	}
	rg.steps(8, mk)
	if got := rg.r.calls; len(got) != 2 || got[0] != "wb1" || got[1] != "wb2" {
		t.Fatalf("restart calls = %v, want [wb1 wb2]", got)
	}
	if br := rg.led.Breaker("wb1"); !br.Tripped || br.Reason != policy.TripRestartFailed {
		t.Errorf("wb1 breaker = %+v, want tripped: an SSH fault needs an operator", br)
	}
	h := rg.a.History()
	if h[0].Bridge != "wb1" || h[0].Result != ledger.ResultNotSent {
		t.Errorf("history[0] = %+v, want wb1 not_sent", h[0])
	}
	if n := rg.led.RestartsSince(t0.Add(-time.Hour)); n != 1 {
		t.Errorf("restarts counted for the budget = %d, want 1 (wb2 only)", n)
	}
	if _, ok := rg.led.LastRestart("wb1"); ok {
		t.Error("a restart never sent counts as wb1's last restart (its samples would stop proving)")
	}
}

// failingStore is a ledger store that refuses every write, as the HA store
// does for a deposed leader.
type failingStore struct{ err error }

func (f failingStore) Save(ledger.Record) error { return f.err }

// A new HA leader adopts the ledger its predecessor left with a restart in
// flight: it counts as interrupted and is never repeated in the cooldown.
func TestAdoptFinishesInFlightAsInterrupted(t *testing.T) {
	rg := newRig(t, baseConfig(t))
	rec := ledger.EmptyRecord()
	rec.InFlight = &ledger.Restart{Bridge: "wb1", Started: t0, LeakBound: 40}
	deposed := errors.New("deposed")
	refusing, err := ledger.NewWithStore(rec, failingStore{deposed})
	if err != nil {
		t.Fatal(err)
	}
	if err := rg.a.Adopt(refusing, t0.Add(time.Minute), true); !errors.Is(err, deposed) {
		t.Fatalf("Adopt through a refusing store = %v, want its error", err)
	}
	if len(rg.aud.events(audit.EventRestartInterrupted)) != 0 {
		t.Error("an interrupted restart that could not be saved was audited")
	}
	taken, err := ledger.NewWithStore(rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	rg.now = t0.Add(time.Minute)
	if err := rg.a.Adopt(taken, rg.now, true); err != nil {
		t.Fatal(err)
	}
	if len(rg.aud.events(audit.EventRestartInterrupted)) != 1 {
		t.Error("interrupted restart not audited")
	}
	st := rg.a.Status()
	if st.InFlight != nil || len(st.Bridges) == 0 || st.Bridges[0].Restarts[ledger.ResultInterrupted] != 1 {
		t.Errorf("status after adopting: %+v", st)
	}
	rg.now = rg.now.Add(5 * time.Minute)
	rg.steps(1, healthy("wb1"))           // the restart did run
	ds := rg.steps(12*20, leaking("wb1")) // then 20 hours of a proven leak
	if rg.r.n() != 0 || ds[0].Reason != policy.ReasonCooldown {
		t.Errorf("%d restarts, reason %s; the interrupted restart must hold the cooldown", rg.r.n(), ds[0].Reason)
	}
	// Without abandon (a standby's view) the in-flight record stays.
	view, _ := ledger.NewWithStore(rec, nil)
	if err := rg.a.Adopt(view, rg.now, false); err != nil {
		t.Fatal(err)
	}
	if rg.a.Status().InFlight == nil {
		t.Error("a standby's view lost the leader's in-flight restart")
	}
}

// A standby observes: its streaks warm up, it writes, audits and sends
// nothing, and once it adopts the ledger as leader it acts at once on a
// leak it has watched for the whole sustain.
func TestObserveKeepsStreaksWarmAndActsNot(t *testing.T) {
	cfg := baseConfig(t)
	cfg.Sustain = time.Hour
	rg := newRig(t, cfg)
	view, _ := ledger.NewWithStore(ledger.EmptyRecord(), failingStore{errors.New("standby")})
	if err := rg.a.Adopt(view, rg.now, false); err != nil {
		t.Fatal(err)
	}
	var ds []policy.Decision
	for range 13 { // an hour of a proven leak, watched
		ds = rg.a.Observe(snap(rg.now, 60, 40, "wb1"), rg.now)
		rg.now = rg.now.Add(5 * time.Minute)
	}
	if rg.r.n() != 0 || len(rg.aud.entries) != 0 {
		t.Fatalf("observing sent %d commands and wrote %d audit entries", rg.r.n(), len(rg.aud.entries))
	}
	if !ds[0].RestartNow {
		t.Fatalf("after an hour of leak the standby's verdict is %s, want the restart the leader would order", ds[0].Reason)
	}
	if st := rg.a.Status(); st.Bridges[0].Reason != ds[0].Reason {
		t.Errorf("status shows %s, want the observed verdict", st.Bridges[0].Reason)
	}
	led, _ := ledger.NewWithStore(ledger.EmptyRecord(), nil)
	if err := rg.a.Adopt(led, rg.now, true); err != nil {
		t.Fatal(err)
	}
	rg.steps(1, leaking("wb1"))
	if rg.r.n() != 1 {
		t.Errorf("the new leader sent %d restarts on its first step, want 1: its streak was warm", rg.r.n())
	}
	if len(rg.aud.events(audit.EventDecision)) != 1 {
		t.Error("the new leader did not audit its first decision")
	}
}

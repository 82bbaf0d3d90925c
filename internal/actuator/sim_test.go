package actuator

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/policy"
)

// memAudit collects entries in memory.
type memAudit struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (m *memAudit) Write(e audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

func (m *memAudit) events(ev audit.Event) []audit.Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []audit.Entry
	for _, e := range m.entries {
		if e.Event == ev {
			out = append(out, e)
		}
	}
	return out
}

// simBridge is one Web Bridge of the simulated world.
type simBridge struct {
	name    string
	genuine int64   // real users now
	leaked  int64   // leaked sessions now
	rate    float64 // leaked sessions per hour
	frac    float64 // fractional leak carried between steps
	stale   bool
	// brokenRestarts makes a successful restart leave the leak in place.
	brokenRestarts bool
	lastRestartEnd time.Time
	// pending is the end of a successful restart not yet seen to work.
	pending time.Time
	// resetAt is the operator's last breaker reset; starts lists restarts.
	resetAt time.Time
	starts  []time.Time
}

// world is a synthetic cluster whose Web Bridges leak and whose restarts
// (through the world's Restarter) clear the leak. It checks the invariants
// of domain.md at every restart the actuator orders.
type world struct {
	t      *testing.T
	rng    *rand.Rand
	cfg    policy.Config
	act    *Actuator
	loc    *time.Location
	inWin  func(time.Time) bool // independent window check
	failP  float64              // probability a restart command fails
	bs     []*simBridge
	outage time.Time // data invalid until
	desk   int64

	// What the actuator's current step sees.
	now  time.Time
	snap cluster.Snapshot

	// Independent records for the invariants.
	inRestart  atomic.Int32
	starts     []time.Time
	lastStart  map[string]time.Time
	aboveSince map[string]time.Time
	restarts   int
	violations int
}

func newWorld(t *testing.T, seed uint64, cfg policy.Config, n int) *world {
	w := &world{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b9)), cfg: cfg, loc: cfg.Location,
		lastStart: map[string]time.Time{}, aboveSince: map[string]time.Time{}}
	for i := range n {
		w.bs = append(w.bs, &simBridge{name: fmt.Sprintf("wb%d", i+1), rate: 0.05 + w.rng.Float64()*w.rng.Float64()*3})
	}
	return w
}

// advance moves the world to now: users come and go with the time of day,
// leaks grow, components go stale now and then.
func (w *world) advance(now time.Time, step time.Duration) {
	h := now.In(w.loc).Hour()
	busy := int64(2)
	if h >= 8 && h < 18 {
		busy = 30
	}
	w.desk = w.rng.Int64N(busy/2 + 1)
	for _, b := range w.bs {
		b.genuine = w.rng.Int64N(busy + 1)
		b.frac += b.rate * step.Hours()
		for b.frac >= 1 {
			b.leaked++
			b.frac--
		}
		b.leaked = min(b.leaked, 149)
		if w.rng.Float64() < 0.002 {
			b.stale = !b.stale
		}
	}
	if w.rng.Float64() < 0.003 {
		w.outage = now.Add(time.Duration(w.rng.IntN(90)) * time.Minute)
	}
}

func (w *world) snapshot(now time.Time) cluster.Snapshot {
	s := cluster.Snapshot{Now: now}
	var genuine int64
	for _, b := range w.bs {
		genuine += b.genuine
	}
	active := genuine + w.desk
	peak := active + w.rng.Int64N(3)
	valid := !now.Before(w.outage)
	s.Leak = cluster.Leak{Valid: valid, CMAActive: active, CMAPeak: peak}
	if !valid {
		s.Leak.Reason = "call bridge cb1 stale"
	}
	for _, b := range w.bs {
		sessions := min(b.genuine+b.leaked, 149)
		wb := cluster.WebBridge{Name: b.name, Limit: 149, Listed: true, Restartable: true, Seen: true, Stale: b.stale,
			LastSeen: now.Add(-time.Duration(w.rng.IntN(50)+1) * time.Second), Sessions: sessions}
		if valid && !b.stale {
			wb.LeakKnown, wb.LeakLowerBound, wb.LeakAt = true, max(0, sessions-peak), wb.LastSeen
		}
		s.WebBridges = append(s.WebBridges, wb)
	}
	return s
}

// step runs one actuator step and the per-step checks.
func (w *world) step(ctx context.Context, now time.Time) []policy.Decision {
	w.now, w.snap = now, w.snapshot(now)
	// Track, independently of the engine, each bridge's unbroken streak.
	for _, wb := range w.snap.WebBridges {
		b := w.bridge(wb.Name)
		if !b.pending.IsZero() && wb.LastSeen.After(b.pending) &&
			(wb.Sessions < w.cfg.Threshold || wb.LeakKnown && wb.LeakAt.After(b.pending) && wb.LeakLowerBound < w.cfg.Threshold) {
			b.pending = time.Time{} // came back
		}
		if w.snap.Leak.Valid && !wb.Stale && wb.LeakKnown && wb.LeakLowerBound >= w.cfg.Threshold && wb.LeakAt.After(b.lastRestartEnd) {
			if _, ok := w.aboveSince[wb.Name]; !ok {
				w.aboveSince[wb.Name] = now
			}
		} else {
			delete(w.aboveSince, wb.Name)
		}
	}
	ds, err := w.act.Step(ctx, w.snap, now)
	if err != nil && w.failP == 0 {
		w.t.Errorf("%s: Step: %v", now, err)
	}
	n := 0
	for _, d := range ds {
		if d.Restart {
			n++
		}
	}
	if n > 1 {
		w.violatef("%d restarts ordered in one step", n)
	}
	return ds
}

func (w *world) bridge(name string) *simBridge {
	for _, b := range w.bs {
		if b.name == name {
			return b
		}
	}
	w.t.Fatalf("unknown bridge %s", name)
	return nil
}

func (w *world) violatef(format string, args ...any) {
	w.violations++
	if w.violations <= 10 {
		w.t.Errorf("%s: invariant violated: %s", w.now.In(w.loc).Format(time.RFC3339), fmt.Sprintf(format, args...))
	}
}

// Restart is the world's Restarter: it checks every invariant, then clears
// the bridge's sessions unless the command fails.
func (w *world) Restart(ctx context.Context, bridge string) (string, error) {
	if w.inRestart.Add(1) != 1 {
		w.violatef("two restarts at once")
	}
	defer w.inRestart.Add(-1)
	now, cfg := w.now, w.cfg
	wb, _ := w.snap.WebBridge(bridge)
	if cfg.Mode != policy.ModeEnforce {
		w.violatef("restart of %s in %s mode", bridge, cfg.Mode)
	}
	emergency := cfg.EmergencyAtLimit && wb.Sessions >= wb.Limit
	if !w.inWin(now) && !emergency {
		w.violatef("restart of %s outside windows (local %s) without emergency", bridge, now.In(w.loc).Format("Mon 15:04"))
	}
	if w.snap.Leak.CMAActive > cfg.MaxActiveSessions {
		w.violatef("restart of %s with %d CMA sessions > %d", bridge, w.snap.Leak.CMAActive, cfg.MaxActiveSessions)
	}
	if last, ok := w.lastStart[bridge]; ok && now.Sub(last) < cfg.Cooldown {
		w.violatef("restart of %s %s after its last, cooldown %s", bridge, now.Sub(last), cfg.Cooldown)
	}
	inDay := 0
	for _, s := range w.starts {
		if now.Sub(s) < 24*time.Hour {
			inDay++
		}
	}
	if inDay >= cfg.MaxPerDay {
		w.violatef("restart of %s would be number %d within 24h (max %d)", bridge, inDay+1, cfg.MaxPerDay)
	}
	if !w.snap.Leak.Valid || wb.Stale || !wb.Seen || now.Sub(w.snap.Now) > policy.MaxSnapshotAge {
		w.violatef("restart of %s on invalid or stale data", bridge)
	}
	if !wb.LeakKnown || wb.LeakLowerBound < cfg.Threshold {
		w.violatef("restart of %s without a proven leak ≥ threshold (%v %d)", bridge, wb.LeakKnown, wb.LeakLowerBound)
	}
	if since, ok := w.aboveSince[bridge]; !ok || now.Sub(since) < cfg.Sustain {
		w.violatef("restart of %s before the leak was sustained for %s", bridge, cfg.Sustain)
	}
	for _, bs := range w.act.Status().Bridges {
		if bs.Name == bridge && bs.Breaker.Tripped {
			w.violatef("restart of %s with its breaker tripped (%s)", bridge, bs.Breaker.Reason)
		}
	}
	b := w.bridge(bridge)
	if !b.pending.IsZero() {
		w.violatef("restart of %s before it came back from its restart at %s", bridge, b.pending)
	}
	flaps := 0
	for _, s := range b.starts {
		if now.Sub(s) < cfg.FlapPeriod && !s.Before(b.resetAt) {
			flaps++
		}
	}
	if flaps >= cfg.FlapMax {
		w.violatef("restart of %s number %d within flap_period %s (flap_max %d)", bridge, flaps+1, cfg.FlapPeriod, cfg.FlapMax)
	}
	b.starts = append(b.starts, now)
	w.starts = append(w.starts, now)
	w.lastStart[bridge] = now
	w.restarts++
	if w.failP > 0 && w.rng.Float64() < w.failP {
		return "", errors.New("ssh: connect to host wb: connection refused")
	}
	b.lastRestartEnd = now.Add(5 * time.Second)
	b.pending = b.lastRestartEnd
	delete(w.aboveSince, bridge)
	if !b.brokenRestarts {
		b.leaked, b.genuine, b.frac = 0, 0, 0
	}
	return "webbridge restarted", nil
}

// runWorld steps w from start over span.
func runWorld(t *testing.T, w *world, start time.Time, span time.Duration, step func() time.Duration, each func(now time.Time)) {
	ctx := context.Background()
	for now := start; now.Before(start.Add(span)); now = now.Add(step()) {
		w.advance(now, 5*time.Minute)
		w.step(ctx, now)
		if each != nil {
			each(now)
		}
	}
}

func newSimActuator(t *testing.T, w *world, led *ledger.State, aud audit.Writer, start time.Time) {
	t.Helper()
	clockNow := func() time.Time { return w.now.Add(5 * time.Second) }
	a, err := New(Options{Config: w.cfg, Ledger: led, Audit: aud, Restarter: w, Clock: clockNow}, start)
	if err != nil {
		t.Fatal(err)
	}
	w.act = a
}

// reset is the operator resetting bridge's breaker at now.
func (w *world) reset(bridge string, now time.Time) {
	was, err := w.act.ResetBreaker(bridge, now)
	if err != nil {
		w.t.Fatal(err)
	}
	if was {
		b := w.bridge(bridge)
		b.resetAt, b.pending = now, time.Time{}
	}
}

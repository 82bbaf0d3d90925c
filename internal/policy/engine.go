package policy

import (
	"cmp"
	"fmt"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
)

// MaxSnapshotAge is how old a snapshot may be, relative to the evaluation
// time, before its data counts as invalid: a decision must not rest on a
// picture of the cluster taken long ago.
const MaxSnapshotAge = 2 * time.Minute

// Inputs are the facts a decision was made on, for the audit log.
type Inputs struct {
	DataValid  bool      `json:"data_valid"`
	DataReason string    `json:"data_reason,omitempty"`
	Stale      bool      `json:"stale"`
	LastSeen   time.Time `json:"last_seen,omitzero"`
	LeakKnown  bool      `json:"leak_known"`
	LeakBound  int64     `json:"leak_bound"`
	LeakAt     time.Time `json:"leak_at,omitzero"`
	Threshold  int64     `json:"threshold"`
	// AboveSince is when the proven leak was first seen at or above
	// threshold in the current unbroken streak.
	AboveSince time.Time `json:"above_since,omitzero"`
	Sessions   int64     `json:"sessions"`
	Limit      int64     `json:"limit"`
	CMAActive  int64     `json:"cma_active"`
	// CMALoad is what the load guard compares with MaxActiveSessions:
	// per Call Bridge the larger of CMA current and its latest peak.
	CMALoad           int64     `json:"cma_load"`
	MaxActiveSessions int64     `json:"max_active_sessions"`
	InWindow          bool      `json:"in_window"`
	Window            string    `json:"window,omitempty"`
	RestartsLast24h   int       `json:"restarts_last_24h"`
	LastRestart       time.Time `json:"last_restart,omitzero"`
}

// Decision is the policy's verdict on one Web Bridge at one time.
type Decision struct {
	WebBridge string
	// RestartNow is true when the bridge is to be restarted now: every guard
	// holds and the mode is enforce (or the restart is forced).
	RestartNow bool
	// WouldRestart is true when every guard holds, in either mode.
	WouldRestart bool
	// Reason is the first guard that failed, observe_mode, or none.
	Reason Reason
	// Detail says the same in words for people.
	Detail string
	// Emergency is true when the window guard was lifted by the emergency rule.
	Emergency bool
	Inputs    Inputs
	// NextWindow is the next window start when now is outside every window.
	NextWindow time.Time

	// Recovered asks the caller to end the bridge's recovery in the ledger
	// (ledger.Ledger.MarkRecovered); the rest of the decision assumes it.
	Recovered bool
	// Trip, when not empty, asks the caller to trip the bridge's breaker
	// with this reason and Detail (ledger.Ledger.TripBreaker).
	Trip string
}

// Engine evaluates the policy. It keeps the per-bridge history the policy
// needs between evaluations (the start of each unbroken leak streak); this
// lives in memory only, so a restarted leakwatch waits a full sustain again,
// which errs on the safe side. Durable history comes from the ledger.
//
// An Engine is not safe for concurrent use.
type Engine struct {
	cfg   Config
	above map[string]time.Time
}

// NewEngine returns an Engine for cfg, which should have passed Validate.
func NewEngine(cfg Config) *Engine {
	return &Engine{cfg: cfg, above: map[string]time.Time{}}
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// SetConfig replaces the configuration (on reload). Leak streaks are kept:
// the next evaluation breaks those below a raised threshold.
func (e *Engine) SetConfig(cfg Config) { e.cfg = cfg }

// Lift names guards a forced restart lifts.
type Lift struct {
	Window bool // the window guard
	Load   bool // the max_active_sessions guard
}

// Evaluate decides for every Web Bridge in snap, in snap's order. At most one
// decision has Restart (or WouldRestart) set. led is only read; the caller
// applies each decision's Recovered and Trip to it.
func (e *Engine) Evaluate(snap cluster.Snapshot, led ledger.Reader, now time.Time) []Decision {
	e.track(snap, led, now)
	out := make([]Decision, 0, len(snap.WebBridges))
	for _, wb := range snap.WebBridges {
		out = append(out, e.decide(snap, wb, led, now, Lift{}))
	}
	e.choose(out)
	return out
}

// EvaluateForced decides for one bridge as for `restart --force`: the window
// and load guards are lifted, every other guard holds (the breaker too: an
// operator resets it explicitly first), and Restart is set in either mode
// when the rest pass. ok is false if the bridge is not in snap.
func (e *Engine) EvaluateForced(snap cluster.Snapshot, led ledger.Reader, bridge string, now time.Time) (d Decision, ok bool) {
	wb, ok := snap.WebBridge(bridge)
	if !ok {
		return Decision{}, false
	}
	e.track(snap, led, now)
	d = e.decide(snap, wb, led, now, Lift{Window: true, Load: true})
	if d.WouldRestart {
		d.RestartNow, d.Reason, d.Detail = true, ReasonNone, "forced: window and load guards lifted"
	}
	return d, true
}

// track updates each bridge's leak streak. A break is an evaluation where the
// proven leak is unknown, below threshold, from a sample not newer than the
// bridge's last restart, or where the data is invalid or stale.
func (e *Engine) track(snap cluster.Snapshot, led ledger.Reader, now time.Time) {
	present := make(map[string]bool, len(snap.WebBridges))
	for _, wb := range snap.WebBridges {
		present[wb.Name] = true
		if e.qualifies(snap, wb, led, now) {
			if _, ok := e.above[wb.Name]; !ok {
				e.above[wb.Name] = now
			}
		} else {
			delete(e.above, wb.Name)
		}
	}
	for name := range e.above {
		if !present[name] {
			delete(e.above, name)
		}
	}
}

func (e *Engine) qualifies(snap cluster.Snapshot, wb cluster.WebBridge, led ledger.Reader, now time.Time) bool {
	if !dataValid(snap, now) || !wb.Seen || wb.Stale || !wb.LeakKnown || wb.LeakLowerBound < e.cfg.Threshold {
		return false
	}
	last, ok := led.LastRestart(wb.Name)
	return !ok || snap.SampledAfter(wb.LeakAt, last.End())
}

func dataValid(snap cluster.Snapshot, now time.Time) bool {
	return snap.Leak.Valid && !snap.Now.IsZero() && now.Sub(snap.Now) <= MaxSnapshotAge
}

// decide runs the guards for one bridge, in the order the package doc lists.
func (e *Engine) decide(snap cluster.Snapshot, wb cluster.WebBridge, led ledger.Reader, now time.Time, lift Lift) Decision {
	cfg := e.cfg
	loc := cfg.Location
	d := Decision{WebBridge: wb.Name}
	in := &d.Inputs
	*in = Inputs{
		DataValid: dataValid(snap, now), DataReason: snap.Leak.Reason,
		Stale: wb.Stale || !wb.Seen, LastSeen: wb.LastSeen,
		LeakKnown: wb.LeakKnown, LeakBound: wb.LeakLowerBound, LeakAt: wb.LeakAt,
		Threshold: cfg.Threshold, AboveSince: e.above[wb.Name],
		Sessions: wb.Sessions, Limit: wb.Limit,
		CMAActive: snap.Leak.CMAActive, CMALoad: snap.Leak.Load(), MaxActiveSessions: cfg.MaxActiveSessions,
		RestartsLast24h: led.RestartsSince(now.Add(-24 * time.Hour)),
	}
	last, hasLast := led.LastRestart(wb.Name)
	if hasLast {
		in.LastRestart = last.Started
	}
	if w, ok := e.windowAt(now); ok {
		in.InWindow, in.Window = true, w.String()
	} else {
		d.NextWindow = e.nextWindow(now)
	}
	block := func(r Reason, format string, args ...any) Decision {
		d.Reason, d.Detail = r, fmt.Sprintf(format, args...)
		return d
	}

	if br := led.Breaker(wb.Name); br.Tripped {
		return block(ReasonBreakerTripped, "breaker tripped (%s) since %s; automatic action stopped until an operator resets it", br.Reason, stamp(br.Since, loc))
	}
	if rec, ok := led.Recovering(wb.Name); ok {
		switch {
		case e.recovered(snap, wb, rec.RestartEnded):
			d.Recovered = true
		case !now.Before(rec.RestartEnded.Add(cfg.RecoverTimeout)):
			d.Trip = TripNotRecovered
			return block(ReasonBreakerTripped, "restarted at %s but no sample within recover_timeout %s showed the leak gone", stamp(rec.RestartEnded, loc), cfg.RecoverTimeout)
		default:
			return block(ReasonRecovering, "restarted at %s; waiting for a sample showing the leak gone (until %s)", stamp(rec.RestartEnded, loc), stamp(rec.RestartEnded.Add(cfg.RecoverTimeout), loc))
		}
	}
	if f, ok := led.InFlight(); ok && f.Bridge == wb.Name {
		return block(ReasonRestartInProgress, "restart in progress since %s", stamp(f.Started, loc))
	}
	if !in.DataValid {
		why := snap.Leak.Reason
		if age := now.Sub(snap.Now); snap.Now.IsZero() || age > MaxSnapshotAge {
			why = fmt.Sprintf("snapshot is %s old", age.Round(time.Second))
		}
		return block(ReasonDataInvalid, "cluster data invalid: %s", why)
	}
	if in.Stale {
		if !wb.Seen {
			return block(ReasonStale, "no sample from this Web Bridge yet")
		}
		return block(ReasonStale, "last sample at %s is stale", stamp(wb.LastSeen, loc))
	}
	if !wb.LeakKnown {
		return block(ReasonLeakUnknown, "leak not proven: no sample covered by every Call Bridge's report period")
	}
	if hasLast && !snap.SampledAfter(wb.LeakAt, last.End()) {
		return block(ReasonLeakUnknown, "no proven sample since the restart at %s", stamp(last.End(), loc))
	}
	rule := e.need(wb, now) // the plan in force: threshold or forecast
	if !rule.ok {
		return block(rule.reason, "%s", rule.why)
	}
	flapFrom := now.Add(-cfg.FlapPeriod)
	if reset := led.Breaker(wb.Name).ResetAt; reset.After(flapFrom) {
		flapFrom = reset // an operator's reset starts the count afresh
	}
	if n := led.BridgeRestartsSince(wb.Name, flapFrom); n >= cfg.FlapMax {
		d.Trip = TripFlapping
		return block(ReasonBreakerTripped, "needs another restart after %d within flap_period %s (flap_max %d)", n, cfg.FlapPeriod, cfg.FlapMax)
	}
	if hasLast && now.Before(last.Started.Add(cfg.Cooldown)) {
		return block(ReasonCooldown, "last restart at %s; cooldown %s until %s", stamp(last.Started, loc), cfg.Cooldown, stamp(last.Started.Add(cfg.Cooldown), loc))
	}
	if f, ok := led.InFlight(); ok {
		return block(ReasonRestartInProgress, "restart of %s in progress since %s", f.Bridge, stamp(f.Started, loc))
	}
	if other, rec, ok := e.otherDown(snap, led, wb.Name); ok {
		// Its command has returned, but it is down or not yet seen back:
		// restarting this one now would leave two bridges down at once.
		return block(ReasonRestartInProgress, "%s restarted at %s and has not come back yet; never two restarts at once", other, stamp(rec.RestartEnded, loc))
	}
	if in.RestartsLast24h >= cfg.MaxPerDay {
		return block(ReasonDailyBudgetSpent, "%d restarts in the last 24h (max_per_day %d)", in.RestartsLast24h, cfg.MaxPerDay)
	}
	if !in.InWindow && !lift.Window {
		if cfg.EmergencyAtLimit && wb.Limit > 0 && wb.Sessions >= wb.Limit {
			d.Emergency = true
		} else {
			if len(cfg.Windows) == 0 {
				return block(ReasonOutsideWindow, "no policy.windows configured: automatic restarts are never allowed")
			}
			return block(ReasonOutsideWindow, "outside window (next: %s)", stamp(d.NextWindow, loc))
		}
	}
	if in.CMALoad > cfg.MaxActiveSessions && !lift.Load {
		return block(ReasonTooManyActiveSessions, "%d CMA sessions active or at the latest report's peak (max_active_sessions %d)",
			in.CMALoad, cfg.MaxActiveSessions)
	}
	if !wb.Restartable {
		// Checked last, so the page still says how far the other guards
		// are. A discovered bridge has no MMP to reach: a restart could
		// only fail, trip its breaker and hold back the listed bridges.
		if !wb.Listed {
			return block(ReasonNotRestartable, "every other guard holds, but it was discovered from its hostname, not listed in inventory.webbridges with an mmp.address: leakwatch never restarts it")
		}
		return block(ReasonNotRestartable, "every other guard holds, but it is listed without an mmp.address: leakwatch has no way to restart it")
	}
	d.WouldRestart = true
	if cfg.Mode == ModeEnforce {
		d.RestartNow = true
		return block(ReasonNone, "%s%s", rule.why, emergencyWords(d.Emergency))
	}
	return block(ReasonObserveMode, "%s%s (observe mode)", rule.why, emergencyWords(d.Emergency))
}

func emergencyWords(emergency bool) string {
	if emergency {
		return "; emergency: at session limit outside any window"
	}
	return ""
}

// recovered reports whether a sample taken after the restart shows the leak
// gone: sessions below threshold, or a proven bound below threshold. Sample
// times are the bridge's clock and the restart is leakwatch's: the snapshot
// says when one is provably after the other.
func (e *Engine) recovered(snap cluster.Snapshot, wb cluster.WebBridge, restart time.Time) bool {
	if !wb.Seen || !snap.SampledAfter(wb.LastSeen, restart) {
		return false
	}
	if wb.Sessions < e.cfg.Threshold {
		return true
	}
	return wb.LeakKnown && snap.SampledAfter(wb.LeakAt, restart) && wb.LeakLowerBound < e.cfg.Threshold
}

// otherDown returns a bridge other than name that was restarted and that
// this snapshot does not yet show back.
func (e *Engine) otherDown(snap cluster.Snapshot, led ledger.Reader, name string) (string, ledger.Recovery, bool) {
	for _, other := range led.RecoveringBridges() {
		if other == name {
			continue
		}
		rec, _ := led.Recovering(other)
		if wb, ok := snap.WebBridge(other); ok && e.recovered(snap, wb, rec.RestartEnded) {
			continue // back: its decision in this evaluation ends its recovery
		}
		return other, rec, true
	}
	return "", ledger.Recovery{}, false
}

// choose keeps one restart among the decisions: emergencies first, then the
// largest proven leak, then the name. The others are queued.
func (e *Engine) choose(ds []Decision) {
	best := -1
	for i, d := range ds {
		if !d.WouldRestart {
			continue
		}
		if best < 0 || cmp.Or(
			-compareBool(d.Emergency, ds[best].Emergency),
			-cmp.Compare(d.Inputs.LeakBound, ds[best].Inputs.LeakBound),
			cmp.Compare(d.WebBridge, ds[best].WebBridge),
		) < 0 {
			best = i
		}
	}
	for i := range ds {
		if ds[i].WouldRestart && i != best {
			ds[i].RestartNow, ds[i].WouldRestart = false, false
			ds[i].Reason = ReasonQueued
			ds[i].Detail = fmt.Sprintf("%s goes first; never two restarts at once", ds[best].WebBridge)
		}
	}
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// InWindow reports whether now is inside any configured window.
func (e *Engine) InWindow(now time.Time) bool {
	_, ok := e.windowAt(now)
	return ok
}

func (e *Engine) windowAt(now time.Time) (Window, bool) {
	for _, w := range e.cfg.Windows {
		if w.Contains(now, e.cfg.Location) {
			return w, true
		}
	}
	return Window{}, false
}

// nextWindow returns the earliest window start after now, or zero if none.
func (e *Engine) nextWindow(now time.Time) time.Time {
	var next time.Time
	for _, w := range e.cfg.Windows {
		if t, ok := w.Next(now, e.cfg.Location); ok && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}

func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "never"
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Mon 2006-01-02 15:04 MST")
}

// Package actuator carries out the restart policy: it evaluates the policy
// on each snapshot, records decision changes in the audit log, and in enforce
// mode performs at most one restart per step through a Restarter, keeping the
// ledger (in flight before the command, finished after), recoveries and
// breakers up to date.
package actuator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/policy"
)

// Restarter restarts one Web Bridge. The lead's SSH client implements it; it
// must honour ctx and return what the command printed. An error that
// matches ErrNotSent (errors.Is) says the command provably never reached
// the MMP.
type Restarter interface {
	Restart(ctx context.Context, bridge string) (output string, err error)
}

// ErrNotSent marks a restart error where the command never reached the
// MMP: the connection, the host key check or authentication failed before
// it was sent. Such an attempt is recorded as not_sent: it trips the
// bridge's breaker (an SSH fault needs an operator) but spends no daily
// budget, so a listed bridge queued behind it can still be restarted.
var ErrNotSent = errors.New("restart command not sent")

// Options configure an Actuator.
type Options struct {
	// Config is the policy; it must pass Validate.
	Config policy.Config
	// Ledger is the restart record; Save is called after every change.
	Ledger ledger.Ledger
	// Audit receives entries; nil discards them.
	Audit audit.Writer
	// Restarter performs restarts; required, except in what-if mode where
	// nil means every restart succeeds.
	Restarter Restarter
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
	// Clock stamps the end of a restart (the step's time stamps its start);
	// nil means time.Now. Ignored in what-if mode, where restarts take no time.
	Clock func() time.Time
	// WhatIf runs the policy as in enforce mode on replayed time: each
	// ordered restart is passed to Restarter (a fake), succeeds or fails as
	// it says, takes no time, and a successful one counts as recovered at
	// once. The replayed logs still show the leak (no bridge was really
	// restarted), so the bridge then needs a fresh sustained streak, after
	// its cooldown, under the daily budget, and flapping trips its breaker,
	// exactly as it would live. Use a memory ledger and audit.Discard.
	WhatIf bool
}

// succeed is the what-if Restarter: every restart works.
type succeed struct{}

func (succeed) Restart(context.Context, string) (string, error) { return "what-if: not sent", nil }

// Actuator ties the policy engine, the ledger, the audit log and a
// Restarter. It is safe for concurrent use; restarts are serialised by the
// ledger's in-flight record, which is also held while the command runs.
type Actuator struct {
	mu     sync.Mutex
	eng    *policy.Engine
	led    ledger.Ledger
	audit  audit.Writer
	r      Restarter
	log    *slog.Logger
	clock  func() time.Time
	whatIf bool

	last   map[string]policy.Decision
	counts map[string]map[ledger.Result]uint64
	// auditErrors counts audit entries that could not be written.
	auditErrors uint64
}

// New returns an Actuator. A restart the ledger shows in flight was left by
// a leakwatch that stopped mid-restart: it is finished as interrupted at now
// (it counts for cooldown and budget, and the bridge must show recovery
// within recover_timeout or its breaker trips) and audited.
func New(opts Options, now time.Time) (*Actuator, error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, fmt.Errorf("restart policy: %w", err)
	}
	if opts.WhatIf && opts.Restarter == nil {
		opts.Restarter = succeed{}
	}
	if opts.Ledger == nil || opts.Restarter == nil {
		return nil, errors.New("actuator: ledger and restarter are required")
	}
	a := &Actuator{
		eng:    policy.NewEngine(opts.Config),
		led:    opts.Ledger,
		audit:  opts.Audit,
		r:      opts.Restarter,
		log:    opts.Logger,
		clock:  opts.Clock,
		whatIf: opts.WhatIf,
		last:   map[string]policy.Decision{},
		counts: map[string]map[ledger.Result]uint64{},
	}
	if a.audit == nil {
		a.audit = audit.Discard
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.clock == nil {
		a.clock = time.Now
	}
	a.eng.SetConfig(a.effective(opts.Config))
	if err := a.abandonInFlight(now); err != nil {
		return nil, err
	}
	return a, nil
}

// abandonInFlight finishes a restart the ledger shows in flight as
// interrupted at now: the process (or the leader) that began it stopped
// before it finished. It counts for cooldown and budget, and the bridge
// must show recovery within recover_timeout or its breaker trips.
func (a *Actuator) abandonInFlight(now time.Time) error {
	r, found, err := a.led.AbandonInFlight(now)
	if err != nil {
		return fmt.Errorf("closing interrupted restart: %w", err)
	}
	if !found {
		return nil
	}
	if err := a.led.Save(); err != nil {
		return err
	}
	a.count(r.Bridge, r.Result)
	a.log.Warn("restart was in flight when leakwatch stopped; result unknown, watching for recovery", "bridge", r.Bridge, "started", r.Started)
	a.write(audit.Entry{Time: now, Event: audit.EventRestartInterrupted, Bridge: r.Bridge, Forced: r.Forced,
		Result: string(r.Result), Detail: r.Error})
	return nil
}

// Adopt replaces the ledger: a new HA leader's, read from etcd at the start
// of its term, or a standby's read-only view of the leader's. With abandon,
// a restart it shows in flight is finished as interrupted at now, as New
// does (the leader that began it is gone); its save must succeed, or the
// old ledger stays and the error is returned. A restart running meanwhile
// finishes in the ledger it began in.
func (a *Actuator) Adopt(led ledger.Ledger, now time.Time, abandon bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.led
	a.led = led
	if abandon {
		if err := a.abandonInFlight(now); err != nil {
			a.led = old
			return err
		}
		// A new leader audits its first decisions afresh: a standby's
		// observations were never audited.
		clear(a.last)
	}
	return nil
}

// Observe is a standby's step: it evaluates the policy on snap with the
// ledger it holds (the leader's, read only) so that its leak streaks are
// as warm as the leader's when it takes over, and its page and metrics show
// the same verdicts. It changes no ledger, audits nothing and never
// restarts: the leader does all of that.
func (a *Actuator) Observe(snap cluster.Snapshot, now time.Time) []policy.Decision {
	a.mu.Lock()
	defer a.mu.Unlock()
	ds := a.eng.Evaluate(snap, a.led, now)
	present := make(map[string]bool, len(ds))
	for _, d := range ds {
		present[d.WebBridge] = true
		a.last[d.WebBridge] = d
	}
	for name := range a.last {
		if !present[name] {
			delete(a.last, name)
		}
	}
	return ds
}

// effective returns the engine configuration: what-if always decides as enforce.
func (a *Actuator) effective(cfg policy.Config) policy.Config {
	if a.whatIf {
		cfg.Mode = policy.ModeEnforce
	}
	return cfg
}

// SetConfig replaces the policy (on reload) after validating it; a mode
// change is audited.
func (a *Actuator) SetConfig(cfg policy.Config, now time.Time) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("restart policy: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.eng.Config().Mode
	a.eng.SetConfig(a.effective(cfg))
	if mode := a.eng.Config().Mode; mode != old {
		a.write(audit.Entry{Time: now, Event: audit.EventConfig, Mode: string(mode), Detail: fmt.Sprintf("mode %s -> %s", old, mode)})
	}
	return nil
}

// Step evaluates the policy on snap at now, records recoveries, breaker
// trips and decision changes, and in enforce (or what-if) mode performs the
// one restart the policy orders, if any. It returns the decisions. The
// returned error reports a ledger that could not be saved or a failed
// restart; the decisions are valid either way.
func (a *Actuator) Step(ctx context.Context, snap cluster.Snapshot, now time.Time) ([]policy.Decision, error) {
	a.mu.Lock()
	ds := a.eng.Evaluate(snap, a.led, now)
	err := a.applyTransitions(ds, now)
	present := make(map[string]bool, len(ds))
	for _, d := range ds {
		present[d.WebBridge] = true
		a.recordDecision(d, now)
	}
	for name := range a.last {
		if !present[name] {
			delete(a.last, name)
		}
	}
	var order *policy.Decision
	for i := range ds {
		if ds[i].RestartNow {
			order = &ds[i]
		}
	}
	if order == nil {
		a.mu.Unlock()
		return ds, err
	}
	_, rerr := a.restartLocked(ctx, *order, false, "", now) // unlocks
	return ds, errors.Join(err, rerr)
}

// restartLocked performs one restart. It is called with a.mu held and
// releases it while the command runs: the saved in-flight record keeps any
// other restart out meanwhile.
func (a *Actuator) restartLocked(ctx context.Context, d policy.Decision, forced bool, by string, now time.Time) (ledger.Restart, error) {
	bridge := d.WebBridge
	reason := d.Detail
	if forced {
		reason = "forced"
	}
	begin := ledger.Restart{Bridge: bridge, Started: now, LeakBound: d.Inputs.LeakBound, Reason: reason, Forced: forced, Emergency: d.Emergency}
	// The restart is finished in the ledger it began in, even if another
	// was adopted while the command ran.
	led := a.led
	if err := led.BeginRestart(begin); err != nil {
		a.mu.Unlock()
		return ledger.Restart{}, err
	}
	if err := led.Save(); err != nil {
		// The command is never sent without a durable in-flight record.
		led.CancelRestart(bridge)
		a.mu.Unlock()
		a.log.Error("restart not sent: ledger not saved", "bridge", bridge, "err", err)
		return ledger.Restart{}, fmt.Errorf("restart of %s not sent: %w", bridge, err)
	}
	a.write(audit.Entry{Time: now, Event: audit.EventRestartStarted, Bridge: bridge, Mode: string(a.eng.Config().Mode),
		Reason: string(d.Reason), Detail: d.Detail, Forced: forced, Emergency: d.Emergency, By: by, Inputs: &d.Inputs})
	a.log.Info("restarting web bridge", "bridge", bridge, "leak_bound", d.Inputs.LeakBound, "forced", forced, "emergency", d.Emergency)
	a.mu.Unlock()

	output, cmdErr := a.r.Restart(ctx, bridge)

	a.mu.Lock()
	defer a.mu.Unlock()
	end := now
	if !a.whatIf {
		end = a.clock()
	}
	result, errMsg := ledger.ResultOK, ""
	switch {
	case cmdErr != nil && errors.Is(cmdErr, ErrNotSent):
		result, errMsg = ledger.ResultNotSent, cmdErr.Error()
	case cmdErr != nil && ctx.Err() != nil:
		// Cancelled (shutdown) mid-command: it may have run.
		result, errMsg = ledger.ResultInterrupted, cmdErr.Error()
	case cmdErr != nil:
		result, errMsg = ledger.ResultFailed, cmdErr.Error()
	}
	r, err := led.FinishRestart(bridge, end, result, output, errMsg)
	if err != nil {
		return ledger.Restart{}, err
	}
	a.count(bridge, result)
	a.write(audit.Entry{Time: end, Event: audit.EventRestartFinished, Bridge: bridge, Forced: forced, By: by,
		Result: string(result), Output: r.Output, Error: r.Error})
	switch {
	case result == ledger.ResultFailed, result == ledger.ResultNotSent:
		detail := "restart command failed: " + r.Error
		led.TripBreaker(bridge, policy.TripRestartFailed, detail, end)
		a.write(audit.Entry{Time: end, Event: audit.EventBreakerTripped, Bridge: bridge, Reason: policy.TripRestartFailed, Detail: detail})
		a.log.Error("web bridge restart failed; breaker tripped", "bridge", bridge, "err", cmdErr)
	case a.whatIf:
		led.MarkRecovered(bridge)
	}
	if err := led.Save(); err != nil {
		return r, err
	}
	if result == ledger.ResultFailed || result == ledger.ResultNotSent {
		return r, fmt.Errorf("restarting %s: %w", bridge, cmdErr)
	}
	return r, nil
}

// applyTransitions records the recoveries and breaker trips the decisions
// ask for, and saves the ledger if any.
func (a *Actuator) applyTransitions(ds []policy.Decision, now time.Time) error {
	changed := false
	for _, d := range ds {
		if d.Recovered {
			a.led.MarkRecovered(d.WebBridge)
			changed = true
			a.write(audit.Entry{Time: now, Event: audit.EventRecovered, Bridge: d.WebBridge, Inputs: &d.Inputs})
			a.log.Info("web bridge recovered after restart", "bridge", d.WebBridge)
		}
		if d.Trip != "" {
			a.led.TripBreaker(d.WebBridge, d.Trip, d.Detail, now)
			changed = true
			a.write(audit.Entry{Time: now, Event: audit.EventBreakerTripped, Bridge: d.WebBridge, Reason: d.Trip, Detail: d.Detail, Inputs: &d.Inputs})
			a.log.Error("breaker tripped; automatic restarts of this web bridge stopped", "bridge", d.WebBridge, "reason", d.Trip, "detail", d.Detail)
		}
	}
	if !changed {
		return nil
	}
	return a.led.Save()
}

// recordDecision audits d when its verdict or reason differs from the
// bridge's previous decision.
func (a *Actuator) recordDecision(d policy.Decision, now time.Time) {
	prev, seen := a.last[d.WebBridge]
	a.last[d.WebBridge] = d
	if seen && prev.Reason == d.Reason && prev.RestartNow == d.RestartNow && prev.WouldRestart == d.WouldRestart && prev.Emergency == d.Emergency {
		return
	}
	v := policy.VerdictOf(d)
	a.log.Info("decision", "bridge", d.WebBridge, "verdict", string(v), "reason", string(d.Reason), "detail", d.Detail)
	a.write(audit.Entry{Time: now, Event: audit.EventDecision, Bridge: d.WebBridge, Mode: string(a.eng.Config().Mode),
		Decision: string(v), Reason: string(d.Reason), Detail: d.Detail, Emergency: d.Emergency, Inputs: &d.Inputs})
}

// ResetBreaker clears bridge's breaker (an operator's decision) and audits
// it. It reports whether the breaker was tripped.
func (a *Actuator) ResetBreaker(bridge string, now time.Time) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	was := a.led.ResetBreaker(bridge, now)
	if !was {
		return false, nil
	}
	delete(a.last, bridge) // audit the next decision afresh
	if err := a.led.Save(); err != nil {
		return true, err
	}
	a.write(audit.Entry{Time: now, Event: audit.EventBreakerReset, Bridge: bridge})
	a.log.Info("breaker reset", "bridge", bridge)
	return true, nil
}

func (a *Actuator) count(bridge string, r ledger.Result) {
	m := a.counts[bridge]
	if m == nil {
		m = map[ledger.Result]uint64{}
		a.counts[bridge] = m
	}
	m[r]++
}

func (a *Actuator) write(e audit.Entry) {
	if err := a.audit.Write(e); err != nil {
		a.auditErrors++
		a.log.Error("audit entry lost", "event", e.Event, "bridge", e.Bridge, "err", err)
	}
}

// BridgeStatus is one bridge's policy state, for metrics and the status page.
type BridgeStatus struct {
	Name         string
	Reason       policy.Reason
	Detail       string
	WouldRestart bool
	Emergency    bool
	NextWindow   time.Time
	Recovering   bool
	Breaker      ledger.Breaker
	LastRestart  ledger.Restart // zero if none in the kept history
	// Restarts counts restarts by result since this process started (a
	// Prometheus counter: restarts_total{bridge,result}).
	Restarts map[ledger.Result]uint64
}

// Status is the actuator's state at one moment.
type Status struct {
	Mode     policy.Mode
	WhatIf   bool
	InFlight *ledger.Restart
	// Bridges are sorted by name: every bridge of the last step, and every
	// bridge the ledger or the counters know.
	Bridges []BridgeStatus
	// AuditErrors counts audit entries that could not be written.
	AuditErrors uint64
}

// Status returns a copy of the current state.
func (a *Actuator) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := Status{Mode: a.eng.Config().Mode, WhatIf: a.whatIf, AuditErrors: a.auditErrors}
	if f, ok := a.led.InFlight(); ok {
		st.InFlight = &f
	}
	names := a.led.Bridges()
	for n := range a.last {
		names = append(names, n)
	}
	for n := range a.counts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range slices.Compact(names) {
		bs := BridgeStatus{Name: n, Breaker: a.led.Breaker(n), Restarts: map[ledger.Result]uint64{}}
		if d, ok := a.last[n]; ok {
			bs.Reason, bs.Detail, bs.WouldRestart, bs.Emergency, bs.NextWindow = d.Reason, d.Detail, d.WouldRestart, d.Emergency, d.NextWindow
		}
		_, bs.Recovering = a.led.Recovering(n)
		bs.LastRestart, _ = a.led.LastRestart(n)
		for r, c := range a.counts[n] {
			bs.Restarts[r] = c
		}
		st.Bridges = append(st.Bridges, bs)
	}
	return st
}

// History returns the ledger's finished restarts, oldest first.
func (a *Actuator) History() []ledger.Restart {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.led.History()
}

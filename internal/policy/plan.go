package policy

import (
	"fmt"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
)

// Plan is the rule that says whether a bridge needs a restart at all; the
// guards then say whether it may have one now.
type Plan string

const (
	// PlanThreshold restarts a bridge whose proven leak has stayed at or
	// above threshold for sustain.
	PlanThreshold Plan = "threshold"
	// PlanForecast restarts such a bridge only when its forecast says it
	// would reach its limit before the end of the next window after this
	// one (plus forecast_margin); while the forecast is unknown it falls
	// back to the threshold rule.
	PlanForecast Plan = "forecast"
)

// ParsePlan parses the plan config value; empty means threshold.
func ParsePlan(s string) (Plan, error) {
	switch Plan(s) {
	case "":
		return PlanThreshold, nil
	case PlanThreshold, PlanForecast:
		return Plan(s), nil
	}
	return "", fmt.Errorf("plan: %q is not one of threshold, forecast", s)
}

// Verdict is the one word every view of a decision uses (page, log, audit,
// API): what leakwatch does about the bridge now.
type Verdict string

const (
	// VerdictRestart: leakwatch restarts the bridge now.
	VerdictRestart Verdict = "restart"
	// VerdictWouldRestart: every guard holds, but the mode is observe.
	VerdictWouldRestart Verdict = "would_restart"
	// VerdictHold: the plan in force says no restart is needed yet.
	VerdictHold Verdict = "hold"
	// VerdictBlocked: a restart may be needed, but a guard stops it, or the
	// data cannot tell.
	VerdictBlocked Verdict = "blocked"
)

// Verdicts lists every verdict.
var Verdicts = []Verdict{VerdictRestart, VerdictWouldRestart, VerdictHold, VerdictBlocked}

// Words returns the verdict as people read it: "would restart".
func (v Verdict) Words() string {
	if v == VerdictWouldRestart {
		return "would restart"
	}
	return string(v)
}

// VerdictOf returns the decision's verdict.
func VerdictOf(d Decision) Verdict {
	switch {
	case d.RestartNow:
		return VerdictRestart
	case d.WouldRestart:
		return VerdictWouldRestart
	}
	return ReasonVerdict(d.Reason)
}

// ReasonVerdict returns the verdict a decision with reason r has (none and
// observe_mode mean restart and would_restart).
func ReasonVerdict(r Reason) Verdict {
	switch r {
	case ReasonNone:
		return VerdictRestart
	case ReasonObserveMode:
		return VerdictWouldRestart
	case ReasonLeakBelowThreshold, ReasonNotSustained, ReasonForecastNotDue:
		return VerdictHold
	}
	return VerdictBlocked
}

// Summary is the decision in one line, verdict first: "hold: forecast full
// in 23 days; next check in the window of Sun 02:30".
func Summary(d Decision) string {
	return VerdictOf(d).Words() + ": " + d.Detail
}

// need is what the plan in force says about one bridge whose leak is proven.
type need struct {
	ok     bool   // a restart is needed
	reason Reason // why not, when !ok
	why    string // in words, either way
}

// need applies the plan to wb.
func (e *Engine) need(wb cluster.WebBridge, now time.Time) need {
	thr := e.thresholdRule(wb, now)
	if e.cfg.Plan != PlanForecast {
		return thr
	}
	f := wb.Forecast
	if !f.Known {
		thr.why = "forecast " + f.Reason + "; threshold rule: " + thr.why
		return thr
	}
	fc := e.forecastRule(f, now)
	if !fc.ok {
		return fc
	}
	if !thr.ok {
		// The threshold stays the least leak worth cutting users for.
		thr.why = fc.why + ", but " + thr.why
		return thr
	}
	return fc
}

// thresholdRule: the proven leak has stayed at or above threshold for sustain.
func (e *Engine) thresholdRule(wb cluster.WebBridge, now time.Time) need {
	cfg, loc := e.cfg, e.cfg.Location
	if wb.LeakLowerBound < cfg.Threshold {
		return need{reason: ReasonLeakBelowThreshold, why: fmt.Sprintf("proven leak %d below threshold %d", wb.LeakLowerBound, cfg.Threshold)}
	}
	since := e.above[wb.Name]
	if since.IsZero() || now.Sub(since) < cfg.Sustain {
		return need{reason: ReasonNotSustained, why: fmt.Sprintf("proven leak %d ≥ %d since %s; sustain %s not reached", wb.LeakLowerBound, cfg.Threshold, stamp(since, loc), cfg.Sustain)}
	}
	return need{ok: true, why: fmt.Sprintf("proven leak %d ≥ %d since %s", wb.LeakLowerBound, cfg.Threshold, stamp(since, loc))}
}

// forecastRule: the forecast reaches the limit before the end of the next
// window after this one (the window now, or the next one when outside),
// plus the margin.
func (e *Engine) forecastRule(f cluster.Forecast, now time.Time) need {
	loc := e.cfg.Location
	thisStart, thisEnd, ok := e.windowOccurrence(now)
	if !ok {
		return need{reason: ReasonOutsideWindow, why: "forecast plan: no policy.windows configured"}
	}
	nextStart, nextEnd, ok := e.windowOccurrence(thisEnd)
	if !ok {
		nextStart, nextEnd = thisStart, thisEnd
	}
	check := nextStart // when the rule is asked again
	if now.Before(thisStart) {
		check = thisStart
	}
	if !f.Growing() {
		return need{reason: ReasonForecastNotDue, why: fmt.Sprintf("forecast: leak not growing (%s); next check in the window of %s", f.Reason, short(check, now, loc))}
	}
	deadline := nextEnd.Add(e.cfg.ForecastMargin)
	margin := ""
	if e.cfg.ForecastMargin > 0 {
		margin = " (margin " + fmtSpan(e.cfg.ForecastMargin) + ")"
	}
	if f.Full.Before(deadline) {
		return need{ok: true, why: fmt.Sprintf("forecast full %s, before the end of the next window %s%s", short(f.Full, now, loc), short(nextEnd, now, loc), margin)}
	}
	return need{reason: ReasonForecastNotDue, why: fmt.Sprintf("forecast full in %s (%s); next check in the window of %s",
		fmtSpan(f.Full.Sub(now)), short(f.Full, now, loc), short(check, now, loc))}
}

// windowOccurrence returns the window occurrence in force at t, or the next
// one to start after t.
func (e *Engine) windowOccurrence(t time.Time) (start, end time.Time, ok bool) {
	return e.cfg.WindowAt(t)
}

// WindowAt returns the window occurrence in force at t, or else the next one
// to start after t; ok is false when no window is configured.
func (c Config) WindowAt(t time.Time) (start, end time.Time, ok bool) {
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	for _, w := range c.Windows {
		if s, en, in := w.current(t, loc); in && (!ok || s.Before(start)) {
			start, end, ok = s, en, true
		}
	}
	if ok {
		return start, end, true
	}
	for _, w := range c.Windows {
		if s, in := w.Next(t, loc); in && (!ok || s.Before(start)) {
			start, ok = s, true
			_, end, _ = w.current(s, loc)
		}
	}
	return start, end, ok
}

// short prints a time of the coming days for people: "Tue 14:00", with the
// date when a week or more from now: "Thu 2026-12-24 14:00".
func short(t, now time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	if d := t.Sub(now); d >= 7*24*time.Hour || d <= -7*24*time.Hour {
		return t.In(loc).Format("Mon 2006-01-02 15:04")
	}
	return t.In(loc).Format("Mon 15:04")
}

// fmtSpan prints a duration for people: "23 days", "14h", "40m".
func fmtSpan(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24+0.5))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()+0.5))
	}
	return fmt.Sprintf("%dm", int(d.Minutes()+0.5))
}

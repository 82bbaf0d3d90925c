package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/policy"
)

// Classes name how alarming a line is; the page colours by them.
const (
	classOK    = "ok"    // healthy, nothing to do
	classInfo  = "info"  // held back by an ordinary guard (window, cooldown, ...)
	classWarn  = "warn"  // needs watching: stale data, leak building, restart running
	classCrit  = "crit"  // needs a person: breaker tripped, restart failed
	classAct   = "act"   // leakwatch acts now
	classMuted = "muted" // nothing known yet
)

// verdict says in words what the policy thinks of one Web Bridge, and how
// alarming that is. inFlight is the restart in progress, if any.
func verdict(bs actuator.BridgeStatus, inFlight *ledger.Restart, loc *time.Location) (words, class string) {
	detail := bs.Detail
	if detail == "" {
		detail = strings.ReplaceAll(string(bs.Reason), "_", " ")
	}
	switch {
	case bs.Breaker.Tripped:
		why := bs.Breaker.Detail
		if why == "" {
			why = strings.ReplaceAll(bs.Breaker.Reason, "_", " ")
		}
		return fmt.Sprintf("blocked: breaker tripped: %s — run leakwatch reset %s", why, bs.Name), classCrit
	case inFlight != nil && inFlight.Bridge == bs.Name:
		return "restart: in progress since " + inFlight.Started.In(loc).Format("15:04:05"), classAct
	case bs.Recovering:
		return "blocked: restarted, waiting for recovery: " + detail, classWarn
	}
	if bs.Reason == "" {
		return "no decision yet", classMuted
	}
	// The policy's one vocabulary (policy.Verdict), coloured by meaning:
	// acting purple, would-act and data trouble amber, held green, blocked
	// by an ordinary guard blue.
	v := policy.ReasonVerdict(bs.Reason)
	words = v.Words() + ": " + detail
	switch v {
	case policy.VerdictRestart:
		return words, classAct
	case policy.VerdictWouldRestart:
		return words, classWarn
	case policy.VerdictHold:
		if bs.Reason == policy.ReasonNotSustained {
			return words, classWarn // a leak at threshold, being watched
		}
		return words, classOK
	}
	switch bs.Reason {
	case policy.ReasonStale, policy.ReasonDataInvalid, policy.ReasonLeakUnknown, policy.ReasonNotRestartable:
		return words, classWarn
	}
	return words, classInfo
}

// age says how long ago t was, relative to now: "42s ago", "14m ago",
// "3h12m ago", "5d ago".
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in " + span(-d) + " (clock skew?)"
	case d < time.Second:
		return "just now"
	}
	return span(d) + " ago"
}

func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		h := int(d / time.Hour)
		if m := int(d%time.Hour) / int(time.Minute); m > 0 {
			return fmt.Sprintf("%dh%02dm", h, m)
		}
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

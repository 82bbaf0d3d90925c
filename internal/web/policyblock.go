package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/policy"
)

// policyRow is one setting of the policy in force, as loaded.
type policyRow struct {
	Key, Value string
	// Default is "" when the value is the default, else the default.
	Default string
}

// policyRows lists the policy block: mode, plan, windows with the next
// one's local time, and every guard, each marked when not the default.
func policyRows(c policy.Config, now time.Time) []policyRow {
	d := policy.DefaultConfig()
	var rows []policyRow
	add := func(key, value, def string) {
		r := policyRow{Key: key, Value: value}
		if value != def {
			r.Default = def
		}
		rows = append(rows, r)
	}
	plan := c.Plan
	if plan == "" {
		plan = policy.PlanThreshold
	}
	add("mode", string(c.Mode), string(d.Mode))
	add("plan", string(plan), string(d.Plan))
	add("threshold", fmt.Sprintf("%d sessions proven leaked", c.Threshold), fmt.Sprintf("%d sessions proven leaked", d.Threshold))
	add("sustain", c.Sustain.String(), d.Sustain.String())
	if plan == policy.PlanForecast {
		add("forecast_margin", c.ForecastMargin.String(), d.ForecastMargin.String())
	}
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	add("timezone", loc.String(), d.Location.String())
	ws := make([]string, len(c.Windows))
	for i, w := range c.Windows {
		ws[i] = w.String()
	}
	windows := "none: automatic restarts never happen"
	if len(ws) > 0 {
		windows = strings.Join(ws, ", ")
		if s, e, ok := c.WindowAt(now); ok {
			if now.Before(s) {
				windows += "; next " + s.In(loc).Format("Mon 2006-01-02 15:04 MST") + " (in " + span(s.Sub(now)) + ")"
			} else {
				windows += "; open now, until " + e.In(loc).Format("15:04 MST")
			}
		}
	}
	add("windows", windows, "none: automatic restarts never happen")
	add("max_active_sessions", fmt.Sprintf("at most %d CMA sessions in the cluster", c.MaxActiveSessions), fmt.Sprintf("at most %d CMA sessions in the cluster", d.MaxActiveSessions))
	add("cooldown", c.Cooldown.String(), d.Cooldown.String())
	add("max_per_day", fmt.Sprintf("%d restarts in 24h", c.MaxPerDay), fmt.Sprintf("%d restarts in 24h", d.MaxPerDay))
	onOff := func(b bool) string {
		if b {
			return "on: at the limit, the window guard is lifted"
		}
		return "off"
	}
	add("emergency_at_limit", onOff(c.EmergencyAtLimit), onOff(d.EmergencyAtLimit))
	add("recover_timeout", c.RecoverTimeout.String(), d.RecoverTimeout.String())
	add("flap_max / flap_period", fmt.Sprintf("%d in %s", c.FlapMax, c.FlapPeriod), fmt.Sprintf("%d in %s", d.FlapMax, d.FlapPeriod))
	return rows
}

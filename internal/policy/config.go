package policy

import (
	"errors"
	"fmt"
	"time"

	"github.com/leakwatch/leakwatch/internal/ledger"
)

// Mode says whether the policy acts.
type Mode string

const (
	// ModeObserve decides, records and exports, and never restarts anything.
	ModeObserve Mode = "observe"
	// ModeEnforce restarts Web Bridges when every guard holds.
	ModeEnforce Mode = "enforce"
)

// ParseMode parses the mode config value.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case ModeObserve, ModeEnforce:
		return Mode(s), nil
	}
	return "", fmt.Errorf("mode: %q is not one of observe, enforce", s)
}

// Config is the restart policy. Field comments give the config key.
type Config struct {
	// Mode (mode) is observe or enforce.
	Mode Mode
	// Plan (plan) is the rule that says a bridge needs a restart.
	Plan Plan
	// ForecastMargin (forecast_margin) is the forecast plan's safety margin
	// past the end of the next window.
	ForecastMargin time.Duration
	// Threshold (threshold) is the smallest proven leak, in sessions, that
	// justifies a restart.
	Threshold int64
	// Sustain (sustain) is how long the proven leak must stay at or above
	// Threshold, without a break, before a restart.
	Sustain time.Duration
	// Windows (windows) are the times a restart is allowed.
	Windows []Window
	// Location (timezone) is the zone the windows are read in.
	Location *time.Location
	// MaxActiveSessions (max_active_sessions) is the most CMA sessions
	// active in the cluster at which a restart is still allowed.
	MaxActiveSessions int64
	// Cooldown (cooldown) is the least time between two restarts of one bridge.
	Cooldown time.Duration
	// MaxPerDay (max_per_day) is the most restarts in the cluster within any
	// 24 hours.
	MaxPerDay int
	// RecoverTimeout (recover_timeout) is how long a restarted bridge has to
	// show its leak gone before its breaker trips.
	RecoverTimeout time.Duration
	// EmergencyAtLimit (emergency_at_limit) lifts the window guard for a
	// bridge at its session limit.
	EmergencyAtLimit bool
	// FlapMax (flap_max) is the most restarts of one bridge within
	// FlapPeriod; a bridge needing one more trips its breaker.
	FlapMax int
	// FlapPeriod (flap_period) is the period FlapMax counts over.
	FlapPeriod time.Duration
}

// DefaultConfig returns the defaults: observe mode and conservative guards.
// Windows are left empty on purpose: an operator must say when restarts are
// allowed, and without a window (or the emergency rule) none ever is.
func DefaultConfig() Config {
	return Config{
		Mode:              ModeObserve,
		Plan:              PlanThreshold,
		ForecastMargin:    24 * time.Hour,
		Threshold:         20,
		Sustain:           time.Hour,
		Location:          time.UTC,
		MaxActiveSessions: 5,
		Cooldown:          24 * time.Hour,
		MaxPerDay:         1,
		RecoverTimeout:    15 * time.Minute,
		FlapMax:           3,
		FlapPeriod:        7 * 24 * time.Hour,
	}
}

// Validate returns every problem in c, each naming its config key.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, err := ParseMode(string(c.Mode)); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParsePlan(string(c.Plan)); err != nil {
		errs = append(errs, err)
	}
	if c.ForecastMargin < 0 {
		bad("forecast_margin: must not be negative, got %s", c.ForecastMargin)
	}
	if c.Threshold < 1 {
		bad("threshold: must be at least 1 session, got %d", c.Threshold)
	}
	if c.Sustain < 0 {
		bad("sustain: must not be negative, got %s", c.Sustain)
	}
	if c.Location == nil {
		bad("timezone: missing")
	}
	if c.MaxActiveSessions < 0 {
		bad("max_active_sessions: must not be negative, got %d", c.MaxActiveSessions)
	}
	if c.Cooldown < 0 || c.Cooldown > ledger.Retention {
		bad("cooldown: must be between 0 and %s (the restart history kept), got %s", ledger.Retention, c.Cooldown)
	}
	if c.MaxPerDay < 1 {
		bad("max_per_day: must be at least 1, got %d", c.MaxPerDay)
	}
	if c.RecoverTimeout <= 0 {
		bad("recover_timeout: must be positive, got %s", c.RecoverTimeout)
	}
	if c.FlapMax < 1 {
		bad("flap_max: must be at least 1, got %d", c.FlapMax)
	}
	if c.FlapPeriod <= 0 || c.FlapPeriod > ledger.Retention {
		bad("flap_period: must be positive and at most %s (the restart history kept), got %s", ledger.Retention, c.FlapPeriod)
	}
	return errors.Join(errs...)
}

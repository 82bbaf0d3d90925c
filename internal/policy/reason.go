package policy

// Reason is why a bridge is, or is not, restarted. The values are stable
// snake_case codes used as a metric label value; one per guard.
type Reason string

// The reasons, in the order the guards are checked.
const (
	ReasonNone               Reason = "none"
	ReasonBreakerTripped     Reason = "breaker_tripped"
	ReasonRecovering         Reason = "recovering"
	ReasonRestartInProgress  Reason = "restart_in_progress"
	ReasonDataInvalid        Reason = "data_invalid"
	ReasonStale              Reason = "stale"
	ReasonLeakUnknown        Reason = "leak_unknown"
	ReasonLeakBelowThreshold Reason = "leak_below_threshold"
	ReasonNotSustained       Reason = "not_sustained"
	// ReasonForecastNotDue: the forecast plan holds a bridge that would
	// last past the next window after this one.
	ReasonForecastNotDue        Reason = "forecast_not_due"
	ReasonCooldown              Reason = "cooldown"
	ReasonDailyBudgetSpent      Reason = "daily_budget_spent"
	ReasonOutsideWindow         Reason = "outside_window"
	ReasonTooManyActiveSessions Reason = "too_many_active_sessions"
	ReasonNotRestartable        Reason = "not_restartable"
	ReasonQueued                Reason = "queued"
	ReasonObserveMode           Reason = "observe_mode"
)

// Reasons lists every reason, for initialising metric label sets.
var Reasons = []Reason{
	ReasonNone, ReasonBreakerTripped, ReasonRecovering, ReasonRestartInProgress,
	ReasonDataInvalid, ReasonStale, ReasonLeakUnknown, ReasonLeakBelowThreshold,
	ReasonNotSustained, ReasonForecastNotDue, ReasonCooldown, ReasonDailyBudgetSpent, ReasonOutsideWindow,
	ReasonTooManyActiveSessions, ReasonNotRestartable, ReasonQueued, ReasonObserveMode,
}

// Breaker trip reasons recorded in the ledger.
const (
	// TripNotRecovered: the bridge did not show its leak gone within recover_timeout.
	TripNotRecovered = "not_recovered"
	// TripFlapping: the bridge needed more than flap_max restarts within flap_period.
	TripFlapping = "flapping"
	// TripRestartFailed: the restart command failed (SSH error or refusal).
	TripRestartFailed = "restart_failed"
)

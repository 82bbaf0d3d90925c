// Package policy decides, for each Web Bridge, whether it may be restarted
// now. It is pure: it does no I/O and reads no clock; the caller passes the
// cluster snapshot, the restart ledger and the time.
//
// A Web Bridge is restarted only when every guard holds, checked in this
// order (the first that fails is the decision's Reason):
//
//   - its breaker is not tripped (breaker_tripped);
//   - it is not recovering from its last restart (recovering);
//   - no restart of it is in flight (restart_in_progress);
//   - the cluster estimate is valid (data_invalid) and the bridge is fresh (stale);
//   - its own leak is proven (leak_unknown) by a sample taken after its last
//     restart, and is at least threshold (leak_below_threshold);
//   - the proven leak has stayed at or above threshold, at every evaluation,
//     for at least sustain (not_sustained);
//   - it has had fewer than flap_max restarts within flap_period (counting
//     only those after the last operator reset of its breaker); when it needs
//     one more, its breaker trips instead ("flapping");
//   - its cooldown since its last restart has passed (cooldown);
//   - no other restart is in flight (restart_in_progress);
//   - no other bridge restarted is still waiting to be seen back, since
//     two bridges would be down at once (restart_in_progress);
//   - the cluster had fewer than max_per_day restarts in the last 24 hours
//     (daily_budget_spent);
//   - now is inside a window (outside_window), unless the emergency rule lifts
//     the window guard;
//   - the cluster's CMA sessions are at most max_active_sessions
//     (too_many_active_sessions);
//   - it is listed with an MMP address (not_restartable): a discovered bridge
//     is never restarted, so it can never be chosen ahead of a listed one;
//     checked after the other guards, so its decision still says how far
//     they are;
//   - no other bridge that passed every guard goes first (queued); only one
//     restart is ever ordered per evaluation.
//
// A bridge that passes every guard gets Restart true and Reason none in
// enforce mode, and WouldRestart true with Reason observe_mode in observe mode.
//
// Emergency rule (emergency_at_limit, off by default): when the bridge's
// sessions are at or above its limit, the window guard alone is lifted. Every
// other guard still holds, sustain included: the rule shortens the wait for a
// window, not the proof. An operator who wants faster emergencies sets a
// shorter sustain.
//
// Recovery: after a restart the bridge is recovering until a sample newer than
// the restart's end shows the leak gone: either its proven bound (taken after
// the restart) is below threshold, or its session count is below threshold
// (then no leak of threshold size can exist). If that does not happen within
// recover_timeout, the breaker trips ("not_recovered").
package policy

// Package exporter turns leakwatch's status picture into Prometheus metrics.
//
// The collector holds no metric state of its own: on every scrape it calls the
// status.Provider once and builds constant metrics from that one State. A
// component that stops reporting therefore loses its live series at the next
// scrape instead of exporting its last value forever; only its session limit
// and the time of its last report remain, so alerts can see that it went
// quiet.
//
// Series that cannot be proven are absent rather than zero: the cluster leak
// estimate and bound exist only while cms_cluster_leak_estimate_valid is 1, and
// a Web Bridge's leaked_sessions_lower_bound only while its leak is proven.
//
// leakwatch_restart_blocked has one series per Web Bridge with a decision: its
// reason label is the first guard that holds the restart back (the policy's
// reason code, observe_mode included) with the value 1, or reason="none" with
// the value 0 when the policy orders the restart now. So
// leakwatch_restart_blocked == 1 selects every bridge that is held back, and
// the reason label says why.
package exporter

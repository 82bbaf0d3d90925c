package exporter

import "github.com/prometheus/client_golang/prometheus"

// metric is one family the collector exports.
type metric struct {
	name, help string
	desc       *prometheus.Desc
	typ        prometheus.ValueType
}

func gauge(name, help string, labels ...string) metric {
	return metric{name, help, prometheus.NewDesc(name, help, labels, nil), prometheus.GaugeValue}
}

func counter(name, help string, labels ...string) metric {
	return metric{name, help, prometheus.NewDesc(name, help, labels, nil), prometheus.CounterValue}
}

// Help texts speak to an operator reading /metrics or a Grafana tooltip:
// they give the unit, what an absent series means, and where a value comes
// from.
var (
	wbSessions = gauge("cms_webbridge_sessions",
		"Active sessions the Web Bridge 2 reported in its last Stats line, leaked ones included. Absent while the Web Bridge is stale (no report within stale_after) or has never reported.",
		"webbridge")
	wbLimit = gauge("cms_webbridge_session_limit",
		"Session limit of the Web Bridge (149 on Web Bridge 2 unless configured). At the limit no new browser user can log in or join. Present for every known Web Bridge, reporting or not.",
		"webbridge")
	wbConnections = counter("cms_webbridge_connections_total",
		"Cumulative connection counter (c:) from the Web Bridge's last Stats line; undocumented by Cisco, it restarts from zero when the Web Bridge restarts. Absent while stale.",
		"webbridge")
	wbDisconnections = counter("cms_webbridge_disconnections_total",
		"Cumulative disconnection counter (d:) from the Web Bridge's last Stats line; undocumented by Cisco, it restarts from zero when the Web Bridge restarts. Absent while stale.",
		"webbridge")
	wbLastReport = gauge("cms_webbridge_last_report_timestamp_seconds",
		"Unix time in seconds of the Web Bridge's last Stats line. Kept while the Web Bridge is stale so that time() minus it shows how long it has been silent; absent if it never reported.",
		"webbridge")
	wbLeak = gauge("cms_webbridge_leaked_sessions_lower_bound",
		"Sessions this Web Bridge has provably leaked (bug CSCvt73723): its sessions minus the sum of every Call Bridge's CMA peak over a report period covering the sample. A proven minimum, never an overestimate. Absent when it cannot be proven (stale or incomplete data).",
		"webbridge")
	wbGrowth = gauge("cms_webbridge_leak_growth_sessions_per_second",
		"Growth rate of the Web Bridge's leak since its last restart, in sessions per second (multiply by 86400 for a day): the Theil-Sen slope through the running maximum of its proven leak, which the daily swing of real load does not move. Absent while the forecast has too little history (see cms_webbridge_forecast_history_needed_seconds) or the bridge is stale.",
		"webbridge")
	wbFull = gauge("cms_webbridge_forecast_full_timestamp_seconds",
		"Unix time in seconds when the forecast leak plus the bridge's usual real peak (cms_webbridge_real_sessions_peak) reaches its session limit. The current time when already there. Absent when the leak does not grow, the forecast is unknown, or the bridge is stale.",
		"webbridge")
	wbRealPeak = gauge("cms_webbridge_real_sessions_peak",
		"Usual peak of real sessions on the Web Bridge: the highest of sessions minus proven leak over the last 7 days, an upper bound of its genuine users. Absent while stale.",
		"webbridge")
	wbHistoryNeeded = gauge("cms_webbridge_forecast_history_needed_seconds",
		"Proven history, in seconds, that the Web Bridge's forecast still needs since its last restart; 0 once the forecast is known. Absent while stale.",
		"webbridge")

	cbCMA = gauge("cms_callbridge_cma_sessions",
		"CMA sessions active on the Call Bridge in its last STATS line (the X of \"CMA\": \"X/Y\"): Web Bridge, CMA desktop and CMA iOS clients. Absent while the Call Bridge is stale or has never reported.",
		"callbridge")
	cbCMAPeak = gauge("cms_callbridge_cma_sessions_peak",
		"Peak of CMA sessions on the Call Bridge over the 5 minutes before its last STATS line (the Y of \"CMA\": \"X/Y\"). Absent while stale.",
		"callbridge")
	cbLegs = gauge("cms_callbridge_call_legs",
		"Call legs active on the Call Bridge in its last STATS line. Absent while stale, or when the line had no callLegs.",
		"callbridge")
	cbLegsPeak = gauge("cms_callbridge_call_legs_peak",
		"Peak of call legs on the Call Bridge over the 5 minutes before its last STATS line. Absent while stale, or when the line had no callLegs.",
		"callbridge")
	cbLastReport = gauge("cms_callbridge_last_report_timestamp_seconds",
		"Unix time in seconds of the Call Bridge's last STATS line (sent every 5 minutes since CMS 2.8). Kept while stale so that time() minus it shows how long it has been silent; absent if it never reported.",
		"callbridge")

	clEstimate = gauge("cms_cluster_leaked_sessions_estimate",
		"Estimated leaked Web Bridge sessions in the cluster: the sum of Web Bridge sessions minus the sum of Call Bridge CMA sessions on the latest reports. Absent when cms_cluster_leak_estimate_valid is 0.")
	clBound = gauge("cms_cluster_leaked_sessions_lower_bound",
		"Leaked Web Bridge sessions the cluster provably holds: a timing-robust minimum using the Call Bridges' CMA peaks, never an overestimate. Absent while the estimate is invalid or no Web Bridge sample is yet covered by every Call Bridge's report period.")
	clValid = gauge("cms_cluster_leak_estimate_valid",
		"1 when every known Web Bridge and Call Bridge has reported recently enough for the cluster leak estimate to mean something, 0 when a component is stale or missing (the estimate is then unknown and automatic restarts are blocked).")

	lines = counter("leakwatch_lines_total",
		"Log lines leakwatch read, by input source.",
		"source")
	statsLines = counter("leakwatch_stats_lines_total",
		"Statistics lines parsed, by kind (webbridge Stats lines, callbridge STATS lines).",
		"kind")
	malformed = counter("leakwatch_malformed_lines_total",
		"Lines that looked like statistics lines but could not be parsed, by kind; they are ignored. A rise points at a changed CMS log format.",
		"kind")
	inputUp = gauge("leakwatch_input_up",
		"1 when the input (log files or syslog receiver) is working, 0 when it is down and statistics from behind it are lost.",
		"source")
	inputErrors = counter("leakwatch_input_errors_total",
		"Input errors by source and reason: for files permission_denied, stat, open, read, watch, truncated_line, state_load, state_save, compressed_skipped (a compressed file that is no rotation of one with unread lines, or not gzip or bzip2); for syslog source_not_allowed, host_not_allowed, too_large, bad_frame, bad_pri, empty, source_connection_limit, connection_evicted, message_timeout.",
		"source", "reason")
	syslogSenders = counter("leakwatch_syslog_messages_total",
		"Syslog messages accepted, by sender address (at most 1024 addresses, then sender=\"other\").",
		"sender")
	dropped = counter("leakwatch_discovery_dropped_lines_total",
		"Statistics lines dropped because they came from hosts beyond the discovery cap; such hosts are not monitored. Raise the cap or list the bridges in the inventory.")
	hostOffset = gauge("cms_host_clock_offset_seconds",
		"Apparent clock offset of a sending host, in seconds: its latest stats line's own timestamp minus when leakwatch received it. Positive means the host's clock runs ahead. It includes the delivery delay (slightly negative for a well-set clock) and is very negative while leakwatch reads a file's backlog. A stats line more than model.future_tolerance ahead is rejected.",
		"host")
	futureRejected = counter("leakwatch_future_stamped_lines_total",
		"Statistics lines rejected because their own timestamp was more than model.future_tolerance ahead of their arrival (a wrong clock on the sender, or a forged line), by sending host. Such a line never changes a bridge's state.",
		"host")
	unlistedLines = counter("leakwatch_unlisted_lines_total",
		"Statistics lines from a host that the inventory of their role does not list while it lists others (a bridge forgotten in the inventory, a lab server, a look-alike name), by host and role. They are in no sum; an unlisted Call Bridge also withholds every proof while it reports (see leakwatch_proofs_withheld).",
		"host", "role")
	ignoredLines = counter("leakwatch_ignored_lines_total",
		"Statistics lines from hosts named in inventory.ignore, counted and dropped, by host.",
		"host")
	proofsWithheld = gauge("leakwatch_proofs_withheld",
		"1 while this unlisted Call Bridge reports: its CMA sessions are missing from the peaks every proof subtracts, so no Web Bridge's leak is proven and no restart happens. List it in inventory.callbridges, name it in inventory.ignore, or run leakwatch forget HOST. Absent otherwise.",
		"host")
	auditErrors = counter("leakwatch_audit_write_errors_total",
		"Audit log entries that could not be written (disk full, permissions). Decisions and restarts are then missing from the audit trail.")
	ready = gauge("leakwatch_ready",
		"1 once the inputs are open and the first catch-up is done, 0 before.")
	configLoaded = gauge("leakwatch_config_loaded_timestamp_seconds",
		"Unix time in seconds when the configuration in force was loaded (at start or on the last successful reload).")

	restarts = counter("leakwatch_restarts_total",
		"Web Bridge restarts by leakwatch since this process started, by result: ok (the command returned without error), failed (the command was sent and failed, or may have been), interrupted (leakwatch stopped mid-restart; whether it ran is unknown), not_sent (the MMP was never reached: connection, host key or authentication failed; spends no max_per_day).",
		"webbridge", "result")
	lastRestart = gauge("leakwatch_last_restart_timestamp_seconds",
		"Unix time in seconds when the Web Bridge's latest recorded restart started (one in progress included). Absent if the restart record has none.",
		"webbridge")
	blocked = gauge("leakwatch_restart_blocked",
		"1 with the reason (the policy's first guard that fails, e.g. outside_window, cooldown, stale, observe_mode) that keeps leakwatch from restarting the Web Bridge now; 0 with reason=\"none\" when the policy orders a restart now. Absent before the first decision.",
		"webbridge", "reason")
	breaker = gauge("leakwatch_breaker_tripped",
		"1 when the Web Bridge's circuit breaker is tripped: automatic restarts of it stopped (it did not recover, failed to restart, or needed restarts too often) until an operator runs leakwatch reset. 0 otherwise.",
		"webbridge")
	inFlight = gauge("leakwatch_restart_in_progress",
		"1 while a Web Bridge restart is in progress (at most one at a time), 0 otherwise.")
	mode = gauge("leakwatch_mode",
		"Policy mode: 1 for the mode in force, 0 for the other. observe decides and reports but never restarts; enforce restarts Web Bridges when every guard holds.",
		"mode")
)

// all lists every family the collector may export, for Describe.
// HA families exist only with ha configured: a lone leakwatch exports
// exactly what it did before.
var (
	haLeader = gauge("leakwatch_ha_leader",
		"1 while this instance is the elected HA leader, in contact with etcd and holding the restart ledger, so it may restart a Web Bridge; 0 on a standby and on a leader that lost etcd. Summed over a cluster's instances it must be 1. Absent without ha configured.")
	haUp = gauge("leakwatch_ha_up",
		"1 while this instance's last call to etcd succeeded, 0 while etcd cannot be reached (then it does not act, leader or not; its status page says why). Absent without ha configured.")
)

var all = []metric{
	wbSessions, wbLimit, wbConnections, wbDisconnections, wbLastReport, wbLeak,
	wbGrowth, wbFull, wbRealPeak, wbHistoryNeeded,
	cbCMA, cbCMAPeak, cbLegs, cbLegsPeak, cbLastReport,
	clEstimate, clBound, clValid,
	lines, statsLines, malformed, inputUp, inputErrors, syslogSenders, dropped, auditErrors, ready, configLoaded,
	hostOffset, futureRejected, unlistedLines, ignoredLines, proofsWithheld,
	restarts, lastRestart, blocked, breaker, inFlight, mode,
	haLeader, haUp,
}

package opskit

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

// exportedMetrics is every metric leakwatch exposes, as fixed by the
// issues. The alerts and the dashboard may use only these (plus Prometheus's
// own up), so a typo in a metric name fails here instead of producing an
// alert that never fires or an empty panel.
var exportedMetrics = map[string]bool{
	"cms_webbridge_sessions":                        true,
	"cms_webbridge_session_limit":                   true,
	"cms_webbridge_connections_total":               true,
	"cms_webbridge_disconnections_total":            true,
	"cms_webbridge_last_report_timestamp_seconds":   true,
	"cms_webbridge_leaked_sessions_lower_bound":     true,
	"cms_webbridge_leak_growth_sessions_per_second": true,
	"cms_webbridge_forecast_full_timestamp_seconds": true,
	"cms_webbridge_real_sessions_peak":              true,
	"cms_webbridge_forecast_history_needed_seconds": true,
	"cms_callbridge_cma_sessions":                   true,
	"cms_callbridge_cma_sessions_peak":              true,
	"cms_callbridge_call_legs":                      true,
	"cms_callbridge_call_legs_peak":                 true,
	"cms_callbridge_last_report_timestamp_seconds":  true,
	"cms_cluster_leaked_sessions_estimate":          true,
	"cms_cluster_leaked_sessions_lower_bound":       true,
	"cms_cluster_leak_estimate_valid":               true,
	"leakwatch_lines_total":                         true,
	"leakwatch_stats_lines_total":                   true,
	"leakwatch_malformed_lines_total":               true,
	"leakwatch_input_up":                            true,
	"leakwatch_input_errors_total":                  true,
	"leakwatch_build_info":                          true,
	"leakwatch_restarts_total":                      true,
	"leakwatch_last_restart_timestamp_seconds":      true,
	"leakwatch_restart_blocked":                     true,
	"leakwatch_breaker_tripped":                     true,
	"leakwatch_mode":                                true,
	"leakwatch_ha_leader":                           true,
	"leakwatch_ha_up":                               true,
	"leakwatch_proofs_withheld":                     true,
	"leakwatch_future_stamped_lines_total":          true,
	"cms_host_clock_offset_seconds":                 true,
	"leakwatch_unlisted_lines_total":                true,
	"leakwatch_ignored_lines_total":                 true,
	// From the standard Go and process collectors.
	"go_goroutines":                 true,
	"process_resident_memory_bytes": true,
}

// labelNames are label names metricRef also matches: cms_cluster, which
// leakwatch.yaml's cms_cluster puts on every series.
var labelNames = map[string]bool{"cms_cluster": true}

// metricRef matches names of leakwatch's metric families in PromQL text.
var metricRef = regexp.MustCompile(`\b(?:cms|leakwatch|go|process)_[a-zA-Z0-9_:]*`)

// unknownMetrics returns the leakwatch-like metric names in expr that
// leakwatch does not export, sorted.
func unknownMetrics(expr string) []string {
	var bad []string
	for _, m := range metricRef.FindAllString(expr, -1) {
		if !exportedMetrics[m] && !labelNames[m] {
			bad = append(bad, m)
		}
	}
	sort.Strings(bad)
	return bad
}

func TestUnknownMetrics(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{`cms_webbridge_sessions{instance=~".+"} / cms_webbridge_session_limit`, ""},
		{`rate(leakwatch_lines_total[1m])`, ""},
		{`cms_webbridge_session{webbridge="a"}`, "cms_webbridge_session"},
		{`leakwatch_restarts{result="failure"} > 0 or leakwatch_breaker_trip`, "leakwatch_breaker_trip leakwatch_restarts"},
		{`up{job="leakwatch"} == 0`, ""},
		{`max by (cms_cluster) (leakwatch_ha_leader) == 0`, ""},
		{`max by (cms_cluster) (leakwatch_ha_leadr)`, "leakwatch_ha_leadr"},
	}
	for _, tt := range tests {
		if got := strings.Join(unknownMetrics(tt.expr), " "); got != tt.want {
			t.Errorf("unknownMetrics(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

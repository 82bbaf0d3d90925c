package exporter

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ha"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/policy"
	"github.com/leakwatch/leakwatch/internal/status"
)

func TestCollector(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*status.State)
		// metrics restricts the comparison to these families.
		metrics []string
		want    string
	}{
		{
			name: "web bridges fresh, stale and never seen",
			metrics: []string{"cms_webbridge_sessions", "cms_webbridge_session_limit", "cms_webbridge_connections_total",
				"cms_webbridge_disconnections_total", "cms_webbridge_last_report_timestamp_seconds", "cms_webbridge_leaked_sessions_lower_bound"},
			want: `
				#> cms_webbridge_connections_total
				cms_webbridge_connections_total{webbridge="wb1"} 3477
				cms_webbridge_connections_total{webbridge="wb2"} 50
				#> cms_webbridge_disconnections_total
				cms_webbridge_disconnections_total{webbridge="wb1"} 3170
				cms_webbridge_disconnections_total{webbridge="wb2"} 40
				#> cms_webbridge_last_report_timestamp_seconds
				cms_webbridge_last_report_timestamp_seconds{webbridge="wb1"} 1742309970
				cms_webbridge_last_report_timestamp_seconds{webbridge="wb2"} 1742309880
				cms_webbridge_last_report_timestamp_seconds{webbridge="wb3"} 1742309160
				#> cms_webbridge_leaked_sessions_lower_bound
				cms_webbridge_leaked_sessions_lower_bound{webbridge="wb1"} 40
				#> cms_webbridge_session_limit
				cms_webbridge_session_limit{webbridge="wb1"} 149
				cms_webbridge_session_limit{webbridge="wb2"} 149
				cms_webbridge_session_limit{webbridge="wb3"} 149
				cms_webbridge_session_limit{webbridge="wb4"} 149
				#> cms_webbridge_sessions
				cms_webbridge_sessions{webbridge="wb1"} 120
				cms_webbridge_sessions{webbridge="wb2"} 10
			`,
		},
		{
			name: "forecast known, unknown, and none for stale bridges",
			metrics: []string{"cms_webbridge_leak_growth_sessions_per_second", "cms_webbridge_forecast_full_timestamp_seconds",
				"cms_webbridge_real_sessions_peak", "cms_webbridge_forecast_history_needed_seconds"},
			want: `
				#> cms_webbridge_forecast_full_timestamp_seconds
				cms_webbridge_forecast_full_timestamp_seconds{webbridge="wb1"} 1742655600
				#> cms_webbridge_forecast_history_needed_seconds
				cms_webbridge_forecast_history_needed_seconds{webbridge="wb1"} 0
				cms_webbridge_forecast_history_needed_seconds{webbridge="wb2"} 108000
				#> cms_webbridge_leak_growth_sessions_per_second
				cms_webbridge_leak_growth_sessions_per_second{webbridge="wb1"} 0.0001388888888888889
				#> cms_webbridge_real_sessions_peak
				cms_webbridge_real_sessions_peak{webbridge="wb1"} 60
				cms_webbridge_real_sessions_peak{webbridge="wb2"} 9
			`,
		},
		{
			name: "call bridges fresh, without call legs, stale and never seen",
			metrics: []string{"cms_callbridge_cma_sessions", "cms_callbridge_cma_sessions_peak", "cms_callbridge_call_legs",
				"cms_callbridge_call_legs_peak", "cms_callbridge_last_report_timestamp_seconds"},
			want: `
				#> cms_callbridge_call_legs
				cms_callbridge_call_legs{callbridge="cb1"} 20
				#> cms_callbridge_call_legs_peak
				cms_callbridge_call_legs_peak{callbridge="cb1"} 24
				#> cms_callbridge_cma_sessions
				cms_callbridge_cma_sessions{callbridge="cb1"} 14
				cms_callbridge_cma_sessions{callbridge="cb2"} 3
				#> cms_callbridge_cma_sessions_peak
				cms_callbridge_cma_sessions_peak{callbridge="cb1"} 17
				cms_callbridge_cma_sessions_peak{callbridge="cb2"} 5
				#> cms_callbridge_last_report_timestamp_seconds
				cms_callbridge_last_report_timestamp_seconds{callbridge="cb1"} 1742309880
				cms_callbridge_last_report_timestamp_seconds{callbridge="cb2"} 1742309880
				cms_callbridge_last_report_timestamp_seconds{callbridge="cb3"} 1742308800
			`,
		},
		{
			name:    "valid estimate with its bound",
			metrics: []string{"cms_cluster_leaked_sessions_estimate", "cms_cluster_leaked_sessions_lower_bound", "cms_cluster_leak_estimate_valid"},
			want: `
				#> cms_cluster_leak_estimate_valid
				cms_cluster_leak_estimate_valid 1
				#> cms_cluster_leaked_sessions_estimate
				cms_cluster_leaked_sessions_estimate 113
				#> cms_cluster_leaked_sessions_lower_bound
				cms_cluster_leaked_sessions_lower_bound 108
			`,
		},
		{
			name:    "valid estimate, bound not yet known",
			modify:  func(s *status.State) { s.Cluster.Leak.BoundKnown, s.Cluster.Leak.LowerBound = false, 0 },
			metrics: []string{"cms_cluster_leaked_sessions_estimate", "cms_cluster_leaked_sessions_lower_bound", "cms_cluster_leak_estimate_valid"},
			want: `
				#> cms_cluster_leak_estimate_valid
				cms_cluster_leak_estimate_valid 1
				#> cms_cluster_leaked_sessions_estimate
				cms_cluster_leaked_sessions_estimate 113
			`,
		},
		{
			name: "invalid estimate exports neither estimate nor bound",
			modify: func(s *status.State) {
				s.Cluster.Leak = cluster.Leak{Valid: false, Reason: "call bridge cb3 stale (last report 20m ago)", Estimate: 113, LowerBound: 108, BoundKnown: true}
			},
			metrics: []string{"cms_cluster_leaked_sessions_estimate", "cms_cluster_leaked_sessions_lower_bound", "cms_cluster_leak_estimate_valid"},
			want: `
				#> cms_cluster_leak_estimate_valid
				cms_cluster_leak_estimate_valid 0
			`,
		},
		{
			name: "restarts, verdicts and breakers",
			metrics: []string{"leakwatch_restarts_total", "leakwatch_last_restart_timestamp_seconds", "leakwatch_restart_blocked",
				"leakwatch_breaker_tripped", "leakwatch_restart_in_progress"},
			want: `
				#> leakwatch_breaker_tripped
				leakwatch_breaker_tripped{webbridge="wb1"} 0
				leakwatch_breaker_tripped{webbridge="wb2"} 0
				leakwatch_breaker_tripped{webbridge="wb3"} 1
				leakwatch_breaker_tripped{webbridge="wb4"} 0
				#> leakwatch_last_restart_timestamp_seconds
				leakwatch_last_restart_timestamp_seconds{webbridge="wb1"} 1742292000
				#> leakwatch_restart_blocked
				leakwatch_restart_blocked{reason="none",webbridge="wb1"} 0
				leakwatch_restart_blocked{reason="outside_window",webbridge="wb2"} 1
				leakwatch_restart_blocked{reason="breaker_tripped",webbridge="wb3"} 1
				#> leakwatch_restart_in_progress
				leakwatch_restart_in_progress 0
				#> leakwatch_restarts_total
				leakwatch_restarts_total{result="failed",webbridge="wb1"} 1
				leakwatch_restarts_total{result="interrupted",webbridge="wb1"} 0
				leakwatch_restarts_total{result="not_sent",webbridge="wb1"} 0
				leakwatch_restarts_total{result="ok",webbridge="wb1"} 2
				leakwatch_restarts_total{result="failed",webbridge="wb2"} 0
				leakwatch_restarts_total{result="interrupted",webbridge="wb2"} 0
				leakwatch_restarts_total{result="not_sent",webbridge="wb2"} 0
				leakwatch_restarts_total{result="ok",webbridge="wb2"} 0
				leakwatch_restarts_total{result="failed",webbridge="wb3"} 0
				leakwatch_restarts_total{result="interrupted",webbridge="wb3"} 0
				leakwatch_restarts_total{result="not_sent",webbridge="wb3"} 0
				leakwatch_restarts_total{result="ok",webbridge="wb3"} 0
				leakwatch_restarts_total{result="failed",webbridge="wb4"} 0
				leakwatch_restarts_total{result="interrupted",webbridge="wb4"} 0
				leakwatch_restarts_total{result="not_sent",webbridge="wb4"} 0
				leakwatch_restarts_total{result="ok",webbridge="wb4"} 0
			`,
		},
		{
			name: "restart in flight and a bridge known only to the ledger",
			modify: func(s *status.State) {
				r := ledger.Restart{Bridge: "wb2", Started: now.Add(-10e9)}
				s.Policy.InFlight = &r
				s.Policy.Bridges[1].Reason = policy.ReasonRestartInProgress
				s.Policy.Bridges[1].LastRestart = r
				s.Policy.Bridges = append(s.Policy.Bridges, actuator.BridgeStatus{Name: "wbold",
					LastRestart: ledger.Restart{Bridge: "wbold", Started: now.Add(-3600e9), Result: ledger.ResultInterrupted}})
			},
			metrics: []string{"leakwatch_last_restart_timestamp_seconds", "leakwatch_restart_blocked", "leakwatch_restart_in_progress", "leakwatch_breaker_tripped"},
			want: `
				#> leakwatch_breaker_tripped
				leakwatch_breaker_tripped{webbridge="wb1"} 0
				leakwatch_breaker_tripped{webbridge="wb2"} 0
				leakwatch_breaker_tripped{webbridge="wb3"} 1
				leakwatch_breaker_tripped{webbridge="wb4"} 0
				leakwatch_breaker_tripped{webbridge="wbold"} 0
				#> leakwatch_last_restart_timestamp_seconds
				leakwatch_last_restart_timestamp_seconds{webbridge="wb1"} 1742292000
				leakwatch_last_restart_timestamp_seconds{webbridge="wb2"} 1742309990
				leakwatch_last_restart_timestamp_seconds{webbridge="wbold"} 1742306400
				#> leakwatch_restart_blocked
				leakwatch_restart_blocked{reason="none",webbridge="wb1"} 0
				leakwatch_restart_blocked{reason="restart_in_progress",webbridge="wb2"} 1
				leakwatch_restart_blocked{reason="breaker_tripped",webbridge="wb3"} 1
				#> leakwatch_restart_in_progress
				leakwatch_restart_in_progress 1
			`,
		},
		{
			name:    "mode enforce",
			metrics: []string{"leakwatch_mode"},
			want: `
				#> leakwatch_mode
				leakwatch_mode{mode="enforce"} 1
				leakwatch_mode{mode="observe"} 0
			`,
		},
		{
			name:    "no HA configured: no HA series",
			metrics: []string{"leakwatch_ha_leader", "leakwatch_ha_up"},
			want:    ``,
		},
		{
			name:    "HA leader",
			modify:  func(s *status.State) { s.HA = &ha.Status{Name: "lw-a", Up: true, Leader: true, LeaderName: "lw-a"} },
			metrics: []string{"leakwatch_ha_leader", "leakwatch_ha_up"},
			want: `
				#> leakwatch_ha_leader
				leakwatch_ha_leader 1
				#> leakwatch_ha_up
				leakwatch_ha_up 1
			`,
		},
		{
			name:    "HA standby with etcd unreachable",
			modify:  func(s *status.State) { s.HA = &ha.Status{Name: "lw-b", Reason: "not acting: etcd unreachable"} },
			metrics: []string{"leakwatch_ha_leader", "leakwatch_ha_up"},
			want: `
				#> leakwatch_ha_leader
				leakwatch_ha_leader 0
				#> leakwatch_ha_up
				leakwatch_ha_up 0
			`,
		},
		{
			name:    "mode observe",
			modify:  func(s *status.State) { s.Policy.Mode = policy.ModeObserve },
			metrics: []string{"leakwatch_mode"},
			want: `
				#> leakwatch_mode
				leakwatch_mode{mode="enforce"} 0
				leakwatch_mode{mode="observe"} 1
			`,
		},
		{
			name: "health: both kinds always present",
			metrics: []string{"leakwatch_lines_total", "leakwatch_stats_lines_total", "leakwatch_malformed_lines_total",
				"leakwatch_input_up", "leakwatch_input_errors_total", "leakwatch_syslog_messages_total",
				"leakwatch_discovery_dropped_lines_total", "leakwatch_audit_write_errors_total", "leakwatch_ready",
				"leakwatch_config_loaded_timestamp_seconds"},
			want: `
				#> leakwatch_audit_write_errors_total
				leakwatch_audit_write_errors_total 1
				#> leakwatch_config_loaded_timestamp_seconds
				leakwatch_config_loaded_timestamp_seconds 1742306400
				#> leakwatch_discovery_dropped_lines_total
				leakwatch_discovery_dropped_lines_total 4
				#> leakwatch_input_errors_total
				leakwatch_input_errors_total{reason="permission_denied",source="files"} 3
				#> leakwatch_input_up
				leakwatch_input_up{source="files"} 1
				leakwatch_input_up{source="syslog_udp"} 0
				#> leakwatch_lines_total
				leakwatch_lines_total{source="files"} 1000
				leakwatch_lines_total{source="syslog_udp"} 250
				#> leakwatch_malformed_lines_total
				leakwatch_malformed_lines_total{kind="callbridge"} 2
				leakwatch_malformed_lines_total{kind="webbridge"} 0
				#> leakwatch_ready
				leakwatch_ready 1
				#> leakwatch_stats_lines_total
				leakwatch_stats_lines_total{kind="callbridge"} 0
				leakwatch_stats_lines_total{kind="webbridge"} 40
				#> leakwatch_syslog_messages_total
				leakwatch_syslog_messages_total{sender="192.0.2.10"} 250
			`,
		},
		{
			name:    "health: empty state still exports both kinds",
			modify:  func(s *status.State) { *s = status.State{} },
			metrics: []string{"leakwatch_stats_lines_total", "leakwatch_malformed_lines_total", "leakwatch_mode", "cms_cluster_leak_estimate_valid"},
			want: `
				#> cms_cluster_leak_estimate_valid
				cms_cluster_leak_estimate_valid 0
				#> leakwatch_malformed_lines_total
				leakwatch_malformed_lines_total{kind="callbridge"} 0
				leakwatch_malformed_lines_total{kind="webbridge"} 0
				#> leakwatch_mode
				leakwatch_mode{mode="enforce"} 0
				leakwatch_mode{mode="observe"} 0
				#> leakwatch_stats_lines_total
				leakwatch_stats_lines_total{kind="callbridge"} 0
				leakwatch_stats_lines_total{kind="webbridge"} 0
			`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := fixture()
			if tt.modify != nil {
				tt.modify(&st)
			}
			c := NewCollector(func() status.State { return st })
			if err := testutil.CollectAndCompare(c, strings.NewReader(expo(tt.want)), tt.metrics...); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCollectorStaleSeriesDisappear scrapes twice: a Web Bridge that turned
// stale between the scrapes loses its sessions and leak series, keeps its
// limit and last report, and the cluster estimate goes with it.
func TestCollectorStaleSeriesDisappear(t *testing.T) {
	st := fixture()
	c := NewCollector(func() status.State { return st })
	before := map[string]int{
		"cms_webbridge_sessions":                      2,
		"cms_webbridge_leaked_sessions_lower_bound":   1,
		"cms_webbridge_last_report_timestamp_seconds": 3,
		"cms_cluster_leaked_sessions_estimate":        1,
	}
	for name, want := range before {
		if got := testutil.CollectAndCount(c, name); got != want {
			t.Errorf("before: %s has %d series, want %d", name, got, want)
		}
	}

	st.Cluster.WebBridges[0].Stale = true
	st.Cluster.Leak = cluster.Leak{Valid: false, Reason: "web bridge wb1 stale"}
	after := map[string]int{
		"cms_webbridge_sessions":                      1,
		"cms_webbridge_leaked_sessions_lower_bound":   0,
		"cms_webbridge_last_report_timestamp_seconds": 3,
		"cms_webbridge_session_limit":                 4,
		"cms_cluster_leaked_sessions_estimate":        0,
		"cms_cluster_leaked_sessions_lower_bound":     0,
	}
	for name, want := range after {
		if got := testutil.CollectAndCount(c, name); got != want {
			t.Errorf("after: %s has %d series, want %d", name, got, want)
		}
	}
}

// TestCollectorOneProviderCallPerScrape guards against reading the state
// more than once per scrape, which could mix two moments in one scrape.
func TestCollectorOneProviderCallPerScrape(t *testing.T) {
	calls := 0
	reg := NewRegistry(func() status.State { calls++; return fixture() })
	for i := 1; i <= 3; i++ {
		if _, err := reg.Gather(); err != nil {
			t.Fatalf("gather: %v", err)
		}
		if calls != i {
			t.Fatalf("after %d scrapes the provider was called %d times", i, calls)
		}
	}
}

// TestRegistryIncludesStandardCollectors checks that NewRegistry adds the Go,
// process and build-info metrics next to the state collector, and that the
// pedantic registry accepts every metric the collector sends.
func TestRegistryIncludesStandardCollectors(t *testing.T) {
	reg := NewRegistry(fixture)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "leakwatch_build_info", "cms_webbridge_sessions", "leakwatch_mode"} {
		if !have[name] {
			t.Errorf("registry lacks %s", name)
		}
	}
	ped := prometheus.NewPedanticRegistry()
	ped.MustRegister(NewCollector(fixture))
	if _, err := ped.Gather(); err != nil {
		t.Errorf("pedantic gather: %v", err)
	}
}

// TestClusterLabel checks that cms_cluster labels every series, the Go and
// process collectors' included, and that without it nothing changes.
func TestClusterLabel(t *testing.T) {
	st := fixture()
	for _, tt := range []struct {
		cluster string
		want    bool
	}{{"site-a", true}, {"", false}} {
		reg := NewRegistry(func() status.State { return st }, tt.cluster)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				has := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "cms_cluster" && lp.GetValue() == tt.cluster {
						has = true
					}
				}
				if has != tt.want {
					t.Errorf("cms_cluster %q: %s has the label: %v, want %v", tt.cluster, mf.GetName(), has, tt.want)
				}
			}
		}
	}
}

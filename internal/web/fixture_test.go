package web

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/logline"
	"github.com/leakwatch/leakwatch/internal/policy"
	"github.com/leakwatch/leakwatch/internal/status"
)

// cet is a fixed zone so the tests need no tz database.
var cet = time.FixedZone("CET", 3600)

// now is the fixtures' clock: Thursday 2025-03-20 16:00:00 CET.
var now = time.Date(2025, 3, 20, 16, 0, 0, 0, cet)

func ago(d time.Duration) time.Time { return now.Add(-d) }

// realistic returns the State of a four-bridge cluster in enforce mode:
//   - wb1 fresh (42s), 120/149 sessions, proven leak 40, held outside its window;
//   - wb2 fresh, 30/149, recovering from a restart 5 minutes ago;
//   - wb3 stale (14m), breaker tripped;
//   - wb4 listed, never seen, no decision yet;
//   - wbold only in the restart record;
//   - cb1 fresh with call legs, cb2 stale;
//   - the cluster estimate invalid because cb2 is stale.
func realistic() status.State {
	return status.State{
		Now: now,
		Cluster: cluster.Snapshot{
			Now: now,
			WebBridges: []cluster.WebBridge{
				{Name: "wb1", Hosts: []string{"cms01"}, Limit: 149, Listed: true, Seen: true, LastSeen: ago(42 * time.Second),
					Sessions: 120, Connections: 3477, Disconnections: 3170, Headroom: 29, LeakKnown: true, LeakLowerBound: 40, LeakAt: ago(42 * time.Second),
					Forecast: cluster.Forecast{Known: true, At: now, Rate: 0.5, Leak: 41, RealPeak: 80, RealPeakKnown: true, Full: now.Add(56 * time.Hour),
						Reason: "growing 0.50 sessions/h; full in 56h"}},
				{Name: "wb2", Hosts: []string{"wb2"}, Limit: 149, Listed: true, Seen: true, LastSeen: ago(time.Minute),
					Sessions: 30, Connections: 40, Disconnections: 10, Headroom: 119},
				{Name: "wb3", Hosts: []string{"cms03"}, Limit: 149, Listed: true, Seen: true, LastSeen: ago(14 * time.Minute), Stale: true,
					Sessions: 140, Headroom: 9},
				{Name: "wb4", Hosts: []string{"cms04"}, Limit: 149, Listed: true, Stale: true, Headroom: 149},
			},
			CallBridges: []cluster.CallBridge{
				{Name: "cb1", Hosts: []string{"cms01"}, Listed: true, Seen: true, LastSeen: ago(3 * time.Minute), Sample: logline.CallBridge{
					CMA: logline.Pair{Current: 14, Peak: 17}, CallLegs: logline.Pair{Current: 20, Peak: 24}, HasCallLegs: true}},
				{Name: "cb2", Hosts: []string{"cms02"}, Listed: true, Seen: true, LastSeen: ago(20 * time.Minute), Stale: true,
					Sample: logline.CallBridge{CMA: logline.Pair{Current: 3, Peak: 5}}},
			},
			Leak: cluster.Leak{Valid: false, Reason: "call bridge cb2 stale (last report 20m ago)", Sessions: 290, CMAActive: 17, CMAPeak: 22},
		},
		Policy: actuator.Status{
			Mode: policy.ModeEnforce,
			Bridges: []actuator.BridgeStatus{
				{Name: "wb1", Reason: policy.ReasonOutsideWindow, Detail: "outside window (next: Sat 02:00 CET)", NextWindow: time.Date(2025, 3, 22, 2, 0, 0, 0, cet),
					Restarts: map[ledger.Result]uint64{}},
				{Name: "wb2", Reason: policy.ReasonRecovering, Detail: "restarted at 15:55; waiting for a sample showing the leak gone (until 16:10)",
					Recovering: true, LastRestart: ledger.Restart{Bridge: "wb2", Started: ago(5 * time.Minute), Finished: ago(5 * time.Minute),
						Result: ledger.ResultOK, LeakBound: 35, Reason: "proven leak 35 ≥ 20", Output: "SUCCESS: webbridge restarted"},
					Restarts: map[ledger.Result]uint64{ledger.ResultOK: 1}},
				{Name: "wb3", Reason: policy.ReasonBreakerTripped, Detail: "breaker tripped (not_recovered) since Thu 15:45 CET; automatic action stopped until an operator resets it",
					Breaker:  ledger.Breaker{Tripped: true, Reason: policy.TripNotRecovered, Detail: "no sample within recover_timeout 15m showed the leak gone", Since: ago(15 * time.Minute)},
					Restarts: map[ledger.Result]uint64{ledger.ResultOK: 1}},
				{Name: "wbold", Breaker: ledger.Breaker{}, LastRestart: ledger.Restart{Bridge: "wbold", Started: ago(48 * time.Hour), Result: ledger.ResultFailed}},
			},
		},
		Lines:         map[string]uint64{"files": 123456, "syslog_udp": 789},
		Stats:         map[string]uint64{"webbridge": 4000, "callbridge": 300},
		Malformed:     map[string]uint64{"webbridge": 1},
		SyslogSenders: map[string]uint64{"192.0.2.10": 789},
		Inputs: []status.Input{
			{Source: "files", Up: true, Detail: "1 files open, following [/var/log/cms/cms.log]", Errors: map[string]uint64{}},
			{Source: "syslog_udp", Up: false, Detail: "bind 0.0.0.0:5514: address already in use", Errors: map[string]uint64{"too_large": 2, "source_not_allowed": 5}},
		},
		Ready:        true,
		Started:      ago(3 * time.Hour),
		ConfigFile:   "/etc/leakwatch/leakwatch.yaml",
		ConfigLoaded: ago(3 * time.Hour),
		PolicyConfig: fixturePolicy(),
		History:      fixtureHistory,
	}
}

// fixturePolicy is the defaults with the forecast plan, a window and a
// raised threshold.
func fixturePolicy() policy.Config {
	c := policy.DefaultConfig()
	c.Mode, c.Plan, c.Threshold = policy.ModeEnforce, policy.PlanForecast, 30
	c.Windows = []policy.Window{policy.MustParseWindow("Sat 02:00-04:00")}
	c.Location = cet
	return c
}

// fixtureHistory is a week of every bridge: a daily swing of 10 to 70
// sessions on top of a leak growing by 12 a day.
func fixtureHistory(name string, since, until time.Time) []cluster.HistoryPoint {
	var out []cluster.HistoryPoint
	for t := since.Truncate(cluster.HistoryStep); !t.After(until); t = t.Add(cluster.HistoryStep) {
		days := t.Sub(until.Add(-7*24*time.Hour)).Hours() / 24
		leak := int64(days * 12 / 2)
		real := int64(10)
		if h := t.Hour(); h >= 8 && h < 18 {
			real = 70
		}
		out = append(out, cluster.HistoryPoint{At: t, Sessions: leak + real, Leak: leak})
	}
	return out
}

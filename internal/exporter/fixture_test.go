package exporter

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/logline"
	"github.com/leakwatch/leakwatch/internal/policy"
	"github.com/leakwatch/leakwatch/internal/status"
)

// now is the fixture's clock: 2025-03-18T15:00:00Z, Unix 1742310000.
var now = time.Date(2025, 3, 18, 15, 0, 0, 0, time.UTC)

// fixture returns a State covering every case the collector distinguishes:
//   - wb1 fresh with a proven leak of 40, restart ordered, restarted before;
//   - wb2 fresh with the leak not proven, blocked outside its window;
//   - wb3 stale (last report 14m ago), breaker tripped;
//   - wb4 listed but never seen, no decision yet;
//   - cb1 fresh with call legs, cb2 fresh without, cb3 stale, cb4 never seen;
//   - a valid cluster estimate with a known bound.
func fixture() status.State {
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	return status.State{
		Now: now,
		Cluster: cluster.Snapshot{
			Now: now,
			WebBridges: []cluster.WebBridge{
				{Name: "wb1", Limit: 149, Seen: true, LastSeen: ago(30 * time.Second), Sessions: 120, Connections: 3477, Disconnections: 3170,
					Headroom: 29, LeakKnown: true, LeakLowerBound: 40, LeakAt: ago(30 * time.Second),
					Forecast: cluster.Forecast{Known: true, At: ago(0), Rate: 0.5, Leak: 41, RealPeak: 60, RealPeakKnown: true, Full: ago(-96 * time.Hour)}},
				{Name: "wb2", Limit: 149, Seen: true, LastSeen: ago(2 * time.Minute), Sessions: 10, Connections: 50, Disconnections: 40, Headroom: 139,
					Forecast: cluster.Forecast{At: ago(0), NeedMore: 30 * time.Hour, RealPeak: 9, RealPeakKnown: true}},
				{Name: "wb3", Limit: 149, Seen: true, LastSeen: ago(14 * time.Minute), Stale: true, Sessions: 80, Connections: 900, Disconnections: 820,
					Headroom: 69, LeakLowerBound: 0},
				{Name: "wb4", Limit: 149, Listed: true, Stale: true, Headroom: 149},
			},
			CallBridges: []cluster.CallBridge{
				{Name: "cb1", Seen: true, LastSeen: ago(2 * time.Minute), Sample: logline.CallBridge{
					CMA: logline.Pair{Current: 14, Peak: 17}, CallLegs: logline.Pair{Current: 20, Peak: 24}, HasCallLegs: true}},
				{Name: "cb2", Seen: true, LastSeen: ago(2 * time.Minute), Sample: logline.CallBridge{CMA: logline.Pair{Current: 3, Peak: 5}}},
				{Name: "cb3", Seen: true, LastSeen: ago(20 * time.Minute), Stale: true, Sample: logline.CallBridge{
					CMA: logline.Pair{Current: 7, Peak: 9}, CallLegs: logline.Pair{Current: 1, Peak: 2}, HasCallLegs: true}},
				{Name: "cb4", Listed: true, Stale: true},
			},
			Leak:    cluster.Leak{Valid: true, Sessions: 130, CMAActive: 17, CMAPeak: 22, Estimate: 113, LowerBound: 108, BoundKnown: true},
			Dropped: 4,
		},
		Policy: actuator.Status{
			Mode: policy.ModeEnforce,
			Bridges: []actuator.BridgeStatus{
				{Name: "wb1", Reason: policy.ReasonNone, Detail: "restart: proven leak 40 ≥ 20 since 13:00", WouldRestart: true,
					LastRestart: ledger.Restart{Bridge: "wb1", Started: ago(5 * time.Hour), Finished: ago(5 * time.Hour), Result: ledger.ResultOK},
					Restarts:    map[ledger.Result]uint64{ledger.ResultOK: 2, ledger.ResultFailed: 1}},
				{Name: "wb2", Reason: policy.ReasonOutsideWindow, Detail: "outside window (next: Sat 02:00 UTC)", Restarts: map[ledger.Result]uint64{}},
				{Name: "wb3", Reason: policy.ReasonBreakerTripped, Detail: "breaker tripped (not_recovered)",
					Breaker:  ledger.Breaker{Tripped: true, Reason: policy.TripNotRecovered, Since: ago(20 * time.Minute)},
					Restarts: map[ledger.Result]uint64{}},
			},
			AuditErrors: 1,
		},
		Lines:         map[string]uint64{"files": 1000, "syslog_udp": 250},
		Stats:         map[string]uint64{"webbridge": 40},
		Malformed:     map[string]uint64{"callbridge": 2},
		SyslogSenders: map[string]uint64{"192.0.2.10": 250},
		Inputs: []status.Input{
			{Source: "files", Up: true, Detail: "1 file open", Errors: map[string]uint64{"permission_denied": 3}},
			{Source: "syslog_udp", Up: false, Detail: "bind failed"},
		},
		Ready:        true,
		Started:      ago(time.Hour),
		ConfigFile:   "/etc/leakwatch/leakwatch.yaml",
		ConfigLoaded: ago(time.Hour),
	}
}

// expo expands each line "#> name" of want into the family's HELP and TYPE
// lines, so tables list only samples.
func expo(want string) string {
	var b strings.Builder
	for line := range strings.Lines(want) {
		line = strings.TrimSpace(line)
		name, ok := strings.CutPrefix(line, "#> ")
		if !ok {
			b.WriteString(line + "\n")
			continue
		}
		m := lookup(name)
		typ := "gauge"
		if m.typ == prometheus.CounterValue {
			typ = "counter"
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(m.help), name, typ)
	}
	return b.String()
}

func lookup(name string) metric {
	for _, m := range all {
		if m.name == name {
			return m
		}
	}
	panic("no metric " + name)
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

package replay

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
)

// Report is the JSON contract of `leakwatch replay --format json`: the final
// state. Scripts depend on its shape; add fields, never rename them.
type Report struct {
	WebBridges  map[string]WebBridgeReport  `json:"webbridges"`
	CallBridges map[string]CallBridgeReport `json:"callbridges"`
	Leak        LeakReport                  `json:"leak"`
	Lines       Counts                      `json:"lines"`
	// Restarts is what the policy would have done (the what-if); empty
	// without a policy.
	Restarts []RestartReport `json:"restarts"`
	// WhatIf sums up, per Web Bridge, the world the what-if's restarts
	// would have made; absent with --what-if=false.
	WhatIf map[string]WhatIfReport `json:"what_if,omitempty"`
}

// WhatIfReport is one Web Bridge in the what-if. After each restart the
// sessions it would have freed (the leak proven at that moment, a lower
// bound of the true leak) are taken off the bridge's later counts, until
// the logs show a real restart; so MinutesAtLimit can only overstate.
type WhatIfReport struct {
	// Restarts is the number of restarts the policy ordered.
	Restarts int `json:"restarts"`
	// MinutesAtLimit is the time, in minutes, the bridge's counted sessions
	// (less what the restarts freed) were at or above its limit: no new
	// browser user could join. Gaps over 5 minutes between samples count
	// 5 minutes.
	MinutesAtLimit float64 `json:"minutes_at_limit"`
	// RealSessionsCut sums, over the restarts, the sessions on the bridge
	// minus its proven leak at the restart: the most real users cut.
	RealSessionsCut int64 `json:"real_sessions_cut"`
}

// WebBridgeReport is one Web Bridge's final state. LeakLowerBound is null
// when the bridge's leak is not proven either way (stale data, or no Call
// Bridge report period covers its samples).
type WebBridgeReport struct {
	Sessions       int64  `json:"sessions"`
	Connections    int64  `json:"connections"`
	Disconnections int64  `json:"disconnections"`
	LeakLowerBound *int64 `json:"leak_lower_bound"`
	SessionLimit   int64  `json:"session_limit"`
	Stale          bool   `json:"stale"`
	LastSeen       string `json:"last_seen"`
}

// CallBridgeReport is one Call Bridge's final state.
type CallBridgeReport struct {
	CMAActive      int64  `json:"cma_active"`
	CMAPeak        int64  `json:"cma_peak"`
	CallLegsActive int64  `json:"call_legs_active"`
	CallLegsPeak   int64  `json:"call_legs_peak"`
	Stale          bool   `json:"stale"`
	LastSeen       string `json:"last_seen"`
}

// LeakReport is the cluster estimate; Estimate and LowerBound are null when
// unknown, and Reason says why.
type LeakReport struct {
	Estimate   *int64 `json:"estimate"`
	LowerBound *int64 `json:"lower_bound"`
	Valid      bool   `json:"valid"`
	Reason     string `json:"reason,omitempty"`
}

// RestartReport is one restart the policy ordered.
type RestartReport struct {
	Time           string `json:"time"`
	WebBridge      string `json:"webbridge"`
	LeakLowerBound int64  `json:"leak_lower_bound"`
	Reason         string `json:"reason"`
	// RealSessionsCut is the sessions on the bridge minus its proven leak
	// (the highest since its last restart): the most real users cut.
	RealSessionsCut int64 `json:"real_sessions_cut"`
}

// NewReport builds the report of snap and counts.
func NewReport(snap cluster.Snapshot, counts Counts) Report {
	r := Report{
		WebBridges:  make(map[string]WebBridgeReport, len(snap.WebBridges)),
		CallBridges: make(map[string]CallBridgeReport, len(snap.CallBridges)),
		Lines:       counts,
		Restarts:    []RestartReport{},
	}
	for _, w := range snap.WebBridges {
		wr := WebBridgeReport{
			Sessions: w.Sessions, Connections: w.Connections, Disconnections: w.Disconnections,
			SessionLimit: w.Limit, Stale: w.Stale, LastSeen: rfc3339(w.LastSeen),
		}
		if w.LeakKnown {
			wr.LeakLowerBound = ptr(w.LeakLowerBound)
		}
		r.WebBridges[w.Name] = wr
	}
	for _, c := range snap.CallBridges {
		r.CallBridges[c.Name] = CallBridgeReport{
			CMAActive: c.Sample.CMA.Current, CMAPeak: c.Sample.CMA.Peak,
			CallLegsActive: c.Sample.CallLegs.Current, CallLegsPeak: c.Sample.CallLegs.Peak,
			Stale: c.Stale, LastSeen: rfc3339(c.LastSeen),
		}
	}
	r.Leak.Valid = snap.Leak.Valid
	r.Leak.Reason = snap.Leak.Reason
	if snap.Leak.Valid {
		r.Leak.Estimate = ptr(snap.Leak.Estimate)
		if snap.Leak.BoundKnown {
			r.Leak.LowerBound = ptr(snap.Leak.LowerBound)
		}
	}
	return r
}

func ptr(v int64) *int64 { return &v }

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

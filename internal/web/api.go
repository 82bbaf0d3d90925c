package web

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/policy"
	"github.com/leakwatch/leakwatch/internal/status"
)

// The /api/v1/status document. Field names are snake_case and stable; times
// are RFC 3339 strings. A value that is not known (a leak that cannot be
// proven, a component that never reported) is null, never zero.
type apiStatus struct {
	Time              string          `json:"time"`
	Ready             bool            `json:"ready"`
	Started           *string         `json:"started"`
	ConfigFile        string          `json:"config_file"`
	ConfigLoaded      *string         `json:"config_loaded"`
	Mode              string          `json:"mode"`
	WhatIf            bool            `json:"what_if"`
	RestartInProgress *apiRestart     `json:"restart_in_progress"`
	Cluster           apiCluster      `json:"cluster"`
	WebBridges        []apiWebBridge  `json:"web_bridges"`
	CallBridges       []apiCallBridge `json:"call_bridges"`
	Inputs            []apiInput      `json:"inputs"`
	Counters          apiCounters     `json:"counters"`
	// UnlistedHosts send a role's stats that the inventory of that role
	// does not list; ProofsWithheldBy names those withholding proofs now.
	UnlistedHosts    []apiUnlistedHost `json:"unlisted_hosts"`
	ProofsWithheldBy []string          `json:"proofs_withheld_by"`
	HA               *apiHA            `json:"ha,omitempty"`
}

type apiUnlistedHost struct {
	Host      string  `json:"host"`
	Role      string  `json:"role"`
	Lines     uint64  `json:"lines"`
	LastSeen  *string `json:"last_seen"`
	Reporting bool    `json:"reporting"`
}

type apiCluster struct {
	EstimateValid bool `json:"estimate_valid"`
	// InvalidReason says why the estimate is unknown.
	InvalidReason string `json:"invalid_reason,omitempty"`
	Sessions      int64  `json:"sessions"`
	CMAActive     int64  `json:"cma_active"`
	CMAPeak       int64  `json:"cma_peak"`
	// LeakEstimate and LeakLowerBound are null when unknown.
	LeakEstimate   *int64 `json:"leak_estimate"`
	LeakLowerBound *int64 `json:"leak_lower_bound"`
}

type apiWebBridge struct {
	Name   string   `json:"name"`
	Hosts  []string `json:"hosts"`
	Listed bool     `json:"listed"`
	// InCluster is false for a bridge only the restart record still knows.
	InCluster      bool         `json:"in_cluster"`
	Seen           bool         `json:"seen"`
	Stale          bool         `json:"stale"`
	LastReport     *string      `json:"last_report"`
	Sessions       *int64       `json:"sessions"`
	Limit          int64        `json:"limit"`
	Headroom       int64        `json:"headroom"`
	Connections    *int64       `json:"connections"`
	Disconnections *int64       `json:"disconnections"`
	LeakLowerBound *int64       `json:"leak_lower_bound"`
	LeakAt         *string      `json:"leak_at"`
	Forecast       *apiForecast `json:"forecast"`
	Policy         apiVerdict   `json:"policy"`
}

// apiForecast is cluster.Forecast; null before the bridge's first sample.
type apiForecast struct {
	Known bool `json:"known"`
	// Reason says why it is unknown, or what it found.
	Reason             string  `json:"reason"`
	HistoryNeededHours float64 `json:"history_needed_hours"`
	GrowthPerHour      float64 `json:"growth_per_hour"`
	Leak               float64 `json:"leak"`
	RealPeak           *int64  `json:"real_peak"`
	// Full is when leak plus real peak reach the limit; null when not growing.
	Full *string `json:"full"`
}

type apiVerdict struct {
	// Verdict is the page's one-line summary; Decision is its first word
	// as a code (policy.Verdict: restart, would_restart, hold, blocked; ""
	// before the first decision), as the audit log's decision field has it;
	// Reason and Detail are the policy's own.
	Verdict      string            `json:"verdict"`
	Decision     string            `json:"decision"`
	Reason       string            `json:"reason"`
	Detail       string            `json:"detail"`
	WouldRestart bool              `json:"would_restart"`
	Emergency    bool              `json:"emergency"`
	NextWindow   *string           `json:"next_window"`
	Recovering   bool              `json:"recovering"`
	Breaker      apiBreaker        `json:"breaker"`
	LastRestart  *apiRestart       `json:"last_restart"`
	Restarts     map[string]uint64 `json:"restarts"`
}

type apiBreaker struct {
	Tripped bool    `json:"tripped"`
	Reason  string  `json:"reason,omitempty"`
	Detail  string  `json:"detail,omitempty"`
	Since   *string `json:"since"`
}

type apiRestart struct {
	Bridge    string  `json:"bridge"`
	Started   *string `json:"started"`
	Finished  *string `json:"finished"`
	Result    string  `json:"result"`
	LeakBound int64   `json:"leak_bound"`
	Reason    string  `json:"reason,omitempty"`
	Forced    bool    `json:"forced"`
	Emergency bool    `json:"emergency"`
	Output    string  `json:"output,omitempty"`
	Error     string  `json:"error,omitempty"`
}

type apiCallBridge struct {
	Name       string   `json:"name"`
	Hosts      []string `json:"hosts"`
	Listed     bool     `json:"listed"`
	Seen       bool     `json:"seen"`
	Stale      bool     `json:"stale"`
	LastReport *string  `json:"last_report"`
	CMA        *apiPair `json:"cma"`
	CallLegs   *apiPair `json:"call_legs"`
}

type apiPair struct {
	Current int64 `json:"current"`
	Peak    int64 `json:"peak"`
}

type apiInput struct {
	Source string            `json:"source"`
	Up     bool              `json:"up"`
	Detail string            `json:"detail"`
	Errors map[string]uint64 `json:"errors"`
}

type apiCounters struct {
	Lines                 map[string]uint64 `json:"lines"`
	StatsLines            map[string]uint64 `json:"stats_lines"`
	MalformedLines        map[string]uint64 `json:"malformed_lines"`
	SyslogSenders         map[string]uint64 `json:"syslog_senders"`
	DiscoveryDroppedLines uint64            `json:"discovery_dropped_lines"`
	AuditWriteErrors      uint64            `json:"audit_write_errors"`
}

// toAPI converts st into the API document.
func toAPI(st status.State) apiStatus {
	loc := st.Now.Location()
	out := apiStatus{
		Time:         st.Now.Format(time.RFC3339),
		Ready:        st.Ready,
		Started:      stamp(st.Started),
		ConfigFile:   st.ConfigFile,
		ConfigLoaded: stamp(st.ConfigLoaded),
		Mode:         string(st.Policy.Mode),
		WhatIf:       st.Policy.WhatIf,
		HA:           apiHAOf(st.HA),
		Cluster:      apiClusterOf(st.Cluster.Leak),
		WebBridges:   []apiWebBridge{},
		CallBridges:  []apiCallBridge{},
		Inputs:       []apiInput{},
		Counters: apiCounters{
			Lines:                 nonNil(st.Lines),
			StatsLines:            withKinds(st.Stats),
			MalformedLines:        withKinds(st.Malformed),
			SyslogSenders:         nonNil(st.SyslogSenders),
			DiscoveryDroppedLines: st.Cluster.Dropped,
			AuditWriteErrors:      st.Policy.AuditErrors,
		},
	}
	if f := st.Policy.InFlight; f != nil {
		out.RestartInProgress = apiRestartOf(*f)
	}
	for _, b := range mergeBridges(st) {
		out.WebBridges = append(out.WebBridges, apiWebBridgeOf(b, st.Policy.InFlight, loc))
	}
	for _, cb := range st.Cluster.CallBridges {
		out.CallBridges = append(out.CallBridges, apiCallBridgeOf(cb))
	}
	for _, in := range st.Inputs {
		out.Inputs = append(out.Inputs, apiInput{Source: in.Source, Up: in.Up, Detail: in.Detail, Errors: nonNil(in.Errors)})
	}
	out.UnlistedHosts = []apiUnlistedHost{}
	for _, u := range st.Cluster.Unlisted {
		out.UnlistedHosts = append(out.UnlistedHosts, apiUnlistedHost{Host: u.Host, Role: string(u.Role), Lines: u.Lines,
			LastSeen: stamp(u.LastSeen), Reporting: u.Reporting})
	}
	out.ProofsWithheldBy = nonNilSlice(st.Cluster.Withheld)
	return out
}

func apiClusterOf(l cluster.Leak) apiCluster {
	c := apiCluster{EstimateValid: l.Valid, Sessions: l.Sessions, CMAActive: l.CMAActive, CMAPeak: l.CMAPeak}
	if !l.Valid {
		c.InvalidReason = l.Reason
		return c
	}
	c.LeakEstimate = ptr(l.Estimate)
	if l.BoundKnown {
		c.LeakLowerBound = ptr(l.LowerBound)
	}
	return c
}

func apiWebBridgeOf(b bridge, inFlight *ledger.Restart, loc *time.Location) apiWebBridge {
	wb := b.WebBridge
	out := apiWebBridge{
		Name: b.Name, Hosts: nonNilSlice(wb.Hosts), Listed: wb.Listed, InCluster: b.InCluster,
		Seen: wb.Seen, Stale: wb.Stale, Limit: wb.Limit, Headroom: wb.Headroom,
		Policy: apiVerdictOf(b.Policy, inFlight, loc),
	}
	if wb.Seen {
		out.LastReport = stamp(wb.LastSeen)
		out.Sessions, out.Connections, out.Disconnections = ptr(wb.Sessions), ptr(wb.Connections), ptr(wb.Disconnections)
	}
	if wb.LeakKnown {
		out.LeakLowerBound, out.LeakAt = ptr(wb.LeakLowerBound), stamp(wb.LeakAt)
	}
	if f := wb.Forecast; !f.At.IsZero() {
		out.Forecast = &apiForecast{Known: f.Known, Reason: f.Reason, HistoryNeededHours: f.NeedMore.Hours(),
			GrowthPerHour: f.Rate, Leak: f.Leak, Full: stamp(f.Full)}
		if f.RealPeakKnown {
			out.Forecast.RealPeak = ptr(f.RealPeak)
		}
	}
	return out
}

func apiVerdictOf(bs actuator.BridgeStatus, inFlight *ledger.Restart, loc *time.Location) apiVerdict {
	words, _ := verdict(bs, inFlight, loc)
	v := apiVerdict{
		Verdict: words, Reason: string(bs.Reason), Detail: bs.Detail, Decision: apiDecision(bs, inFlight),
		WouldRestart: bs.WouldRestart, Emergency: bs.Emergency, NextWindow: stamp(bs.NextWindow), Recovering: bs.Recovering,
		Breaker:  apiBreaker{Tripped: bs.Breaker.Tripped, Reason: bs.Breaker.Reason, Detail: bs.Breaker.Detail, Since: stamp(bs.Breaker.Since)},
		Restarts: map[string]uint64{},
	}
	for _, r := range ledger.Results {
		v.Restarts[string(r)] = bs.Restarts[r]
	}
	if !bs.LastRestart.Started.IsZero() {
		v.LastRestart = apiRestartOf(bs.LastRestart)
	}
	return v
}

// apiDecision is the verdict code of what verdict() says in words.
func apiDecision(bs actuator.BridgeStatus, inFlight *ledger.Restart) string {
	switch {
	case bs.Breaker.Tripped || bs.Recovering:
		return string(policy.VerdictBlocked)
	case inFlight != nil && inFlight.Bridge == bs.Name:
		return string(policy.VerdictRestart)
	case bs.Reason == "":
		return ""
	}
	return string(policy.ReasonVerdict(bs.Reason))
}

func apiRestartOf(r ledger.Restart) *apiRestart {
	return &apiRestart{
		Bridge: r.Bridge, Started: stamp(r.Started), Finished: stamp(r.Finished), Result: string(r.Result),
		LeakBound: r.LeakBound, Reason: r.Reason, Forced: r.Forced, Emergency: r.Emergency, Output: r.Output, Error: r.Error,
	}
}

func apiCallBridgeOf(cb cluster.CallBridge) apiCallBridge {
	out := apiCallBridge{Name: cb.Name, Hosts: nonNilSlice(cb.Hosts), Listed: cb.Listed, Seen: cb.Seen, Stale: cb.Stale}
	if cb.Seen {
		out.LastReport = stamp(cb.LastSeen)
		out.CMA = &apiPair{Current: cb.Sample.CMA.Current, Peak: cb.Sample.CMA.Peak}
		if cb.Sample.HasCallLegs {
			out.CallLegs = &apiPair{Current: cb.Sample.CallLegs.Current, Peak: cb.Sample.CallLegs.Peak}
		}
	}
	return out
}

// stamp formats t as RFC 3339, or nil for the zero time.
func stamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(time.RFC3339)
	return &s
}

func ptr[T any](v T) *T { return &v }

func nonNil(m map[string]uint64) map[string]uint64 {
	if m == nil {
		return map[string]uint64{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// statsKinds are the stats line kinds, always present in the counters.
var statsKinds = []string{"webbridge", "callbridge"}

func withKinds(m map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m)+len(statsKinds))
	for _, k := range statsKinds {
		out[k] = 0
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

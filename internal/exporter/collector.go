package exporter

import (
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/policy"
	"github.com/leakwatch/leakwatch/internal/status"
)

// statsKinds are the kinds of leakwatch_stats_lines_total and
// leakwatch_malformed_lines_total; both always exist so that rate() and
// absent-series alerts work before the first line of a kind.
var statsKinds = []string{"webbridge", "callbridge"}

// modes are the values of leakwatch_mode's label; both always exist.
var modes = []policy.Mode{policy.ModeObserve, policy.ModeEnforce}

type collector struct {
	p status.Provider
}

// NewCollector returns a collector that calls p once per scrape and exports
// that State as constant metrics.
func NewCollector(p status.Provider) prometheus.Collector {
	return &collector{p: p}
}

// Describe sends every family's descriptor.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range all {
		ch <- m.desc
	}
}

// Collect exports one State.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.p()
	e := emitter{ch}
	e.webBridges(st.Cluster.WebBridges)
	e.callBridges(st.Cluster.CallBridges)
	e.cluster(st.Cluster.Leak)
	e.health(st)
	e.policy(st)
	if h := st.HA; h != nil {
		e.emit(haLeader, boolValue(h.Leader))
		e.emit(haUp, boolValue(h.Up))
	}
}

// emitter sends constant metrics to a scrape's channel.
type emitter struct {
	ch chan<- prometheus.Metric
}

func (e emitter) emit(m metric, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(m.desc, m.typ, v, labels...)
}

func (e emitter) webBridges(wbs []cluster.WebBridge) {
	for _, wb := range wbs {
		e.emit(wbLimit, float64(wb.Limit), wb.Name)
		if !wb.Seen {
			continue
		}
		e.emit(wbLastReport, unixSeconds(wb.LastSeen), wb.Name)
		if wb.Stale {
			continue
		}
		e.emit(wbSessions, float64(wb.Sessions), wb.Name)
		e.emit(wbConnections, float64(wb.Connections), wb.Name)
		e.emit(wbDisconnections, float64(wb.Disconnections), wb.Name)
		if wb.LeakKnown {
			e.emit(wbLeak, float64(wb.LeakLowerBound), wb.Name)
		}
		e.forecast(wb)
	}
}

func (e emitter) forecast(wb cluster.WebBridge) {
	f := wb.Forecast
	if f.At.IsZero() {
		return // the model made none (a snapshot built by hand)
	}
	e.emit(wbHistoryNeeded, f.NeedMore.Seconds(), wb.Name)
	if f.RealPeakKnown {
		e.emit(wbRealPeak, float64(f.RealPeak), wb.Name)
	}
	if !f.Known {
		return
	}
	e.emit(wbGrowth, f.Rate/3600, wb.Name)
	if !f.Full.IsZero() {
		e.emit(wbFull, unixSeconds(f.Full), wb.Name)
	}
}

func (e emitter) callBridges(cbs []cluster.CallBridge) {
	for _, cb := range cbs {
		if !cb.Seen {
			continue
		}
		e.emit(cbLastReport, unixSeconds(cb.LastSeen), cb.Name)
		if cb.Stale {
			continue
		}
		e.emit(cbCMA, float64(cb.Sample.CMA.Current), cb.Name)
		e.emit(cbCMAPeak, float64(cb.Sample.CMA.Peak), cb.Name)
		if cb.Sample.HasCallLegs {
			e.emit(cbLegs, float64(cb.Sample.CallLegs.Current), cb.Name)
			e.emit(cbLegsPeak, float64(cb.Sample.CallLegs.Peak), cb.Name)
		}
	}
}

func (e emitter) cluster(l cluster.Leak) {
	e.emit(clValid, boolValue(l.Valid))
	if !l.Valid {
		return
	}
	e.emit(clEstimate, float64(l.Estimate))
	if l.BoundKnown {
		e.emit(clBound, float64(l.LowerBound))
	}
}

func (e emitter) health(st status.State) {
	e.counts(lines, st.Lines, nil)
	e.counts(statsLines, st.Stats, statsKinds)
	e.counts(malformed, st.Malformed, statsKinds)
	e.counts(syslogSenders, st.SyslogSenders, nil)
	for _, in := range st.Inputs {
		e.emit(inputUp, boolValue(in.Up), in.Source)
		for _, reason := range slices.Sorted(maps.Keys(in.Errors)) {
			e.emit(inputErrors, float64(in.Errors[reason]), in.Source, reason)
		}
	}
	e.emit(dropped, float64(st.Cluster.Dropped))
	for _, u := range st.Cluster.Unlisted {
		e.emit(unlistedLines, float64(u.Lines), u.Host, string(u.Role))
	}
	for _, h := range st.Cluster.Withheld {
		e.emit(proofsWithheld, 1, h)
	}
	for _, h := range st.Cluster.Ignored {
		e.emit(ignoredLines, float64(h.Lines), h.Host)
	}
	for _, h := range st.Cluster.Clocks {
		e.emit(hostOffset, h.Offset.Seconds(), h.Host)
		e.emit(futureRejected, float64(h.FutureRejected), h.Host)
	}
	e.emit(auditErrors, float64(st.Policy.AuditErrors))
	e.emit(ready, boolValue(st.Ready))
	if !st.ConfigLoaded.IsZero() {
		e.emit(configLoaded, unixSeconds(st.ConfigLoaded))
	}
}

// counts exports a map of counters by its one label. The keys in always
// are exported even when the map lacks them (as 0).
func (e emitter) counts(m metric, values map[string]uint64, always []string) {
	for _, k := range always {
		e.emit(m, float64(values[k]), k)
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if !slices.Contains(always, k) {
			e.emit(m, float64(values[k]), k)
		}
	}
}

func (e emitter) policy(st status.State) {
	for _, md := range modes {
		e.emit(mode, boolValue(st.Policy.Mode == md), string(md))
	}
	e.emit(inFlight, boolValue(st.Policy.InFlight != nil))

	known := make(map[string]bool, len(st.Policy.Bridges))
	for _, bs := range st.Policy.Bridges {
		known[bs.Name] = true
		e.bridgePolicy(bs)
	}
	// A Web Bridge the actuator has not evaluated yet (before the first
	// step) still gets its zero counters and breaker, so increase() sees
	// the first restart and alerts see every bridge.
	for _, wb := range st.Cluster.WebBridges {
		if !known[wb.Name] {
			e.bridgePolicy(actuatorStatus(wb.Name))
		}
	}
}

package cluster

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Snapshot returns the cluster's state and leak estimate as of now. It
// first lets discovered Web Bridges silent for longer than ForgetAfter leave
// the sums (recorded in Departures): the one change of state a snapshot
// makes, since leaving depends on now alone.
func (m *Model) Snapshot(now time.Time) Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(now)
	o := &m.opts
	snap := Snapshot{Now: now, Dropped: m.dropped, Clocks: m.clocks.snapshot(), FutureTolerance: o.FutureTolerance,
		Unlisted: m.unlisted(now), Ignored: m.ignoredHosts(), Departures: slices.Clone(m.departures)}
	for _, u := range snap.Unlisted {
		if u.Role == RoleCallBridge && u.Reporting {
			snap.Withheld = append(snap.Withheld, u.Host)
		}
	}

	snap.CallBridges = make([]CallBridge, 0, len(m.cbs))
	warm := m.warm(now)
	// An unlisted Call Bridge that reports may carry CMA sessions the
	// peaks leave out: no proof holds while it does.
	allCBFresh := len(m.cbs) > 0 && warm && len(snap.Withheld) == 0
	for _, cb := range m.cbs {
		c := CallBridge{Name: cb.name, Hosts: cb.hosts, Listed: cb.listed, Seen: cb.seen, Stale: true}
		if r := cb.last(); r != nil {
			c.LastSeen = r.at
			c.Sample = r.full
			c.Stale = now.Sub(minTime(r.at, cb.lastArrived)) > o.StaleAfter
		}
		if c.Stale {
			allCBFresh = false
		}
		snap.CallBridges = append(snap.CallBridges, c)
	}

	snap.WebBridges = make([]WebBridge, 0, len(m.wbs))
	for _, wb := range m.wbs {
		w := WebBridge{Name: wb.name, Hosts: wb.hosts, Limit: wb.limit, Listed: wb.listed, Restartable: wb.restartable,
			Seen: wb.seen, Stale: true, Headroom: wb.limit}
		if wb.seen {
			w.LastSeen = wb.lastAt
			w.Stale = now.Sub(minTime(wb.lastAt, wb.lastArrived)) > o.StaleAfter
			w.Sessions = wb.last.Active
			w.Connections = wb.last.Connections
			w.Disconnections = wb.last.Disconnections
			w.Headroom = max(0, wb.limit-wb.last.Active)
			w.Forecast = m.forecast(wb, now)
		}
		if !w.Stale && allCBFresh {
			if s, peaks, ok := m.coveredSample(wb); ok {
				w.LeakKnown = true
				// Never more leaked than active now: a restart after the
				// covered sample drops the leak before the next report.
				w.LeakLowerBound = min(max(0, s.active-peaks), w.Sessions)
				w.LeakAt = s.at
			}
		}
		snap.WebBridges = append(snap.WebBridges, w)
	}

	snap.Leak = m.leak(&snap, allCBFresh)
	return snap
}

// warmup is how long after the first sample every Call Bridge has had a
// chance to report once.
func (m *Model) warmup() time.Duration { return m.opts.PeakWindow }

func (m *Model) warm(now time.Time) bool {
	return !m.firstAt.IsZero() && now.Sub(m.firstAt) >= m.warmup()
}

// peakCovering returns the sum over Call Bridges of the CMA peak covering
// t, and false if some Call Bridge has no such report. A sample stamped t
// was taken within ClockSkew of t, so each Call Bridge must have report
// periods that together cover [t - ClockSkew, t + ClockSkew] without a gap;
// its share is the largest of their peaks. Most samples lie inside one
// period; near a report the two periods around it cover them together, so
// a wide clock_skew with several Call Bridges out of phase still leaves
// samples that can be proven.
func (m *Model) peakCovering(t time.Time) (int64, bool) {
	var sum int64
	for _, cb := range m.cbs {
		peak, ok := m.peakOver(cb, t.Add(-m.opts.ClockSkew), t.Add(m.opts.ClockSkew))
		if !ok {
			return 0, false
		}
		sum += peak
	}
	return sum, len(m.cbs) > 0
}

// peakOver returns the largest CMA peak of cb's report periods that cover
// [lo, hi] together, and false if they leave part of it uncovered.
func (m *Model) peakOver(cb *callBridge, lo, hi time.Time) (int64, bool) {
	need := hi // [lo, need] is still to cover
	var peak int64
	for i := len(cb.reports) - 1; i >= 0; i-- {
		r := &cb.reports[i]
		start := maxTime(r.at.Add(-m.opts.PeakWindow), r.prev)
		if start.After(need) {
			continue // after what is left to cover
		}
		if r.at.Before(need) {
			return 0, false // a gap between this period and the next
		}
		peak = max(peak, r.cma.Peak)
		if !start.After(lo) {
			return peak, true
		}
		need = start
	}
	return 0, false
}

// coveredSample returns the bridge's newest sample that every Call Bridge's
// report period covers, with the sum of those periods' CMA peaks. Genuine
// sessions on one Web Bridge at time t cannot exceed the cluster's CMA peak
// over a period containing t, so active - peaks is a lower bound of the leak.
func (m *Model) coveredSample(wb *webBridge) (wbSample, int64, bool) {
	samples := wb.sinceRestart()
	for i := len(samples) - 1; i >= 0; i-- {
		if peaks, ok := m.peakCovering(samples[i].at); ok {
			return samples[i], peaks, true
		}
	}
	return wbSample{}, 0, false
}

// leak computes the cluster estimate and the timing-robust bound.
func (m *Model) leak(snap *Snapshot, allCBFresh bool) Leak {
	var l Leak
	for _, c := range snap.CallBridges {
		l.CMAActive += c.Sample.CMA.Current
		l.CMAPeak += c.Sample.CMA.Peak
		l.CMALoad += max(c.Sample.CMA.Current, c.Sample.CMA.Peak)
	}
	for _, w := range snap.WebBridges {
		l.Sessions += w.Sessions
	}
	switch {
	case len(snap.Withheld) > 0:
		l.Reason = fmt.Sprintf("proofs withheld: unlisted call bridge %s reports, and its CMA sessions are not in the peaks every proof subtracts (list it in inventory.callbridges, name it in inventory.ignore, or run leakwatch forget %s)",
			strings.Join(snap.Withheld, ", "), snap.Withheld[0])
		return l
	case len(snap.WebBridges) == 0:
		l.Reason = "no web bridge has reported"
		return l
	case len(snap.CallBridges) == 0:
		l.Reason = "no call bridge has reported"
		return l
	}
	for _, w := range snap.WebBridges {
		if w.Stale {
			l.Reason = staleReason("web bridge", w.Name, w.Seen, w.LastSeen, snap.Now)
			return l
		}
	}
	if !allCBFresh {
		for _, c := range snap.CallBridges {
			if c.Stale {
				l.Reason = staleReason("call bridge", c.Name, c.Seen, c.LastSeen, snap.Now)
				return l
			}
		}
	}
	if !m.warm(snap.Now) {
		l.Reason = fmt.Sprintf("warming up: waiting %s for every call bridge to report once", m.warmup())
		return l
	}
	l.Valid = true
	l.Estimate = max(0, l.Sessions-l.CMAActive)

	var perBridge int64
	known := true
	for _, w := range snap.WebBridges {
		perBridge += w.LeakLowerBound
		known = known && w.LeakKnown
	}
	// The cluster bound wants every Web Bridge sampled inside the same
	// report periods: try the newest period of the first Call Bridge
	// backwards and take the newest where every bridge has a covered sample.
	if bound, ok := m.clusterBound(); ok {
		l.LowerBound = max(bound, perBridge)
		l.BoundKnown = true
	} else if known {
		l.LowerBound = perBridge
		l.BoundKnown = true
	}
	// Never more leaked than counted as active now.
	l.LowerBound = min(l.LowerBound, l.Sessions)
	return l
}

func (m *Model) clusterBound() (int64, bool) {
	ref := m.cbs[0]
	for i := len(ref.reports) - 1; i >= 0; i-- {
		// Intersect the periods: ref's, then for each other Call Bridge
		// the report whose period overlaps the intersection most.
		lo, hi := m.period(&ref.reports[i])
		peaks := ref.reports[i].cma.Peak
		for _, cb := range m.cbs[1:] {
			best, bestOverlap := -1, time.Duration(0)
			for j := range cb.reports {
				a, b := m.period(&cb.reports[j])
				if ov := minTime(hi, b).Sub(maxTime(lo, a)); ov >= 0 && (best < 0 || ov > bestOverlap) {
					best, bestOverlap = j, ov
				}
			}
			if best < 0 {
				lo = hi.Add(time.Nanosecond) // no overlap: empty
				break
			}
			a, b := m.period(&cb.reports[best])
			lo, hi = maxTime(lo, a), minTime(hi, b)
			peaks += cb.reports[best].cma.Peak
		}
		if hi.Before(lo) {
			continue
		}
		if total, ok := m.simultaneousTotal(lo, hi); ok {
			return max(0, total-peaks), true
		}
	}
	return 0, false
}

// period returns the part of r's report period that counts as covered: it
// starts at the later of PeakWindow before r and the report before r, so a
// report that follows the last one early is not credited with a peak over
// time it may not have covered; the clock-skew margin comes off both ends.
func (m *Model) period(r *cbReport) (time.Time, time.Time) {
	start := maxTime(r.at.Add(-m.opts.PeakWindow), r.prev)
	return start.Add(m.opts.ClockSkew), r.at.Add(-m.opts.ClockSkew)
}

// simultaneousTotal sums the Web Bridges' sessions at one moment inside
// [lo, hi]: samples of every bridge taken within ClockSkew of each other.
// Sessions of different bridges sampled at different moments could add up to
// more genuine sessions than were ever on at once, so only a simultaneous sum
// may be compared with the peaks.
func (m *Model) simultaneousTotal(lo, hi time.Time) (int64, bool) {
	first := m.wbs[0].sinceRestart()
	for i := len(first) - 1; i >= 0; i-- {
		anchor := first[i].at
		if anchor.Before(lo) || anchor.After(hi) {
			continue
		}
		a, b := maxTime(lo, anchor.Add(-m.opts.ClockSkew)), minTime(hi, anchor.Add(m.opts.ClockSkew))
		total := first[i].active
		ok := true
		for _, wb := range m.wbs[1:] {
			s, found := newestIn(wb.sinceRestart(), a, b)
			if !found {
				ok = false
				break
			}
			total += s.active
		}
		if ok {
			return total, true
		}
	}
	return 0, false
}

func newestIn(samples []wbSample, lo, hi time.Time) (wbSample, bool) {
	for j := len(samples) - 1; j >= 0; j-- {
		if t := samples[j].at; !t.Before(lo) && !t.After(hi) {
			return samples[j], true
		}
	}
	return wbSample{}, false
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func staleReason(role, name string, seen bool, last, now time.Time) string {
	if !seen {
		return fmt.Sprintf("%s %s has never reported", role, name)
	}
	return fmt.Sprintf("%s %s is stale (last report %s ago)", role, name, now.Sub(last).Round(time.Second))
}

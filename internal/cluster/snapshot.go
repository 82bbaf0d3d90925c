package cluster

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/logline"
)

// Snapshot is the cluster's state as seen at Now. It is a copy: callers may
// keep it and read it from any goroutine.
type Snapshot struct {
	Now         time.Time
	WebBridges  []WebBridge  // sorted by name
	CallBridges []CallBridge // sorted by name
	Leak        Leak
	// Dropped counts stats lines from hosts past the discovery cap.
	Dropped uint64
	// Clocks lists the sending hosts' apparent clock offsets, by host.
	Clocks []HostClock
	// FutureTolerance is the model's: how far a sample's own time may be
	// ahead of leakwatch's clock (see SampledAfter).
	FutureTolerance time.Duration
	// Unlisted are hosts sending a role's stats that the inventory of that
	// role does not list; they are in no sum.
	Unlisted []UnlistedHost
	// Withheld names the unlisted Call Bridges reporting now: while any
	// does, no proof holds and the estimate is invalid.
	Withheld []string
	// Ignored are the inventory.ignore hosts with their dropped lines.
	Ignored []IgnoredHost
	// Departures are the recent discovered components that left the sums.
	Departures []Departure
}

// WebBridge is one Web Bridge's latest state.
type WebBridge struct {
	Name  string
	Hosts []string
	// Limit is the session limit (149 on Web Bridge 2 unless configured).
	Limit int64
	// Listed is true when the bridge comes from the inventory, false when it
	// was discovered from a hostname.
	Listed bool
	// Restartable is true when the inventory gives the bridge an MMP
	// address: only such a bridge may ever be restarted.
	Restartable bool
	// Seen is false until a first sample arrives; the fields below are zero.
	Seen     bool
	LastSeen time.Time
	// Stale is true when the last sample is older than stale_after (or
	// when never seen).
	Stale          bool
	Sessions       int64
	Connections    int64
	Disconnections int64
	// Headroom is Limit - Sessions (never below zero).
	Headroom int64
	// LeakKnown says whether LeakLowerBound is proven: the bridge and every
	// Call Bridge are fresh and a Call Bridge report period covers one of the
	// bridge's samples.
	LeakKnown bool
	// LeakLowerBound is max(0, sessions at sample time s - sum over Call Bridges
	// of the CMA peak of the report period that covers s): sessions this
	// bridge provably leaked. Zero when !LeakKnown.
	LeakLowerBound int64
	// LeakAt is the time of the sample LeakLowerBound was computed from.
	LeakAt time.Time
	// Forecast says where the leak is heading, from the bridge's history.
	Forecast Forecast
}

// CallBridge is one Call Bridge's latest state.
type CallBridge struct {
	Name     string
	Hosts    []string
	Listed   bool
	Seen     bool
	LastSeen time.Time
	Stale    bool
	// Sample is the last STATS sample.
	Sample logline.CallBridge
}

// Leak is the cluster-wide estimate.
type Leak struct {
	// Valid is false when any known component is stale or missing, or when
	// no Web Bridge or no Call Bridge is known. Estimate and LowerBound are
	// then meaningless (zero) and must be shown as unknown.
	Valid bool
	// Reason explains an invalid estimate, e.g. "call bridge cb2 stale (last report 14m ago)".
	Reason string
	// Sessions is the sum of the latest Web Bridge session counts.
	Sessions int64
	// CMAActive and CMAPeak are the sums over Call Bridges of the CMA current and peak.
	CMAActive int64
	CMAPeak   int64
	// CMALoad is the sum over Call Bridges of the larger of CMA current and
	// the peak of the latest report: the users a restart may cut, counted
	// over the whole report period instead of at one moment minutes ago.
	CMALoad int64
	// Estimate is max(0, Sessions - CMAActive) on the latest samples.
	Estimate int64
	// LowerBound is the timing-robust bound: max(0, the Web Bridges' sessions
	// summed at one moment (samples within clock_skew of each other) inside a
	// report period of every Call Bridge - the sum of those periods' CMA
	// peaks), and never below the sum of the per-bridge proven leaks.
	LowerBound int64
	// BoundKnown is false when no Web Bridge sample is yet covered by a
	// report period of every Call Bridge; LowerBound is then zero.
	BoundKnown bool
}

// Load returns the CMA sessions the load guard counts: CMALoad, and never
// less than the sums of current or peak (snapshots built by hand may set
// only those).
func (l Leak) Load() int64 { return max(l.CMALoad, l.CMAActive, l.CMAPeak) }

// WebBridge returns the named Web Bridge and whether it exists.
func (s *Snapshot) WebBridge(name string) (WebBridge, bool) {
	for _, wb := range s.WebBridges {
		if wb.Name == name {
			return wb, true
		}
	}
	return WebBridge{}, false
}

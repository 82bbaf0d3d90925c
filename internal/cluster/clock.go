package cluster

import (
	"sort"
	"time"
)

// Each sample carries two times: its own timestamp, from the sender's clock,
// and its arrival, from leakwatch's (the wall clock live, the replay's clock
// in a replay). The model compares samples of different hosts by their own
// times, with the clock_skew margin, since those are the moments the counts
// were taken. Wherever a sample is compared with leakwatch's clock, the
// comparison is made knowingly:
//
//   - a sample stamped more than FutureTolerance ahead of its arrival is
//     rejected (Observe returns RejectedFuture), so an accepted sample's own
//     time is at most FutureTolerance ahead of leakwatch's clock;
//   - freshness counts from the earlier of the two times: a sender whose
//     clock runs ahead cannot make its sample look newer than its arrival;
//   - "taken after t" (a restart, on leakwatch's clock) needs the sample's own
//     time later than t plus FutureTolerance (Snapshot.SampledAfter,
//     MarkRestart): a sender whose clock runs behind only delays that.

// clocks records each sending host's apparent clock offset. It holds at
// most max hosts; hosts beyond are not recorded (their samples are still
// handled as usual).
type clocks struct {
	max   int
	hosts map[string]*hostClock
}

type hostClock struct {
	offset  time.Duration // own time minus arrival, latest sample
	arrived time.Time     // arrival of that sample
	future  uint64        // samples rejected as too far ahead
}

func (c *clocks) record(host string, offset time.Duration, arrived time.Time, future bool) {
	h := c.hosts[host]
	if h == nil {
		if len(c.hosts) >= c.max {
			return
		}
		if c.hosts == nil {
			c.hosts = map[string]*hostClock{}
		}
		h = &hostClock{}
		c.hosts[host] = h
	}
	h.offset, h.arrived = offset, arrived
	if future {
		h.future++
	}
}

func (c *clocks) forget(host string) { delete(c.hosts, host) }

// HostClock is one sending host's clock as leakwatch sees it.
type HostClock struct {
	Host string
	// Offset is the host's latest sample's own time minus its arrival:
	// positive when the host's clock runs ahead. It includes the delivery
	// delay, so it is slightly negative for a well-set clock, and very
	// negative while leakwatch reads old lines (a file's backlog).
	Offset time.Duration
	// Arrived is when that sample arrived.
	Arrived time.Time
	// FutureRejected counts the host's samples rejected for being stamped
	// more than FutureTolerance ahead of their arrival.
	FutureRejected uint64
}

func (c *clocks) snapshot() []HostClock {
	out := make([]HostClock, 0, len(c.hosts))
	for name, h := range c.hosts {
		out = append(out, HostClock{Host: name, Offset: h.offset, Arrived: h.arrived, FutureRejected: h.future})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

// SampledAfter reports whether a sample stamped at (its sender's clock) was
// provably taken after t (leakwatch's clock): at must be later than t by
// more than the FutureTolerance a sender's clock may run ahead.
func (s *Snapshot) SampledAfter(at, t time.Time) bool {
	return at.Add(-s.FutureTolerance).After(t)
}

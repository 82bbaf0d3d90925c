package cluster

import (
	"testing"
	"time"
)

// TestFutureStampedSampleIsRejected: one Web Bridge line stamped a day ahead
// must not pin the bridge's last sample, sessions and freshness; later,
// correct lines keep updating it. Its host's offset and rejection are kept.
func TestFutureStampedSampleIsRejected(t *testing.T) {
	m := mustModel(t, Options{})
	warmUp(m, "cb1")
	now := t0.Add(time.Minute)
	m.Observe(wbLine("wb1", now, 40), now)
	forged := wbLine("wb1", now.Add(24*time.Hour), 149)
	if got := m.Observe(forged, now.Add(time.Second)); got != RejectedFuture {
		t.Fatalf("a line a day ahead: outcome %d, want RejectedFuture", got)
	}
	later := now.Add(time.Minute)
	if got := m.Observe(wbLine("wb1", later, 41), later); got != Applied {
		t.Fatalf("a correct line after it: outcome %d, want Applied", got)
	}
	m.Observe(cbLine("cb1", t0.Add(5*time.Minute), 1, 1), t0.Add(5*time.Minute))
	s := m.Snapshot(t0.Add(5 * time.Minute))
	wb, _ := s.WebBridge("wb1")
	if wb.Sessions != 41 || !wb.LastSeen.Equal(later) {
		t.Errorf("wb1 = %d sessions at %s, want 41 at %s (the forged line must not pin it)", wb.Sessions, wb.LastSeen, later)
	}
	var clock HostClock
	for _, c := range s.Clocks {
		if c.Host == "wb1" {
			clock = c
		}
	}
	if clock.FutureRejected != 1 || clock.Offset != 0 {
		t.Errorf("wb1 clock = %+v, want 1 rejected and offset 0 (its latest line was on time)", clock)
	}
	// Within the tolerance a line is accepted, and its offset shown.
	ahead := later.Add(90 * time.Second)
	if got := m.Observe(wbLine("wb1", ahead, 42), later.Add(time.Second)); got != Applied {
		t.Errorf("a line 89s ahead: outcome %d, want Applied (tolerance 2m)", got)
	}
	for _, c := range m.Snapshot(later).Clocks {
		if c.Host == "wb1" && c.Offset != 89*time.Second {
			t.Errorf("wb1 offset = %s, want 89s", c.Offset)
		}
	}
}

// TestFreshnessCountsFromArrival: a bridge whose clock runs a minute ahead
// must not look fresh a minute longer than it is.
func TestFreshnessCountsFromArrival(t *testing.T) {
	m := mustModel(t, Options{})
	arrived := t0.Add(time.Minute)
	m.Observe(wbLine("wb1", arrived.Add(time.Minute), 40), arrived)
	now := arrived.Add(DefaultStaleAfter + 30*time.Second)
	s := m.Snapshot(now)
	if wb, _ := s.WebBridge("wb1"); !wb.Stale {
		t.Errorf("wb1 fresh %s after its only sample arrived (stale_after %s)", now.Sub(arrived), DefaultStaleAfter)
	}
}

// TestMarkRestartAllowsForAClockAhead: a restart is on leakwatch's clock,
// samples on the bridge's. A sample stamped within FutureTolerance after the
// restart may have been taken before it, so it proves nothing.
func TestMarkRestartAllowsForAClockAhead(t *testing.T) {
	m := mustModel(t, Options{})
	warmUp(m, "cb1")
	restart := t0.Add(2 * time.Minute)
	m.MarkRestart("wb1", restart) // unknown bridge: nothing happens
	observe(m, wbLine("wb1", t0.Add(time.Minute), 10))
	m.MarkRestart("wb1", restart)
	observe(m, wbLine("wb1", restart.Add(time.Minute), 80)) // may be a pre-restart sample
	observe(m, cbLine("cb1", t0.Add(5*time.Minute), 1, 1))
	s := m.Snapshot(t0.Add(5 * time.Minute))
	if wb, _ := s.WebBridge("wb1"); wb.LeakKnown {
		t.Errorf("wb1 leak proven (%d) from a sample within the tolerance of its restart", wb.LeakLowerBound)
	}
}

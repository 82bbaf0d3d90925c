package syslogrecv

import (
	"net/netip"
	"testing"
)

func TestCountersCapSources(t *testing.T) {
	c := newCounters()
	const n = MaxTrackedSources + 500
	for i := range n {
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		c.accept(src)
	}
	// A tracked source keeps its own counter after the table is full.
	first := netip.AddrFrom4([4]byte{10, 0, 0, 0})
	c.accept(first)

	s := c.snapshot()
	if len(s.Accepted) != MaxTrackedSources+1 {
		t.Errorf("%d keys in Accepted, want %d sources + %q", len(s.Accepted), MaxTrackedSources, OtherSources)
	}
	if got := s.Accepted[OtherSources]; got != 500 {
		t.Errorf("Accepted[%q] = %d, want 500", OtherSources, got)
	}
	if got := s.Accepted[first.String()]; got != 2 {
		t.Errorf("Accepted[%s] = %d, want 2", first, got)
	}
	var total uint64
	for _, v := range s.Accepted {
		total += v
	}
	if total != n+1 {
		t.Errorf("accepted total %d, want %d", total, n+1)
	}
}

func TestCountersSnapshotIsACopy(t *testing.T) {
	c := newCounters()
	c.reject(ReasonTooLarge)
	s := c.snapshot()
	s.Rejected[ReasonTooLarge] = 100
	if got := c.snapshot().Rejected[ReasonTooLarge]; got != 1 {
		t.Errorf("snapshot shares its map with the counters: got %d, want 1", got)
	}
}

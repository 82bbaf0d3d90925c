package syslogrecv

import (
	"net/netip"
	"sync"
)

// MaxTrackedSources caps the distinct source addresses counted one by one
// in Stats.Accepted; later sources are counted under OtherSources.
const MaxTrackedSources = 1024

// OtherSources is the Stats.Accepted key for sources beyond
// MaxTrackedSources.
const OtherSources = "other"

// Stats is a snapshot of a Receiver's counters. Counters only grow.
type Stats struct {
	// Accepted counts messages passed to the handler, keyed by source
	// address (IPv4 in dotted form, IPv6 unmapped) or OtherSources.
	Accepted map[string]uint64
	// Rejected counts rejected messages and connections by reason; see
	// the Reason constants.
	Rejected map[string]uint64
	// UDPBytes and TCPBytes count bytes read from the sockets, including
	// those of rejected messages.
	UDPBytes uint64
	TCPBytes uint64
	// Connections counts TCP connections served (allowed and under the
	// cap); OpenConnections is how many are open now.
	Connections     uint64
	OpenConnections int
}

// counters holds the live values behind Stats.
type counters struct {
	mu            sync.Mutex
	accepted      map[netip.Addr]uint64
	acceptedOther uint64
	rejected      map[string]uint64
	udpBytes      uint64
	tcpBytes      uint64
	connections   uint64
	open          int
}

func newCounters() *counters {
	return &counters{accepted: make(map[netip.Addr]uint64), rejected: make(map[string]uint64)}
}

func (c *counters) accept(src netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.accepted[src]; ok || len(c.accepted) < MaxTrackedSources {
		c.accepted[src]++
		return
	}
	c.acceptedOther++
}

func (c *counters) reject(reason string) {
	c.mu.Lock()
	c.rejected[reason]++
	c.mu.Unlock()
}

func (c *counters) addBytes(udp, tcp int) {
	c.mu.Lock()
	c.udpBytes += uint64(udp)
	c.tcpBytes += uint64(tcp)
	c.mu.Unlock()
}

func (c *counters) connOpened() {
	c.mu.Lock()
	c.connections++
	c.open++
	c.mu.Unlock()
}

func (c *counters) connClosed() {
	c.mu.Lock()
	c.open--
	c.mu.Unlock()
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{
		Accepted:        make(map[string]uint64, len(c.accepted)+1),
		Rejected:        make(map[string]uint64, len(c.rejected)),
		UDPBytes:        c.udpBytes,
		TCPBytes:        c.tcpBytes,
		Connections:     c.connections,
		OpenConnections: c.open,
	}
	for a, n := range c.accepted {
		s.Accepted[a.String()] = n
	}
	if c.acceptedOther > 0 {
		s.Accepted[OtherSources] = c.acceptedOther
	}
	for r, n := range c.rejected {
		s.Rejected[r] = n
	}
	return s
}

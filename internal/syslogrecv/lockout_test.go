package syslogrecv

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests in this file are about senders that try to hold the TCP
// connection table: silent connections, slowloris trickles and floods.
// Distinct sources are distinct loopback addresses (127.0.0.0/8 is all
// loopback on Linux), each bound as the local address of the dial.

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// dialFrom connects to the receiver's TCP port from the loopback address
// from. The connection is closed at cleanup.
func (h *rig) dialFrom(t *testing.T, from string) *net.TCPConn {
	t.Helper()
	c, err := h.tryDialFrom(from)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (h *rig) tryDialFrom(from string) (*net.TCPConn, error) {
	_, tcp := h.r.Addrs()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: testTimeout}
	c, err := d.Dial("tcp", tcp.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// waitSettled waits until the receiver has decided about n connections:
// served, or refused for one of the given reasons.
func (h *rig) waitSettled(t *testing.T, n uint64, reasons ...string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d connections settled", n), func() bool {
		s := h.r.Stats()
		got := s.Connections
		for _, r := range reasons {
			got += s.Rejected[r]
		}
		return got >= n
	})
}

// TestSilentConnectionsFromOneSourceDoNotLockOutOthers is the lockout of
// issue #8: sixteen silent connections from one allowed address used to
// fill a table of sixteen, and every other sender was refused for the
// whole idle timeout.
func TestSilentConnectionsFromOneSourceDoNotLockOutOthers(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4, MaxConnections: 16})
	for range 16 {
		h.dialFrom(t, "127.0.0.2")
	}
	h.waitSettled(t, 16, ReasonSourceConnectionLimit)

	write(t, h.dialFrom(t, "127.0.0.3"), "<14>legitimate\n")
	h.expect(t, "legitimate")
	s := h.r.Stats()
	if got := s.Rejected[ReasonSourceConnectionLimit]; got != 16-DefaultMaxConnectionsPerSource {
		t.Errorf("Rejected[%s] = %d, want %d", ReasonSourceConnectionLimit, got, 16-DefaultMaxConnectionsPerSource)
	}
}

func TestPerSourceConnectionCap(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4, MaxConnections: 4, MaxConnectionsPerSource: 2})
	c1, c2 := h.dialFrom(t, "127.0.0.2"), h.dialFrom(t, "127.0.0.2")
	waitFor(t, "2 open connections", func() bool { return h.r.Stats().OpenConnections == 2 })

	c3 := h.dialFrom(t, "127.0.0.2")
	expectClosedByServer(t, c3)
	h.waitRejected(t, ReasonSourceConnectionLimit, 1)

	write(t, c1, "<1>one\n")
	h.expect(t, "one")
	write(t, c2, "<1>two\n")
	h.expect(t, "two")

	// A closed connection frees its place for the same source.
	c1.Close()
	waitFor(t, "1 open connection", func() bool { return h.r.Stats().OpenConnections == 1 })
	write(t, h.dialFrom(t, "127.0.0.2"), "<1>four\n")
	h.expect(t, "four")
	if s := h.r.Stats(); s.Connections != 3 {
		t.Errorf("Connections = %d, want 3 served", s.Connections)
	}
}

func TestFullTableEvictsLongestIdle(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4, MaxConnections: 4, MaxConnectionsPerSource: 2})
	oldest := h.dialFrom(t, "127.0.0.2")
	waitFor(t, "1 open", func() bool { return h.r.Stats().OpenConnections == 1 })
	second := h.dialFrom(t, "127.0.0.2")
	busy1, busy2 := h.dialFrom(t, "127.0.0.3"), h.dialFrom(t, "127.0.0.3")
	waitFor(t, "4 open", func() bool { return h.r.Stats().OpenConnections == 4 })
	// The oldest connection delivers, so it is no longer the longest idle:
	// the second one is.
	write(t, oldest, "<1>alive\n")
	h.expect(t, "alive")
	write(t, busy1, "<1>b1\n")
	h.expect(t, "b1")
	write(t, busy2, "<1>b2\n")
	h.expect(t, "b2")

	newcomer := h.dialFrom(t, "127.0.0.4")
	expectClosedByServer(t, second)
	h.waitRejected(t, ReasonConnectionEvicted, 1)
	write(t, newcomer, "<1>newcomer\n")
	h.expect(t, "newcomer")
	write(t, oldest, "<1>still here\n")
	h.expect(t, "still here")
	if got := strings.Count(h.logs.String(), "reason=connection_evicted"); got != 1 {
		t.Errorf("%d log lines about the eviction, want 1", got)
	}
}

// TestLongestIdleOrder checks the eviction choice without a network:
// the connection whose last frame is oldest, the earliest accepted among
// equals.
func TestLongestIdleOrder(t *testing.T) {
	mk := func(seq uint64, at int64) *connState {
		c := &connState{conn: new(net.TCPConn), seq: seq}
		c.lastFrame.Store(at)
		return c
	}
	a, b, c := mk(1, 300), mk(2, 100), mk(3, 100)
	conns := map[*net.TCPConn]*connState{a.conn: a, b.conn: b, c.conn: c}
	for range 20 { // map order varies
		if got := longestIdle(conns); got != b {
			t.Fatalf("longestIdle = seq %d, want seq 2", got.seq)
		}
	}
}

// trickleUntilClosed writes one byte every 10ms, which the idle timeout
// alone would allow forever, until the server closes c (5s at most).
func trickleUntilClosed(t *testing.T, c *net.TCPConn) {
	t.Helper()
	for range 500 {
		if _, err := c.Write([]byte("x")); err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	expectClosedByServer(t, c)
}

func TestMessageTimeoutClosesATrickle(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4,
		IdleTimeout: time.Minute, MessageTimeout: 100 * time.Millisecond})
	c := h.dialTCP(t)
	write(t, c, "<14>complete\n", "<14>never")
	h.expect(t, "complete")
	trickleUntilClosed(t, c)
	h.waitRejected(t, ReasonMessageTimeout, 1)
	h.expectNone(t)
}

func TestIdleTimeoutIgnoresBytesOfAnUnfinishedMessage(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4,
		IdleTimeout: 100 * time.Millisecond, MessageTimeout: time.Minute})
	c := h.dialTCP(t)
	write(t, c, "<14>never")
	trickleUntilClosed(t, c)
	h.waitRejected(t, ReasonMessageTimeout, 1)
}

// TestLegitimateSenderGetsThroughSlowlorisAndFlood runs three senders at
// once: an allowed address keeping as many connections as it can open
// trickling bytes of never-finished messages (slowloris), an address not
// allowed opening connections and writing as fast as it can, and a
// legitimate sender writing one message every 10ms. Every legitimate
// message must arrive, in order. All loops are bounded and stop with the
// test.
func TestLegitimateSenderGetsThroughSlowlorisAndFlood(t *testing.T) {
	const (
		slow, flood, legit = "127.0.0.2", "127.0.0.9", "127.0.0.3"
		legitMessages      = 100
	)
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: prefixes(slow+"/32", legit+"/32"),
		MaxConnections: 8, MaxConnectionsPerSource: 4, IdleTimeout: 2 * time.Second, MessageTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()

	// Slowloris: 12 workers for 4 places, each reconnecting when closed.
	for range 12 {
		wg.Go(func() {
			for round := 0; round < 100 && ctx.Err() == nil; round++ {
				c, err := h.tryDialFrom(slow)
				if err != nil {
					continue
				}
				c.Write([]byte("<14>slow"))
				for i := 0; i < 1000 && ctx.Err() == nil; i++ {
					if _, err := c.Write([]byte("s")); err != nil {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				c.Close()
			}
		})
	}
	// Flood from an address not allowed.
	wg.Go(func() {
		payload := []byte("<14>Feb 23 09:02:21 user.info cms1 webbridge: INFO : [DEBUGGING] Stats 149, c:1, d:0\n")
		for i := 0; i < 3000 && ctx.Err() == nil; i++ {
			c, err := h.tryDialFrom(flood)
			if err != nil {
				continue
			}
			c.Write(payload)
			c.Close()
		}
	})
	waitFor(t, "the attack under way", func() bool {
		s := h.r.Stats()
		return s.Rejected[ReasonSourceNotAllowed] > 0 && s.Rejected[ReasonSourceConnectionLimit] > 0
	})

	c := h.dialFrom(t, legit)
	var want []string
	for i := range legitMessages {
		m := fmt.Sprintf("legit %d", i)
		want = append(want, m)
		write(t, c, "<14>"+m+"\n")
		time.Sleep(10 * time.Millisecond)
	}
	got := h.expect(t, want...)
	for _, m := range got {
		if m.Source != netip.MustParseAddr(legit) {
			t.Fatalf("message %q from %v", m.Data, m.Source)
		}
	}
	cancel()
	wg.Wait()

	s := h.r.Stats()
	t.Logf("rejected during the attack: %v", s.Rejected)
	for _, reason := range []string{ReasonSourceNotAllowed, ReasonSourceConnectionLimit, ReasonMessageTimeout} {
		if s.Rejected[reason] == 0 {
			t.Errorf("Rejected[%s] = 0, want the attack counted", reason)
		}
	}
	// Logged at most once a minute per source, whatever the volume.
	if n := strings.Count(h.logs.String(), "syslog input rejected"); n > 2 {
		t.Errorf("%d rejection log lines, want at most one per attacking source", n)
	}
}

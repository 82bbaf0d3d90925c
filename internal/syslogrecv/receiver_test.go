package syslogrecv

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

const testTimeout = 5 * time.Second

var loopback4 = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// rig runs a Receiver on loopback and collects copies of its messages.
type rig struct {
	r    *Receiver
	msgs chan Message
	logs *harness.Buffer
	stop func() error
}

// start creates, listens and runs a receiver; it is stopped at cleanup.
func start(t *testing.T, cfg Config) *rig {
	t.Helper()
	logs := &harness.Buffer{}
	r, err := New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Listen(); err != nil {
		t.Fatal(err)
	}
	h := &rig{r: r, msgs: make(chan Message, 10000), logs: logs}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- r.Run(ctx, func(m Message) {
			m.Data = bytes.Clone(m.Data)
			select {
			case h.msgs <- m:
			default:
				t.Error("test message buffer full")
			}
		})
	}()
	var once sync.Once
	var stopErr error
	h.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(testTimeout):
				stopErr = errors.New("Run did not return after cancel")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := h.stop(); err != nil {
			t.Error(err)
		}
	})
	return h
}

// expect waits for messages with exactly these data, in order.
func (h *rig) expect(t *testing.T, want ...string) []Message {
	t.Helper()
	var got []Message
	for range want {
		select {
		case m := <-h.msgs:
			got = append(got, m)
		case <-time.After(testTimeout):
			t.Fatalf("got %d of %d messages: %v", len(got), len(want), dataOf(got))
		}
	}
	if d := dataOf(got); !slices.Equal(d, want) {
		t.Fatalf("messages:\ngot  %q\nwant %q", d, want)
	}
	return got
}

// expectNone checks that no message arrived.
func (h *rig) expectNone(t *testing.T) {
	t.Helper()
	select {
	case m := <-h.msgs:
		t.Fatalf("unexpected message %q from %v", m.Data, m.Source)
	default:
	}
}

func dataOf(ms []Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Data))
	}
	return out
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *rig) waitRejected(t *testing.T, reason string, n uint64) {
	t.Helper()
	waitFor(t, reason, func() bool { return h.r.Stats().Rejected[reason] >= n })
	if got := h.r.Stats().Rejected[reason]; got != n {
		t.Fatalf("Rejected[%s] = %d, want %d", reason, got, n)
	}
}

func (h *rig) dialUDP(t *testing.T) net.Conn {
	t.Helper()
	udp, _ := h.r.Addrs()
	c, err := net.Dial("udp", udp.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (h *rig) dialTCP(t *testing.T) *net.TCPConn {
	t.Helper()
	_, tcp := h.r.Addrs()
	c, err := net.Dial("tcp", tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

func write(t *testing.T, c net.Conn, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if _, err := c.Write([]byte(s)); err != nil {
			t.Fatalf("writing %q: %v", s, err)
		}
	}
}

// expectClosedByServer waits for the server to close c: a read returns EOF
// or a reset, not a timeout.
func expectClosedByServer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(testTimeout))
	_, err := c.Read(make([]byte, 1))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection not closed by the server: read error %v", err)
	}
}

func TestUDPOneDatagramOneMessage(t *testing.T) {
	h := start(t, Config{UDPAddress: "127.0.0.1:0", AllowedSources: loopback4})
	c := h.dialUDP(t)
	in := []string{
		"<14>Feb 23 09:02:21.594 user.info CMS host:server: INFO : guest login\n",
		"<14>Mar 18 14:54:52.698 webbridge: INFO : [DEBUGGING] Stats 149, c:3477, d:3170\r\n",
		"<11>1 2003-10-11T22:14:15.003Z host app - - - msg",
		"Nov  6 09:51:50 user.info CMS1 host:server:  INFO : no PRI\x00",
		"<13>two\nlines",
	}
	write(t, c, in...)
	got := h.expect(t,
		"Feb 23 09:02:21.594 user.info CMS host:server: INFO : guest login",
		"Mar 18 14:54:52.698 webbridge: INFO : [DEBUGGING] Stats 149, c:3477, d:3170",
		"1 2003-10-11T22:14:15.003Z host app - - - msg",
		"Nov  6 09:51:50 user.info CMS1 host:server:  INFO : no PRI",
		"two\nlines",
	)
	for _, m := range got {
		if m.Source != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("Source = %v, want 127.0.0.1 (unmapped)", m.Source)
		}
	}
	s := h.r.Stats()
	var bytesSent int
	for _, d := range in {
		bytesSent += len(d)
	}
	if s.Accepted["127.0.0.1"] != uint64(len(in)) || s.UDPBytes != uint64(bytesSent) {
		t.Errorf("Stats: Accepted %v, UDPBytes %d; want %d from 127.0.0.1, %d bytes", s.Accepted, s.UDPBytes, len(in), bytesSent)
	}
}

func TestUDPTooLarge(t *testing.T) {
	h := start(t, Config{UDPAddress: "127.0.0.1:0", AllowedSources: loopback4, MaxMessageSize: 64})
	c := h.dialUDP(t)
	atMax := "<1>" + strings.Repeat("a", 61)
	write(t, c, atMax+"y", strings.Repeat("b", 5000), atMax+"\r\n", "<1>next")
	h.expect(t, strings.Repeat("a", 61), "next")
	h.waitRejected(t, ReasonTooLarge, 2)
}

func TestUDPBadPRIAndEmpty(t *testing.T) {
	h := start(t, Config{UDPAddress: "127.0.0.1:0", AllowedSources: loopback4})
	c := h.dialUDP(t)
	write(t, c, "<192>x", "<1x>y", "<34>", "<34>\n", "<1>ok")
	h.expect(t, "ok")
	h.waitRejected(t, ReasonBadPRI, 2)
	h.waitRejected(t, ReasonEmpty, 2)
}

func TestUDPSourceNotAllowed(t *testing.T) {
	h := start(t, Config{UDPAddress: "127.0.0.1:0", AllowedSources: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	c := h.dialUDP(t)
	for range 50 {
		write(t, c, "<34>flood")
	}
	h.waitRejected(t, ReasonSourceNotAllowed, 50)
	h.expectNone(t)
	if s := h.r.Stats(); len(s.Accepted) != 0 {
		t.Errorf("Accepted = %v, want nothing", s.Accepted)
	}
	if n := strings.Count(h.logs.String(), "syslog input rejected"); n != 1 {
		t.Errorf("%d rejection log lines for a 50-message flood, want 1", n)
	}
}

func TestEmptyAllowlistRejectsEverything(t *testing.T) {
	h := start(t, Config{UDPAddress: "127.0.0.1:0", TCPAddress: "127.0.0.1:0"})
	write(t, h.dialUDP(t), "<34>x")
	tc := h.dialTCP(t)
	expectClosedByServer(t, tc)
	h.waitRejected(t, ReasonSourceNotAllowed, 2)
	h.expectNone(t)
	if n := strings.Count(h.logs.String(), "no allowed sources"); n != 1 {
		t.Errorf("%d warnings about the empty allowlist, want 1", n)
	}
}

func TestTCPNewlineFraming(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4})
	c := h.dialTCP(t)
	write(t, c, "<34>lf\n<34>crlf\r\n<34>nul\x00\n\n<34>last\n")
	got := h.expect(t, "lf", "crlf", "nul", "last")
	if !got[0].Source.Is4() {
		t.Errorf("Source = %v, want an unmapped IPv4 address", got[0].Source)
	}
}

func TestTCPOctetCounting(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4})
	c := h.dialTCP(t)
	write(t, c, "8 <34>abcd11 <34>line\nin7 <34>end\n")
	h.expect(t, "abcd", "line\nin", "end")
}

func TestTCPMixedFraming(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4})
	c := h.dialTCP(t)
	write(t, c, "8 <34>abcd<34>newline\n2024-03-06T09:34:45.395 local0.info cms01 cli: x\n7 <34>end")
	h.expect(t, "abcd", "newline", "2024-03-06T09:34:45.395 local0.info cms01 cli: x", "end")
}

func TestTCPSplitAcrossWrites(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4})
	c := h.dialTCP(t)
	stream := "<34>first line\r\n15 <34>octet frame<34>third\n"
	for i := range len(stream) {
		write(t, c, stream[i:i+1])
	}
	h.expect(t, "first line", "octet frame", "third")
}

func TestTCPTooLargeKeepsConnection(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4, MaxMessageSize: 64})
	c := h.dialTCP(t)
	big := strings.Repeat("x", 10000)
	write(t, c, "<1>"+big+"\n<1>after line\n")
	write(t, c, "10003 <1>"+big+"14 <1>after frame")
	h.expect(t, "after line", "after frame")
	h.waitRejected(t, ReasonTooLarge, 2)
	if s := h.r.Stats(); s.OpenConnections != 1 || s.TCPBytes == 0 {
		t.Errorf("OpenConnections %d, TCPBytes %d; want the connection kept open", s.OpenConnections, s.TCPBytes)
	}
}

func TestTCPEndOfStream(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4})
	c1 := h.dialTCP(t)
	write(t, c1, "<1>a\n<1>unterminated")
	c1.CloseWrite()
	h.expect(t, "a", "unterminated")
	c2 := h.dialTCP(t)
	write(t, c2, "50 <1>truncated")
	c2.CloseWrite()
	h.waitRejected(t, ReasonBadFrame, 1)
	waitFor(t, "connections closed", func() bool { return h.r.Stats().OpenConnections == 0 })
	h.expectNone(t)
}

func TestTCPSourceNotAllowed(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	c := h.dialTCP(t)
	c.Write([]byte("<34>refused\n")) // may fail if the server closed first
	expectClosedByServer(t, c)
	h.waitRejected(t, ReasonSourceNotAllowed, 1)
	h.expectNone(t)
	if s := h.r.Stats(); s.Connections != 0 {
		t.Errorf("Connections = %d, want a refused connection not served", s.Connections)
	}
}

func TestIPv6Loopback(t *testing.T) {
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("IPv6 loopback unavailable: %v", err)
	} else {
		ln.Close()
	}
	h := start(t, Config{
		UDPAddress:     "[::1]:0",
		TCPAddress:     "[::1]:0",
		AllowedSources: []netip.Prefix{netip.MustParsePrefix("::1/128")},
	})
	write(t, h.dialUDP(t), "<34>over udp6")
	got := h.expect(t, "over udp6")
	write(t, h.dialTCP(t), "<34>over tcp6\n")
	got = append(got, h.expect(t, "over tcp6")...)
	for _, m := range got {
		if m.Source != netip.IPv6Loopback() {
			t.Errorf("Source = %v, want ::1", m.Source)
		}
	}
	if n := h.r.Stats().Accepted["::1"]; n != 2 {
		t.Errorf("Accepted[::1] = %d, want 2", n)
	}
}

func TestIPv4OnlyAllowlistRejectsIPv6Loopback(t *testing.T) {
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("IPv6 loopback unavailable: %v", err)
	} else {
		ln.Close()
	}
	h := start(t, Config{UDPAddress: "[::1]:0", AllowedSources: loopback4})
	write(t, h.dialUDP(t), "<34>x")
	h.waitRejected(t, ReasonSourceNotAllowed, 1)
	h.expectNone(t)
}

func TestAllowedNormalizesSources(t *testing.T) {
	r, err := New(Config{TCPAddress: "127.0.0.1:0", AllowedSources: []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("fe80::/10"),
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		want bool
	}{
		{"192.0.2.7", true},
		{"::ffff:192.0.2.7", true}, // IPv4-mapped, as from a dual-stack socket
		{"198.51.100.1", false},
		{"::ffff:198.51.100.1", false},
		{"fe80::1%eth0", true}, // a zoned address never matches a prefix unless the zone is dropped
		{"2001:db8::1", false},
	}
	for _, tt := range tests {
		if got := r.allowed(normalizeAddr(netip.MustParseAddr(tt.addr))); got != tt.want {
			t.Errorf("allowed(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestIdleTimeout(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", AllowedSources: loopback4, IdleTimeout: 50 * time.Millisecond})
	c := h.dialTCP(t)
	write(t, c, "<1>before idle\n")
	h.expect(t, "before idle")
	expectClosedByServer(t, c)
	waitFor(t, "connection closed", func() bool { return h.r.Stats().OpenConnections == 0 })
}

func TestShutdownWithOpenConnections(t *testing.T) {
	h := start(t, Config{UDPAddress: "127.0.0.1:0", TCPAddress: "127.0.0.1:0", AllowedSources: loopback4})
	var conns []*net.TCPConn
	for range 3 {
		c := h.dialTCP(t)
		write(t, c, "<1>partial line without end")
		conns = append(conns, c)
	}
	waitFor(t, "3 open connections", func() bool { return h.r.Stats().OpenConnections == 3 })
	udp, tcp := h.r.Addrs()

	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		expectClosedByServer(t, c)
	}
	if s := h.r.Stats(); s.OpenConnections != 0 {
		t.Errorf("OpenConnections = %d after shutdown", s.OpenConnections)
	}
	if c, err := net.Dial("tcp", tcp.String()); err == nil {
		c.Close()
		t.Error("TCP listener still accepting after shutdown")
	}
	// The UDP port can be bound again only if the socket was closed.
	pc, err := net.ListenPacket("udp", udp.String())
	if err != nil {
		t.Errorf("UDP socket not closed after shutdown: %v", err)
	} else {
		pc.Close()
	}
	h.expectNone(t)
}

func TestHandlerCallsAreSerialized(t *testing.T) {
	r, err := New(Config{UDPAddress: "127.0.0.1:0", TCPAddress: "127.0.0.1:0", AllowedSources: loopback4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var inside, overlaps, calls atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		// Run without Listen opens the sockets itself.
		done <- r.Run(ctx, func(Message) {
			if inside.Add(1) > 1 {
				overlaps.Add(1)
			}
			time.Sleep(50 * time.Microsecond) // widen the window for an overlap
			inside.Add(-1)
			calls.Add(1)
		})
	}()
	waitFor(t, "listening", func() bool { u, tc := r.Addrs(); return u != nil && tc != nil })
	udp, tcp := r.Addrs()

	const perSender, senders = 200, 4
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			c, err := net.Dial("tcp", tcp.String())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.Write(bytes.Repeat([]byte("<1>m\n"), perSender))
		})
	}
	wg.Go(func() {
		c, err := net.Dial("udp", udp.String())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		for range 20 {
			c.Write([]byte("<1>u"))
		}
	})
	wg.Wait()
	waitFor(t, "TCP messages", func() bool { return calls.Load() >= perSender*senders })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := overlaps.Load(); n != 0 {
		t.Errorf("handler entered %d times while another call was running", n)
	}
}

func TestListenAddressInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	r, err := New(Config{UDPAddress: "127.0.0.1:0", TCPAddress: busy.Addr().String(), AllowedSources: loopback4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = r.Listen()
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Fatalf("Listen on a busy port: %v, want EADDRINUSE naming the address", err)
	}
	if u, tc := r.Addrs(); u != nil || tc != nil {
		t.Errorf("Addrs after a failed Listen = %v, %v; want nil, nil", u, tc)
	}
}

func TestRunTwice(t *testing.T) {
	r, err := New(Config{UDPAddress: "127.0.0.1:0", AllowedSources: loopback4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Whichever call comes second must fail at once; the ctx of each is
	// already done, so the one that wins returns nil after shutting down.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- r.Run(ctx, func(Message) {}) }()
	}
	var failed int
	for range 2 {
		select {
		case err := <-errs:
			if err != nil {
				failed++
			}
		case <-time.After(testTimeout):
			t.Fatal("Run did not return")
		}
	}
	if failed != 1 {
		t.Errorf("%d of two Run calls failed, want exactly 1", failed)
	}
	if err := r.Listen(); err == nil {
		t.Error("Listen after Run succeeded")
	}
}

func TestRunNilHandler(t *testing.T) {
	r, err := New(Config{UDPAddress: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background(), nil); err == nil {
		t.Error("Run with a nil handler succeeded")
	}
}

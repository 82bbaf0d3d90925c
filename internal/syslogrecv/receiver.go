package syslogrecv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// rejectLogInterval is how often at most one rejection per source is
	// logged.
	rejectLogInterval = time.Minute
	// minReadBuffer and maxReadBuffer bound a TCP connection's read buffer.
	minReadBuffer = 4 << 10
	maxReadBuffer = 64 << 10
	// udpSlack lets a datagram of MaxMessageSize carry a CR, LF and NUL
	// trailer, and one byte more shows that the kernel truncated it.
	udpSlack = 3
)

// Message is one accepted syslog message.
type Message struct {
	// Source is the sender's address, IPv4-mapped IPv6 unmapped.
	Source netip.Addr
	// Data is the message without its <PRI> prefix and trailing CR/LF/NUL.
	// It is valid only during the handler call; copy it to keep it.
	Data []byte
}

// Receiver receives syslog over UDP and TCP from allowed sources and hands
// each message to a handler. Create it with New, open its sockets with
// Listen, then serve with Run.
type Receiver struct {
	cfg    Config
	logger *slog.Logger
	stats  *counters

	limMu   sync.Mutex
	limiter *logLimiter

	// handleMu serializes handler calls.
	handleMu sync.Mutex

	// hosts binds hostnames to source networks; read-only.
	hosts hostBindings

	mu      sync.Mutex
	udp     *net.UDPConn
	tcp     *net.TCPListener
	udpAddr net.Addr
	tcpAddr net.Addr
	conns   map[*net.TCPConn]*connState
	// perSource counts the connections in conns by source address.
	perSource map[netip.Addr]int
	seq       uint64
	closing   bool
	started   bool
}

// connState is what the connection table knows of one TCP connection.
type connState struct {
	conn *net.TCPConn
	src  netip.Addr
	seq  uint64 // order of acceptance, to break ties between equally idle ones
	// lastFrame is when the connection last completed a frame (or was
	// accepted), in Unix nanoseconds: the measure of idleness by which
	// the longest-idle connection is evicted.
	lastFrame atomic.Int64
	// evicted is set before the table closes the connection to make room.
	evicted atomic.Bool
}

// New checks cfg, applies defaults and returns a Receiver that has not
// opened any socket yet. A nil logger discards logs.
func New(cfg Config, logger *slog.Logger) (*Receiver, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.AllowedSources) == 0 {
		logger.Warn("syslog receiver has no allowed sources: every message will be rejected")
	}
	return &Receiver{
		cfg:       cfg,
		logger:    logger,
		stats:     newCounters(),
		limiter:   newLogLimiter(rejectLogInterval, MaxTrackedSources),
		hosts:     newHostBindings(cfg.Sources),
		conns:     make(map[*net.TCPConn]*connState),
		perSource: make(map[netip.Addr]int),
	}, nil
}

// Listen opens the configured sockets, so that errors such as "address
// already in use" surface before Run. It may be called once.
func (r *Receiver) Listen() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.udp != nil || r.tcp != nil || r.closing {
		return errors.New("syslog receiver: already listening")
	}
	if a := r.cfg.UDPAddress; a != "" {
		pc, err := net.ListenPacket("udp", a)
		if err != nil {
			return fmt.Errorf("syslog receiver: listening on UDP %s: %w", a, err)
		}
		r.udp = pc.(*net.UDPConn)
		r.udpAddr = r.udp.LocalAddr()
	}
	if a := r.cfg.TCPAddress; a != "" {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			if r.udp != nil {
				r.udp.Close()
				r.udp, r.udpAddr = nil, nil
			}
			return fmt.Errorf("syslog receiver: listening on TCP %s: %w", a, err)
		}
		r.tcp = ln.(*net.TCPListener)
		r.tcpAddr = r.tcp.Addr()
	}
	r.logger.Info("syslog receiver listening", "udp", r.udpAddr, "tcp", r.tcpAddr)
	return nil
}

// Addrs returns the bound UDP and TCP addresses; each is nil if that
// transport is off or Listen has not succeeded.
func (r *Receiver) Addrs() (udp, tcp net.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.udpAddr, r.tcpAddr
}

// Stats returns a snapshot of the counters.
func (r *Receiver) Stats() Stats {
	return r.stats.snapshot()
}

// Run serves until ctx is done, then closes the sockets and every open
// connection and returns nil once all its goroutines have finished. It
// calls Listen first if Listen has not been called, and may be called once.
//
// handle is called for each accepted message, never concurrently with
// itself (calls are serialized by a lock), so it need not be safe for
// concurrent use. It should return promptly: while it runs, TCP senders are
// held back and UDP datagrams queue in the kernel, which drops them when
// its buffer fills; and Run does not return before it does.
func (r *Receiver) Run(ctx context.Context, handle func(Message)) error {
	if handle == nil {
		return errors.New("syslog receiver: nil handler")
	}
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return errors.New("syslog receiver: Run called more than once")
	}
	r.started = true
	listening := r.udp != nil || r.tcp != nil
	r.mu.Unlock()
	if !listening {
		if err := r.Listen(); err != nil {
			return err
		}
	}
	r.mu.Lock()
	udp, tcp := r.udp, r.tcp
	r.mu.Unlock()

	var wg sync.WaitGroup
	if udp != nil {
		wg.Go(func() { r.serveUDP(ctx, udp, handle) })
	}
	if tcp != nil {
		wg.Go(func() { r.acceptTCP(ctx, tcp, &wg, handle) })
	}
	wg.Go(func() { r.flushRejectLogEvery(ctx, rejectLogInterval) })

	<-ctx.Done()
	r.shutdown()
	wg.Wait()
	r.logger.Info("syslog receiver stopped")
	return nil
}

// shutdown closes the sockets and open connections, which ends every
// reader goroutine.
func (r *Receiver) shutdown() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closing = true
	if r.udp != nil {
		r.udp.Close()
	}
	if r.tcp != nil {
		r.tcp.Close()
	}
	for c := range r.conns {
		c.Close()
	}
}

func (r *Receiver) isClosing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closing
}

// allowed reports whether src, already normalized, is in AllowedSources
// or Sources.
func (r *Receiver) allowed(src netip.Addr) bool {
	for _, p := range r.cfg.AllowedSources {
		if p.Contains(src) {
			return true
		}
	}
	for _, s := range r.cfg.Sources {
		if s.Prefix.Contains(src) {
			return true
		}
	}
	return false
}

// HostAllowed reports whether a message from src may report for host, by
// the hostname bindings of Config.Sources; without any it always does. A
// refusal is counted and logged as ReasonHostNotAllowed. The receiver
// does not parse hostnames itself: the caller, which parses the message,
// asks. It is safe for concurrent use and does not allocate for
// lower-case hostnames.
func (r *Receiver) HostAllowed(src netip.Addr, host []byte) bool {
	if r.hosts.allows(src, host) {
		return true
	}
	r.reject(src, ReasonHostNotAllowed, "", "host", string(host))
	return false
}

func (r *Receiver) serveUDP(ctx context.Context, conn *net.UDPConn, handle func(Message)) {
	buf := make([]byte, r.cfg.MaxMessageSize+udpSlack)
	var bo backoff
	for {
		n, ap, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			r.logger.Warn("syslog receiver: reading UDP", "err", err)
			if !bo.wait(ctx) {
				return
			}
			continue
		}
		bo.reset()
		r.stats.addBytes(n, 0)
		src := normalizeAddr(ap.Addr())
		if !r.allowed(src) {
			r.reject(src, ReasonSourceNotAllowed, "udp")
			continue
		}
		data := trimTrailer(buf[:n])
		if n == len(buf) || len(data) > r.cfg.MaxMessageSize {
			r.reject(src, ReasonTooLarge, "udp")
			continue
		}
		r.deliver(src, data, "udp", handle)
	}
}

// acceptTCP accepts connections until the listener is closed, serving each
// in a goroutine added to wg.
func (r *Receiver) acceptTCP(ctx context.Context, ln *net.TCPListener, wg *sync.WaitGroup, handle func(Message)) {
	var bo backoff
	for {
		conn, err := ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			r.logger.Warn("syslog receiver: accepting TCP connection", "err", err)
			if !bo.wait(ctx) {
				return
			}
			continue
		}
		bo.reset()
		src := normalizeAddr(conn.RemoteAddr().(*net.TCPAddr).AddrPort().Addr())
		if !r.allowed(src) {
			conn.Close()
			r.reject(src, ReasonSourceNotAllowed, "tcp")
			continue
		}
		st, victim, res := r.track(conn, src, time.Now())
		if victim != nil {
			r.reject(victim.src, ReasonConnectionEvicted, "tcp")
		}
		switch res {
		case trackClosing:
			conn.Close()
			return
		case trackSourceFull:
			conn.Close()
			r.reject(src, ReasonSourceConnectionLimit, "tcp")
			continue
		}
		wg.Go(func() { r.serveConn(st, handle) })
	}
}

type trackResult uint8

const (
	tracked trackResult = iota
	trackSourceFull
	trackClosing
)

// track registers conn from src so that shutdown can close it, unless the
// receiver is closing or src has MaxConnectionsPerSource open. If the
// table holds MaxConnections, the longest-idle connection is closed and
// returned as victim to make room: a silent or trickling connection cannot
// keep a sender that delivers out, while the per-source cap keeps one
// address from evicting everybody else.
func (r *Receiver) track(conn *net.TCPConn, src netip.Addr, now time.Time) (st *connState, victim *connState, res trackResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closing:
		return nil, nil, trackClosing
	case r.perSource[src] >= r.cfg.MaxConnectionsPerSource:
		return nil, nil, trackSourceFull
	}
	if len(r.conns) >= r.cfg.MaxConnections {
		victim = longestIdle(r.conns)
		victim.evicted.Store(true)
		r.forgetLocked(victim)
		victim.conn.Close()
	}
	r.seq++
	st = &connState{conn: conn, src: src, seq: r.seq}
	st.lastFrame.Store(now.UnixNano())
	r.conns[conn] = st
	r.perSource[src]++
	r.stats.connOpened()
	return st, victim, tracked
}

// longestIdle returns the connection that completed a frame longest ago,
// the earliest accepted among equals. conns must not be empty.
func longestIdle(conns map[*net.TCPConn]*connState) *connState {
	var best *connState
	var bestAt int64
	for _, c := range conns {
		at := c.lastFrame.Load()
		if best == nil || at < bestAt || (at == bestAt && c.seq < best.seq) {
			best, bestAt = c, at
		}
	}
	return best
}

// forgetLocked removes st from the table, if it is still there.
func (r *Receiver) forgetLocked(st *connState) {
	if _, ok := r.conns[st.conn]; !ok {
		return
	}
	delete(r.conns, st.conn)
	if r.perSource[st.src]--; r.perSource[st.src] <= 0 {
		delete(r.perSource, st.src)
	}
}

func (r *Receiver) untrack(st *connState) {
	r.mu.Lock()
	r.forgetLocked(st)
	r.mu.Unlock()
	st.conn.Close()
	r.stats.connClosed()
}

// serveConn reads one TCP connection until EOF, error, idle or message
// timeout, eviction or shutdown. Its memory is the read buffer and the
// framer's, both bounded.
//
// Two deadlines apply: IdleTimeout after the last completed frame (bytes
// of an unfinished one do not count, so a trickle cannot keep a silent
// connection alive), and MessageTimeout after the first byte of the frame
// in progress.
func (r *Receiver) serveConn(st *connState, handle func(Message)) {
	defer r.untrack(st)
	conn, src := st.conn, st.src
	log := r.logger.With("source", src, "remote", conn.RemoteAddr().String())
	log.Debug("syslog TCP connection opened")
	f := newFramer(r.cfg.MaxMessageSize)
	frames := 0
	var readAt time.Time
	emit := func(fr frame) {
		if frames++; frames == 1 {
			// Before the frame is handled, so that whoever sees the
			// message also sees the connection active.
			st.lastFrame.Store(readAt.UnixNano())
		}
		if fr.reject != "" {
			r.reject(src, fr.reject, "tcp")
			return
		}
		r.deliver(src, fr.data, "tcp", handle)
	}
	buf := make([]byte, min(max(r.cfg.MaxMessageSize, minReadBuffer), maxReadBuffer))
	lastFrame := time.Unix(0, st.lastFrame.Load())
	var frameStart time.Time // zero between frames
	for {
		deadline := lastFrame.Add(r.cfg.IdleTimeout)
		if !frameStart.IsZero() {
			deadline = minTime(deadline, frameStart.Add(r.cfg.MessageTimeout))
		}
		if err := conn.SetReadDeadline(deadline); err != nil {
			log.Debug("syslog TCP connection closed", "err", err)
			return
		}
		n, err := conn.Read(buf)
		readAt = time.Now()
		if n > 0 {
			r.stats.addBytes(0, n)
			frames = 0
			f.feed(buf[:n], emit)
			if frames > 0 {
				lastFrame = readAt
				frameStart = time.Time{}
			}
			if f.inFrame() && frameStart.IsZero() {
				frameStart = readAt
			}
		}
		if err == nil {
			continue
		}
		switch {
		case errors.Is(err, io.EOF):
			f.close(emit)
			log.Debug("syslog TCP connection closed by peer")
		case st.evicted.Load():
			log.Debug("syslog TCP connection evicted to make room", "max_connections", r.cfg.MaxConnections)
		case errors.Is(err, os.ErrDeadlineExceeded) && f.inFrame():
			// Counted and logged by reject, rate-limited per source.
			r.reject(src, ReasonMessageTimeout, "tcp")
			log.Debug("syslog TCP message not finished in time, closing", "message_timeout", r.cfg.MessageTimeout,
				"idle_timeout", r.cfg.IdleTimeout, "partial_bytes", f.buffered())
		case errors.Is(err, os.ErrDeadlineExceeded):
			log.Debug("syslog TCP connection idle, closing", "idle_timeout", r.cfg.IdleTimeout)
		case r.isClosing():
			log.Debug("syslog TCP connection closed at shutdown")
		default:
			log.Info("syslog TCP connection failed", "err", err)
		}
		return
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// deliver strips the PRI from a framed message and hands it to handle.
func (r *Receiver) deliver(src netip.Addr, raw []byte, transport string, handle func(Message)) {
	data, ok := stripPRI(raw)
	switch {
	case !ok:
		r.reject(src, ReasonBadPRI, transport)
		return
	case len(data) == 0:
		r.reject(src, ReasonEmpty, transport)
		return
	}
	r.stats.accept(src)
	r.handleMu.Lock()
	defer r.handleMu.Unlock()
	handle(Message{Source: src, Data: data})
}

// reject counts a rejection and logs it unless src already had a line in
// the last rejectLogInterval. attrs are added to the log line.
func (r *Receiver) reject(src netip.Addr, reason, transport string, attrs ...any) {
	r.stats.reject(reason)
	r.limMu.Lock()
	ok, key, suppressed := r.limiter.allow(src, reason, time.Now())
	r.limMu.Unlock()
	if ok {
		args := []any{"source", sourceLabel(key), "reason", reason, "suppressed_since_last", suppressed}
		if transport != "" {
			args = append(args, "transport", transport)
		}
		r.logger.Warn("syslog input rejected", append(args, attrs...)...)
	}
}

// flushRejectLogEvery logs, every interval until ctx is done, how many
// rejections were suppressed per source.
func (r *Receiver) flushRejectLogEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.limMu.Lock()
			sums := r.limiter.flush(now)
			r.limMu.Unlock()
			for _, s := range sums {
				r.logger.Warn("syslog input rejections suppressed", "source", sourceLabel(s.key),
					"count", s.suppressed, "last_reason", s.reason, "interval", interval)
			}
		}
	}
}

func sourceLabel(a netip.Addr) string {
	if !a.IsValid() {
		return OtherSources
	}
	return a.String()
}

// backoff spaces out retries after socket errors such as EMFILE, so a
// persistent error cannot spin a core.
type backoff struct{ d time.Duration }

func (b *backoff) reset() { b.d = 0 }

// wait sleeps for the next backoff step; it returns false if ctx ended it.
func (b *backoff) wait(ctx context.Context) bool {
	b.d = min(max(2*b.d, 5*time.Millisecond), time.Second)
	t := time.NewTimer(b.d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

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

	mu      sync.Mutex
	udp     *net.UDPConn
	tcp     *net.TCPListener
	udpAddr net.Addr
	tcpAddr net.Addr
	conns   map[*net.TCPConn]struct{}
	closing bool
	started bool
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
		cfg:     cfg,
		logger:  logger,
		stats:   newCounters(),
		limiter: newLogLimiter(rejectLogInterval, MaxTrackedSources),
		conns:   make(map[*net.TCPConn]struct{}),
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

// allowed reports whether src, already normalized, is in AllowedSources.
func (r *Receiver) allowed(src netip.Addr) bool {
	for _, p := range r.cfg.AllowedSources {
		if p.Contains(src) {
			return true
		}
	}
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
		switch r.track(conn) {
		case trackClosing:
			conn.Close()
			return
		case trackFull:
			conn.Close()
			r.reject(src, ReasonTooManyConnections, "tcp")
			continue
		}
		wg.Go(func() { r.serveConn(conn, src, handle) })
	}
}

type trackResult uint8

const (
	tracked trackResult = iota
	trackFull
	trackClosing
)

// track registers conn so that shutdown can close it, unless the receiver
// is closing or MaxConnections are open.
func (r *Receiver) track(conn *net.TCPConn) trackResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closing:
		return trackClosing
	case len(r.conns) >= r.cfg.MaxConnections:
		return trackFull
	}
	r.conns[conn] = struct{}{}
	r.stats.connOpened()
	return tracked
}

func (r *Receiver) untrack(conn *net.TCPConn) {
	r.mu.Lock()
	delete(r.conns, conn)
	r.mu.Unlock()
	conn.Close()
	r.stats.connClosed()
}

// serveConn reads one TCP connection until EOF, error, idle timeout or
// shutdown. Its memory is the read buffer and the framer's, both bounded.
func (r *Receiver) serveConn(conn *net.TCPConn, src netip.Addr, handle func(Message)) {
	defer r.untrack(conn)
	log := r.logger.With("source", src, "remote", conn.RemoteAddr().String())
	log.Debug("syslog TCP connection opened")
	f := newFramer(r.cfg.MaxMessageSize)
	emit := func(fr frame) {
		if fr.reject != "" {
			r.reject(src, fr.reject, "tcp")
			return
		}
		r.deliver(src, fr.data, "tcp", handle)
	}
	buf := make([]byte, min(max(r.cfg.MaxMessageSize, minReadBuffer), maxReadBuffer))
	for {
		if err := conn.SetReadDeadline(time.Now().Add(r.cfg.IdleTimeout)); err != nil {
			log.Debug("syslog TCP connection closed", "err", err)
			return
		}
		n, err := conn.Read(buf)
		if n > 0 {
			r.stats.addBytes(0, n)
			f.feed(buf[:n], emit)
		}
		if err == nil {
			continue
		}
		switch {
		case errors.Is(err, io.EOF):
			f.close(emit)
			log.Debug("syslog TCP connection closed by peer")
		case errors.Is(err, os.ErrDeadlineExceeded):
			log.Info("syslog TCP connection idle, closing", "idle_timeout", r.cfg.IdleTimeout)
		case r.isClosing():
			log.Debug("syslog TCP connection closed at shutdown")
		default:
			log.Info("syslog TCP connection failed", "err", err)
		}
		return
	}
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
// the last rejectLogInterval.
func (r *Receiver) reject(src netip.Addr, reason, transport string) {
	r.stats.reject(reason)
	r.limMu.Lock()
	ok, key, suppressed := r.limiter.allow(src, reason, time.Now())
	r.limMu.Unlock()
	if ok {
		r.logger.Warn("syslog input rejected", "source", sourceLabel(key), "reason", reason,
			"transport", transport, "suppressed_since_last", suppressed)
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

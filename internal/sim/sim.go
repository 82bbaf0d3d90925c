package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

const never = math.MaxInt64

// Sim is a simulated cluster. Its methods may be called from any goroutine:
// the fake MMP of `leakwatch demo` calls RestartWebBridge while another
// goroutine drives Advance.
type Sim struct {
	mu  sync.Mutex
	cfg Config
	rng *rand.Rand
	now int64 // true simulated time, Unix nanoseconds

	hosts []host
	wbs   []webBridge
	cbs   []callBridge
	// g[w][c] is the number of genuine sessions on Web Bridge w whose
	// call is on Call Bridge c.
	g [][]int

	totalGenuine, totalDesk, totalSIP int
	reconnecting                      int // users dropped by a restart who will come back

	// Targets of the current minute, refreshed by evRefresh.
	targetWeb, targetDesk, targetSIP float64
	noiseRate                        float64 // noise lines per second

	nextRefresh, nextStoch, nextNoise int64
	pending                           []pendingLine

	hostCum []int // cumulative noise weights of hosts
	buf     []byte

	hz hazardState

	// afterEvent, when set by a test, runs after every event with the
	// lock held.
	afterEvent func()
}

type host struct {
	name            string
	form            Form
	skew            int64
	wb, cb          int // indexes, or -1
	role            role
	clock, rcvClock clock
	// Sequence numbers that CMS prints and increments.
	apiTrace, sipConn, guestReq, call int64
}

type webBridge struct {
	Bridge
	host            int
	genuine, leaked int
	leakRate        float64 // per second
	c, d            int64
	refused         int64
	restarts        int
	handRestarts    int
	down            bool
	downUntil       int64
	baseStats       int64 // schedule without jitter
	nextStats       int64
	// The last Stats line written: when (true time) and what it said.
	statsWritten bool
	lastStatsAt  int64
	lastStats    int
}

type callBridge struct {
	host                                 int
	webrtc, desktop, sipStd, sipPeer     int
	peakCMA, peakLegs, peakStd, peakPeer int
	legsStarted                          int
	nextStats                            int64
	reported                             bool
	lastAt                               int64
	lastCMA, lastPeak                    int
}

func (c *callBridge) cma() int  { return c.webrtc + c.desktop }
func (c *callBridge) legs() int { return c.cma() + c.sipStd + c.sipPeer }

// bump raises the peaks of the current report period to the current values.
func (c *callBridge) bump() {
	c.peakCMA = max(c.peakCMA, c.cma())
	c.peakLegs = max(c.peakLegs, c.legs())
	c.peakStd = max(c.peakStd, c.sipStd)
	c.peakPeer = max(c.peakPeer, c.sipPeer)
}

// resetPeaks starts a new report period.
func (c *callBridge) resetPeaks() {
	c.peakCMA, c.peakLegs, c.peakStd, c.peakPeer = c.cma(), c.legs(), c.sipStd, c.sipPeer
	c.legsStarted = 0
}

type pendingKind uint8

const (
	pendRestartCLI pendingKind = iota
	pendStopping
)

type pendingLine struct {
	at   int64
	host int
	kind pendingKind
}

// New returns a simulator of the cluster cfg describes, at cfg.Start, with
// sessions already at the level the time of day calls for.
func New(cfg Config) (*Sim, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("invalid simulator config: %w", err)
	}
	s := &Sim{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6c65616b77617463)),
		now: cfg.Start.UnixNano(),
	}
	s.buildHosts()
	s.buildNoise()
	s.buildHazards()
	s.refreshTargets()
	s.populate()
	s.nextRefresh = s.now + int64(time.Minute)
	s.scheduleNoise()
	s.resample()
	return s, nil
}

func (s *Sim) buildHosts() {
	idx := map[string]int{}
	add := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		idx[name] = len(s.hosts)
		s.hosts = append(s.hosts, host{name: name, wb: -1, cb: -1})
		return len(s.hosts) - 1
	}
	cbCount := len(s.cfg.CallBridges)
	for i, b := range s.cfg.WebBridges {
		h := add(b.Host)
		s.hosts[h].wb = i
		s.wbs = append(s.wbs, webBridge{Bridge: b, host: h, leakRate: s.cfg.Leak[b.Name] / 3600})
		s.g = append(s.g, make([]int, cbCount))
	}
	for i, name := range s.cfg.CallBridges {
		h := add(name)
		s.hosts[h].cb = i
		s.cbs = append(s.cbs, callBridge{host: h})
	}
	for _, name := range s.cfg.OtherHosts {
		add(name)
	}
	loc := s.cfg.Start.Location()
	for i := range s.hosts {
		h := &s.hosts[i]
		h.clock.loc, h.rcvClock.loc = loc, loc
		h.role = roleOf(h.wb >= 0, h.cb >= 0)
		if f, ok := s.cfg.Forms[h.name]; ok {
			h.form = f
		} else {
			h.form = defaultForm(i)
		}
		if sk := int64(s.cfg.ClockSkew); sk > 0 {
			h.skew = s.rng.Int64N(2*sk+1) - sk
		}
		h.apiTrace = 1000 + s.rng.Int64N(9000)
		h.sipConn = 1 + s.rng.Int64N(500)
		h.guestReq = 1_000_000_000 + s.rng.Int64N(1_000_000_000)
		h.call = 1 + s.rng.Int64N(5000)
	}
	// Phases are random so that hosts do not report in lockstep.
	for i := range s.wbs {
		w := &s.wbs[i]
		w.baseStats = s.now + s.rng.Int64N(int64(s.cfg.WBInterval))
		w.nextStats = w.baseStats
	}
	for i := range s.cbs {
		s.cbs[i].nextStats = s.now + s.rng.Int64N(int64(s.cfg.CBInterval))
	}
}

// defaultForm spreads the forms over hosts so that the default five hosts
// write every header, and neighbours differ in every other respect too.
func defaultForm(i int) Form {
	order := [...]Header{HeaderBSDMillis, HeaderReceiver, HeaderPRI, HeaderISO, HeaderBSD}
	return Form{
		Header:    order[i%len(order)],
		QuotedTag: i%2 == 0,
		Debugging: i%3 != 1,
		TwoSpaces: i%2 == 1,
		PadLevels: i%4 == 1 || i%4 == 2,
	}
}

// loadFactor is the fraction of PeakSessions expected at t: office hours on
// weekdays, a lunch dip, quiet nights and weekends.
func (s *Sim) loadFactor(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	var day float64
	switch {
	case h < 7 || h >= 19:
		day = 0
	case h < 9:
		day = (h - 7) / 2
	case h < 12:
		day = 1
	case h < 13:
		day = 0.75
	case h < 17:
		day = 1
	default:
		day = (19 - h) / 2
	}
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		day *= 0.1
	}
	night := s.cfg.NightFraction
	return night + (1-night)*day
}

func (s *Sim) refreshTargets() {
	web := s.cfg.PeakSessions * s.loadFactor(time.Unix(0, s.now).In(s.cfg.Start.Location()))
	s.targetWeb = web
	s.targetDesk = max(0, s.cfg.DesktopShare) * web
	s.targetSIP = max(0, s.cfg.SIPShare) * web
}

// populate places the sessions the start time calls for and gives the
// cumulative counters a history.
func (s *Sim) populate() {
	for range int(math.Round(s.targetWeb)) {
		s.arriveWeb()
	}
	for range int(math.Round(s.targetDesk)) {
		s.arriveDesk()
	}
	for range int(math.Round(s.targetSIP)) {
		s.arriveSIP()
	}
	for i := range s.wbs {
		w := &s.wbs[i]
		n := s.cfg.InitialLeak[w.Name]
		n = min(n, w.Limit-w.genuine-w.leaked)
		w.leaked += n
		w.c += 2000 + s.rng.Int64N(30000)
		w.d = w.c - int64(w.genuine+w.leaked) - s.rng.Int64N(400)
	}
	for i := range s.cbs {
		s.cbs[i].resetPeaks()
	}
}

func (s *Sim) scheduleNoise() {
	if s.cfg.NoisePerStats < 0 {
		s.nextNoise = never
		return
	}
	statsPerSec := float64(len(s.wbs))/s.cfg.WBInterval.Seconds() + float64(len(s.cbs))/s.cfg.CBInterval.Seconds()
	s.noiseRate = float64(s.cfg.NoisePerStats) * statsPerSec
	s.nextNoise = s.now + s.expNS(s.noiseRate)
}

// expNS draws an exponential delay in nanoseconds for an event of the given
// rate per second.
func (s *Sim) expNS(rate float64) int64 {
	if rate <= 0 {
		return never - s.now
	}
	d := s.rng.ExpFloat64() / rate * 1e9
	if d >= float64(never-s.now) {
		return never - s.now
	}
	return int64(d) + 1
}

// Stochastic processes, drawn together (Gillespie): arrivals and departures
// of WebRTC sessions, desktop clients and SIP calls, reconnections after a
// restart, and each Web Bridge's leak.
const (
	rArriveWeb = iota
	rDepartWeb
	rArriveDesk
	rDepartDesk
	rArriveSIP
	rDepartSIP
	rReconnect
	rLeak // one per Web Bridge from here
)

func (s *Sim) rate(k int) float64 {
	mean := s.cfg.MeanSession.Seconds()
	switch k {
	case rArriveWeb:
		return s.targetWeb / mean
	case rDepartWeb:
		return float64(s.totalGenuine) / mean
	case rArriveDesk:
		return s.targetDesk / mean
	case rDepartDesk:
		return float64(s.totalDesk) / mean
	case rArriveSIP:
		return s.targetSIP / mean
	case rDepartSIP:
		return float64(s.totalSIP) / mean
	case rReconnect:
		return float64(s.reconnecting) / s.cfg.ReconnectMean.Seconds()
	}
	w := &s.wbs[k-rLeak]
	if w.down {
		return 0
	}
	return w.leakRate
}

func (s *Sim) totalRate() float64 {
	var r float64
	for k := range rLeak + len(s.wbs) {
		r += s.rate(k)
	}
	return r
}

// resample draws the next stochastic event; by memorylessness it is valid
// to redraw whenever a rate changes.
func (s *Sim) resample() {
	s.nextStoch = s.now + s.expNS(s.totalRate())
}

func (s *Sim) stochastic() {
	u := s.rng.Float64() * s.totalRate()
	k := 0
	for n := rLeak + len(s.wbs) - 1; k < n; k++ {
		r := s.rate(k)
		if u < r {
			break
		}
		u -= r
	}
	switch k {
	case rArriveWeb:
		s.arriveWeb()
	case rDepartWeb:
		s.departWeb()
	case rArriveDesk:
		s.arriveDesk()
	case rDepartDesk:
		s.departDesk()
	case rArriveSIP:
		s.arriveSIP()
	case rDepartSIP:
		s.departSIP()
	case rReconnect:
		s.reconnecting--
		s.arriveWeb()
	default:
		s.leak(k - rLeak)
	}
}

// arriveWeb lets a browser user in through a Web Bridge picked at random
// among those up (DNS round robin), unless that bridge is at its limit.
func (s *Sim) arriveWeb() {
	up := 0
	for i := range s.wbs {
		if !s.wbs[i].down {
			up++
		}
	}
	if up == 0 {
		return
	}
	pick := s.rng.IntN(up)
	wi := 0
	for i := range s.wbs {
		if s.wbs[i].down {
			continue
		}
		if pick == 0 {
			wi = i
			break
		}
		pick--
	}
	w := &s.wbs[wi]
	if w.genuine+w.leaked >= w.Limit {
		w.refused++
		return
	}
	ci := s.rng.IntN(len(s.cbs))
	s.g[wi][ci]++
	w.genuine++
	s.totalGenuine++
	w.c++
	if s.rng.IntN(20) == 0 { // a second connection from the same user
		w.c++
	}
	c := &s.cbs[ci]
	c.webrtc++
	c.legsStarted++
	c.bump()
}

// pickGenuine returns the Call Bridge of a genuine session on Web Bridge wi
// chosen uniformly.
func (s *Sim) pickGenuine(wi int) int {
	u := s.rng.IntN(s.wbs[wi].genuine)
	for ci, n := range s.g[wi] {
		if u < n {
			return ci
		}
		u -= n
	}
	panic("sim: genuine session counts out of step")
}

func (s *Sim) removeGenuine(wi, ci int) {
	s.g[wi][ci]--
	s.wbs[wi].genuine--
	s.totalGenuine--
	s.cbs[ci].webrtc--
}

func (s *Sim) departWeb() {
	u := s.rng.IntN(s.totalGenuine)
	wi := 0
	for ; wi < len(s.wbs); wi++ {
		if u < s.wbs[wi].genuine {
			break
		}
		u -= s.wbs[wi].genuine
	}
	s.removeGenuine(wi, s.pickGenuine(wi))
	if s.rng.IntN(50) != 0 { // a few disconnects go uncounted: c - d drifts from N
		s.wbs[wi].d++
	}
}

// leak makes Web Bridge wi count one more session that is not there: a
// ghost that connected and never left, or, at the limit, a live session
// that ended without being released.
func (s *Sim) leak(wi int) {
	w := &s.wbs[wi]
	switch {
	case w.genuine+w.leaked < w.Limit:
		w.c++
	case w.genuine > 0:
		s.removeGenuine(wi, s.pickGenuine(wi))
	default:
		return
	}
	w.leaked++
}

func (s *Sim) arriveDesk() {
	c := &s.cbs[s.rng.IntN(len(s.cbs))]
	c.desktop++
	c.legsStarted++
	s.totalDesk++
	c.bump()
}

func (s *Sim) departDesk() {
	u := s.rng.IntN(s.totalDesk)
	for i := range s.cbs {
		c := &s.cbs[i]
		if u < c.desktop {
			c.desktop--
			s.totalDesk--
			return
		}
		u -= c.desktop
	}
}

func (s *Sim) arriveSIP() {
	c := &s.cbs[s.rng.IntN(len(s.cbs))]
	if s.rng.IntN(5) == 0 {
		c.sipPeer++
	} else {
		c.sipStd++
	}
	c.legsStarted++
	s.totalSIP++
	c.bump()
}

func (s *Sim) departSIP() {
	u := s.rng.IntN(s.totalSIP)
	for i := range s.cbs {
		c := &s.cbs[i]
		if u < c.sipStd {
			c.sipStd--
			s.totalSIP--
			return
		}
		u -= c.sipStd
		if u < c.sipPeer {
			c.sipPeer--
			s.totalSIP--
			return
		}
		u -= c.sipPeer
	}
}

// Now returns the simulated time.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.time()
}

func (s *Sim) time() time.Time {
	return time.Unix(0, s.now).In(s.cfg.Start.Location())
}

// AdvanceTimed is Advance, passing each line with the true time it was
// written: the time a receiver next to the sender would see it arrive.
func (s *Sim) AdvanceTimed(d time.Duration, emit func(at time.Time, line []byte)) {
	s.Advance(d, func(b []byte) { emit(s.time(), b) })
}

// Advance runs the simulation for d of simulated time and passes each line
// produced, without its newline, to emit in the order a syslog server would
// write them. The slice is only valid during the call. emit must not call
// back into the Sim. Advancing in several steps gives the same lines as one
// step over the same span.
func (s *Sim) Advance(d time.Duration, emit func(line []byte)) {
	if d < 0 {
		d = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.now + int64(d)
	for {
		t, ev, i := s.nextEvent()
		if t > end {
			break
		}
		s.now = t
		s.handle(ev, i, emit)
		if s.afterEvent != nil {
			s.afterEvent()
		}
	}
	s.now = end
}

type event uint8

const (
	evPending event = iota
	evWBUp
	evWBStats
	evCBStats
	evRefresh
	evStoch
	evNoise
	evHandRestart
	evStray
)

// nextEvent returns the earliest event; ties go to the kind listed first, so
// the order is deterministic.
func (s *Sim) nextEvent() (int64, event, int) {
	t, ev, idx := int64(never), evNoise, 0
	consider := func(at int64, e event, i int) {
		if at < t {
			t, ev, idx = at, e, i
		}
	}
	if len(s.pending) > 0 {
		consider(s.pending[0].at, evPending, 0)
	}
	for i := range s.wbs {
		if s.wbs[i].down {
			consider(s.wbs[i].downUntil, evWBUp, i)
		}
		consider(s.wbs[i].nextStats, evWBStats, i)
	}
	for i := range s.cbs {
		consider(s.cbs[i].nextStats, evCBStats, i)
	}
	consider(s.nextRefresh, evRefresh, 0)
	consider(s.nextStoch, evStoch, 0)
	consider(s.nextNoise, evNoise, 0)
	for i, at := range s.hz.nextHand {
		consider(at, evHandRestart, i)
	}
	if at, i := s.nextStray(); i >= 0 {
		consider(at, evStray, i)
	}
	return t, ev, idx
}

func (s *Sim) handle(ev event, i int, emit func([]byte)) {
	switch ev {
	case evPending:
		p := s.pending[0]
		s.pending = s.pending[1:]
		s.emitPending(p, emit)
	case evWBUp:
		w := &s.wbs[i]
		w.down = false
		h := &s.hosts[w.host]
		b := s.begin(h, facUser, tagWebBridge, lvlInfo)
		b = append(b, "Web Bridge started"...)
		s.flush(b, emit)
		s.resample()
	case evWBStats:
		w := &s.wbs[i]
		if !w.down {
			s.emitWBStats(w, emit)
		}
		w.baseStats += int64(s.cfg.WBInterval)
		// Up to ±20ms of jitter that does not accumulate.
		w.nextStats = w.baseStats + s.rng.Int64N(int64(40*time.Millisecond)) - int64(20*time.Millisecond)
		w.nextStats = max(w.nextStats, s.now+1)
	case evCBStats:
		s.emitCBStats(&s.cbs[i], emit)
		s.scheduleCB(i)
	case evRefresh:
		s.refreshTargets()
		s.nextRefresh += int64(time.Minute)
		s.resample()
	case evStoch:
		s.stochastic()
		s.resample()
	case evNoise:
		s.emitNoise(emit)
		s.nextNoise = s.now + s.expNS(s.noiseRate)
	case evHandRestart:
		s.handRestart(i)
	case evStray:
		s.emitStray(i, emit)
	}
}

// begin starts a line of host h at the current time with the header, tag and
// level, in the host's form.
func (s *Sim) begin(h *host, fac facility, t tag, lvl level) []byte {
	return s.beginWith(h, fac, t, lvl, 0, s.rng)
}

// beginWith is begin with the host's clock off by off more than its skew,
// drawing the receiver's delay from rng.
func (s *Sim) beginWith(h *host, fac facility, t tag, lvl level, off int64, rng *rand.Rand) []byte {
	dev := s.now + h.skew + off
	rcv := s.now
	if h.form.Header == HeaderReceiver {
		rcv += rng.Int64N(int64(800 * time.Millisecond))
	}
	b := appendHeader(s.buf[:0], h, fac, lvl.severity(), dev, rcv)
	return appendTagLevel(b, h, t, lvl)
}

func (s *Sim) flush(b []byte, emit func([]byte)) {
	s.buf = b
	emit(b)
	s.duplicate(b, emit)
}

func appendDebug(b []byte, h *host) []byte {
	if h.form.Debugging {
		return append(b, "[DEBUGGING] "...)
	}
	return append(b, "[DEBUG] "...)
}

func (s *Sim) emitWBStats(w *webBridge, emit func([]byte)) {
	if s.silent(w.host) {
		return
	}
	h := &s.hosts[w.host]
	b := s.beginWith(h, facUser, tagWebBridge, lvlInfo, s.stampOffset(w.host), s.rng)
	w.statsWritten, w.lastStatsAt, w.lastStats = true, s.now, w.genuine+w.leaked
	b = appendDebug(b, h)
	b = append(b, "Stats "...)
	b = strconv.AppendInt(b, int64(w.genuine+w.leaked), 10)
	b = append(b, ", c:"...)
	b = strconv.AppendInt(b, w.c, 10)
	b = append(b, ", d:"...)
	b = strconv.AppendInt(b, w.d, 10)
	s.flush(b, emit)
}

func appendPair(b []byte, key string, cur, peak int) []byte {
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `": "`...)
	b = strconv.AppendInt(b, int64(cur), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(peak), 10)
	return append(b, '"')
}

func (s *Sim) emitCBStats(c *callBridge, emit func([]byte)) {
	if s.silent(c.host) || s.cbLost(c) {
		c.resetPeaks()
		return
	}
	h := &s.hosts[c.host]
	b := s.beginWith(h, facUser, tagServer, lvlInfo, s.stampOffset(c.host), s.rng)
	b = append(b, `STATS: {"callLegsPS": `...)
	b = strconv.AppendInt(b, int64(math.Round(float64(c.legsStarted)/s.cfg.CBInterval.Seconds())), 10)
	b = append(b, ", "...)
	b = appendPair(b, "callLegs", c.legs(), c.peakLegs)
	b = append(b, ", "...)
	b = appendPair(b, "CMA", c.cma(), c.peakCMA)
	b = append(b, `, "sip": {`...)
	b = appendPair(b, "std", c.sipStd, c.peakStd)
	b = append(b, ", "...)
	b = appendPair(b, "peer", c.sipPeer, c.peakPeer)
	b = append(b, '}')
	if h.cb%2 == 1 {
		// A key leakwatch does not know: parsers must keep going.
		b = append(b, ", "...)
		b = appendPair(b, "xmpp", c.desktop/3, c.desktop/3+1)
	}
	b = append(b, '}')
	c.reported, c.lastAt, c.lastCMA, c.lastPeak = true, s.now, c.cma(), c.peakCMA
	s.flush(b, emit)
	c.resetPeaks()
}

// RestartWebBridge does what `webbridge restart` on the MMP does to the Web
// Bridge named name (or to the one on host name): every session on it ends,
// leaked and genuine alike, and their calls end; the bridge is down for
// RestartDowntime; most dropped users reconnect later, through any bridge.
// The c and d counters carry on. Restarting a bridge that is down extends
// its downtime.
func (s *Sim) RestartWebBridge(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	wi := -1
	for i := range s.wbs {
		if s.wbs[i].Name == name {
			wi = i
			break
		}
	}
	if wi < 0 {
		for i := range s.wbs {
			if s.wbs[i].Host == name {
				wi = i
				break
			}
		}
	}
	if wi < 0 {
		return fmt.Errorf("restarting web bridge %q: no such web bridge or host", name)
	}
	s.restart(wi)
	return nil
}

// restart ends every session on Web Bridge wi and takes it down.
func (s *Sim) restart(wi int) {
	w := &s.wbs[wi]
	dropped := w.genuine
	for ci := range s.cbs {
		s.cbs[ci].webrtc -= s.g[wi][ci]
		s.g[wi][ci] = 0
	}
	s.totalGenuine -= dropped
	w.genuine, w.leaked = 0, 0
	for range dropped {
		if s.rng.IntN(5) != 0 {
			s.reconnecting++
		}
	}
	w.down = true
	w.downUntil = s.now + int64(s.cfg.RestartDowntime)
	w.restarts++
	s.pending = append(s.pending,
		pendingLine{at: s.now, host: w.host, kind: pendRestartCLI},
		pendingLine{at: s.now, host: w.host, kind: pendStopping})
	s.resample()
}

func (s *Sim) emitPending(p pendingLine, emit func([]byte)) {
	h := &s.hosts[p.host]
	var b []byte
	switch p.kind {
	case pendRestartCLI:
		b = s.begin(h, facLocal0, tagCLI, lvlNone)
		b = append(b, "User admin from 127.0.0.1:"...)
		b = strconv.AppendInt(b, 40000+s.rng.Int64N(20000), 10)
		b = append(b, " issued command < webbridge restart>: permission granted"...)
	case pendStopping:
		b = s.begin(h, facUser, tagWebBridge, lvlInfo)
		b = append(b, "Web Bridge stopping"...)
	}
	s.flush(b, emit)
}

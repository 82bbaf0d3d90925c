package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Hazards are the ways a real syslog lies to leakwatch. The zero value has
// none, and the output is then what it was before hazards existed.
//
// Each hazard draws from its own random stream, seeded from Config.Seed, so
// switching one hazard on or off leaves the history and every other hazard
// as they were (a test can drop hazards one at a time to find which one a
// failure needs). Only HandRestartsPerDay changes the history itself.
type Hazards struct {
	// CBJitter makes Call Bridge reports irregular: each report comes up to
	// CBJitter early or late (without accumulating), and its CMA peak covers
	// the time since the previous report, however long that was. It must be
	// less than half of CBInterval.
	CBJitter time.Duration
	// CBLoss is the probability that a Call Bridge report is lost on its way
	// (a UDP datagram dropped): the Call Bridge starts a new report period
	// as usual, but no line is written.
	CBLoss float64
	// Silences are spans in which a host writes no stats lines, though the
	// components on it keep working (broken logging, a dead relay).
	Silences []Silence
	// HandRestartsPerDay is the rate, per Web Bridge, of restarts an operator
	// makes by hand outside leakwatch: like RestartWebBridge, except that the
	// c: and d: counters start again from zero.
	HandRestartsPerDay float64
	// Strays are hosts outside the cluster that write stats lines to the
	// same syslog: a lab server, a look-alike name, a forger.
	Strays []Stray
	// Misstamp is the probability that a stats line of the cluster carries a
	// wrong timestamp (a clock that jumped, a relay that re-stamps): its
	// host's clock is off by one of MisstampOffsets for that line only.
	Misstamp float64
	// MisstampOffsets are the offsets Misstamp draws from; empty means a
	// day ahead or a day behind.
	MisstampOffsets []time.Duration
	// Misstamps are one-off misstamped lines: the first stats line the host
	// writes at or after At carries its clock plus Offset.
	Misstamps []Misstamp
	// Duplicate is the probability that a line is written twice in a row
	// (a relay that retransmits).
	Duplicate float64
	// Trace, if set, is told of every hazard as it happens, in words, with
	// the true time. It runs with the Sim locked and must not call it.
	Trace func(at time.Time, what string)
}

// Silence is a span [From, To) of true time in which Host writes no stats.
type Silence struct {
	Host     string
	From, To time.Time
}

// Stray is a host outside the cluster writing stats lines in [From, To) of
// true time, at the Web Bridge cadence (or the Call Bridge cadence when
// CallBridge is set).
type Stray struct {
	Host       string
	CallBridge bool
	From, To   time.Time
	// Sessions is the active count (Web Bridge) or CMA current and peak
	// (Call Bridge) its lines print; zero means a small random lab load.
	Sessions int
	// Offset shifts its timestamps: a stray with a clock of its own.
	Offset time.Duration
}

// Misstamp is one line stamped Offset away from its host's clock.
type Misstamp struct {
	Host   string
	At     time.Time
	Offset time.Duration
}

// Streams of the hazards' own randomness.
const (
	hzJitter = iota
	hzLoss
	hzHand
	hzStray
	hzMisstamp
	hzDuplicate

	numHazardStreams
)

type strayState struct {
	Stray
	host      int
	next, end int64
	c, d      int64
}

type misstampState struct {
	host   int
	at     int64
	offset int64
	done   bool
}

// hazardState is the Sim's running state of its hazards.
type hazardState struct {
	rng       [numHazardStreams]*rand.Rand
	silences  [][2]int64 // per host, spans of silence
	silenceOf [][]int    // host -> indexes into silences
	strays    []strayState
	misstamps []misstampState
	offsets   []int64
	cbBase    []int64 // Call Bridge schedules without jitter
	nextHand  []int64 // per Web Bridge
}

func (hz Hazards) validate(c Config) error {
	var errs []error
	if hz.CBJitter < 0 || 2*hz.CBJitter >= c.CBInterval {
		errs = append(errs, fmt.Errorf("Hazards.CBJitter: %v is negative or not below half of CBInterval %v", hz.CBJitter, c.CBInterval))
	}
	for _, p := range []struct {
		name string
		p    float64
	}{{"CBLoss", hz.CBLoss}, {"Misstamp", hz.Misstamp}, {"Duplicate", hz.Duplicate}} {
		if p.p < 0 || p.p > 1 {
			//lint:ignore ST1005 like every error here, it starts with the Go name of the field
			errs = append(errs, fmt.Errorf("Hazards.%s: probability %g outside [0, 1]", p.name, p.p))
		}
	}
	if hz.HandRestartsPerDay < 0 {
		errs = append(errs, fmt.Errorf("Hazards.HandRestartsPerDay: negative (%g)", hz.HandRestartsPerDay))
	}
	known := map[string]bool{}
	for _, b := range c.WebBridges {
		known[b.Host] = true
	}
	for _, h := range c.CallBridges {
		known[h] = true
	}
	for _, h := range c.OtherHosts {
		known[h] = true
	}
	for i, sl := range hz.Silences {
		if !known[sl.Host] {
			errs = append(errs, fmt.Errorf("Hazards.Silences[%d].Host: %q is no host of the cluster", i, sl.Host))
		}
		if !sl.To.After(sl.From) {
			errs = append(errs, fmt.Errorf("Hazards.Silences[%d]: To %v is not after From %v", i, sl.To, sl.From))
		}
	}
	for i, st := range hz.Strays {
		if st.Host == "" {
			errs = append(errs, fmt.Errorf("Hazards.Strays[%d].Host: empty", i))
		}
		if !st.To.After(st.From) {
			errs = append(errs, fmt.Errorf("Hazards.Strays[%d]: To %v is not after From %v", i, st.To, st.From))
		}
		if st.Sessions < 0 {
			errs = append(errs, fmt.Errorf("Hazards.Strays[%d].Sessions: negative (%d)", i, st.Sessions))
		}
	}
	for i, m := range hz.Misstamps {
		if !known[m.Host] {
			errs = append(errs, fmt.Errorf("Hazards.Misstamps[%d].Host: %q is no host of the cluster", i, m.Host))
		}
	}
	return errors.Join(errs...)
}

// buildHazards runs after the cluster's hosts and noise are built, so that
// stray hosts take no share of the noise and draw nothing from the
// history's random stream.
func (s *Sim) buildHazards() {
	hz := &s.cfg.Hazards
	st := &s.hz
	for i := range st.rng {
		st.rng[i] = rand.New(rand.NewPCG(uint64(s.cfg.Seed), 0x68617a6172640000+uint64(i)))
	}
	idx := map[string]int{}
	for i := range s.hosts {
		idx[s.hosts[i].name] = i
	}
	hostOf := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		h := host{name: name, wb: -1, cb: -1, role: roleOther, form: Form{Header: HeaderBSDMillis}}
		if f, ok := s.cfg.Forms[name]; ok {
			h.form = f
		}
		h.clock.loc, h.rcvClock.loc = s.cfg.Start.Location(), s.cfg.Start.Location()
		idx[name] = len(s.hosts)
		s.hosts = append(s.hosts, h)
		return len(s.hosts) - 1
	}
	st.silenceOf = make([][]int, len(s.hosts))
	for _, sl := range hz.Silences {
		h := idx[sl.Host]
		st.silenceOf[h] = append(st.silenceOf[h], len(st.silences))
		st.silences = append(st.silences, [2]int64{sl.From.UnixNano(), sl.To.UnixNano()})
	}
	for _, m := range hz.Misstamps {
		st.misstamps = append(st.misstamps, misstampState{host: idx[m.Host], at: m.At.UnixNano(), offset: int64(m.Offset)})
	}
	for _, o := range hz.MisstampOffsets {
		st.offsets = append(st.offsets, int64(o))
	}
	if len(st.offsets) == 0 {
		st.offsets = []int64{int64(24 * time.Hour), -int64(24 * time.Hour)}
	}
	for _, sr := range hz.Strays {
		ss := strayState{Stray: sr, host: hostOf(sr.Host), next: max(sr.From.UnixNano(), s.now), end: sr.To.UnixNano()}
		ss.c = 100 + st.rng[hzStray].Int64N(5000)
		ss.d = ss.c - st.rng[hzStray].Int64N(20)
		s.hz.strays = append(s.hz.strays, ss)
	}
	for len(st.silenceOf) < len(s.hosts) {
		st.silenceOf = append(st.silenceOf, nil)
	}
	st.cbBase = make([]int64, len(s.cbs))
	for i := range s.cbs {
		st.cbBase[i] = s.cbs[i].nextStats
	}
	st.nextHand = make([]int64, len(s.wbs))
	for i := range s.wbs {
		st.nextHand[i] = s.drawHand()
	}
}

func (s *Sim) trace(format string, args ...any) {
	if s.cfg.Hazards.Trace != nil {
		s.cfg.Hazards.Trace(s.time(), fmt.Sprintf(format, args...))
	}
}

func (s *Sim) drawHand() int64 {
	rate := s.cfg.Hazards.HandRestartsPerDay / 86400
	if rate <= 0 {
		return never
	}
	d := s.hz.rng[hzHand].ExpFloat64() / rate * 1e9
	if d >= float64(never-s.now) {
		return never
	}
	return s.now + int64(d) + 1
}

// silent reports whether host h writes no stats now.
func (s *Sim) silent(h int) bool {
	if h >= len(s.hz.silenceOf) {
		return false
	}
	for _, i := range s.hz.silenceOf[h] {
		if sp := s.hz.silences[i]; s.now >= sp[0] && s.now < sp[1] {
			return true
		}
	}
	return false
}

// stampOffset returns the offset of the stats line host h is about to
// write: a one-off misstamp due, or a random one.
func (s *Sim) stampOffset(h int) int64 {
	for i := range s.hz.misstamps {
		m := &s.hz.misstamps[i]
		if !m.done && m.host == h && s.now >= m.at {
			m.done = true
			s.trace("line of %s stamped %v off", s.hosts[h].name, time.Duration(m.offset))
			return m.offset
		}
	}
	if p := s.cfg.Hazards.Misstamp; p > 0 {
		r := s.hz.rng[hzMisstamp]
		if r.Float64() < p {
			off := s.hz.offsets[r.IntN(len(s.hz.offsets))]
			s.trace("line of %s stamped %v off", s.hosts[h].name, time.Duration(off))
			return off
		}
	}
	return 0
}

// cbLost reports whether the Call Bridge report being written is lost.
func (s *Sim) cbLost(c *callBridge) bool {
	p := s.cfg.Hazards.CBLoss
	if p <= 0 || s.hz.rng[hzLoss].Float64() >= p {
		return false
	}
	s.trace("report of call bridge %s lost", s.hosts[c.host].name)
	return true
}

// scheduleCB sets Call Bridge i's next report, CBInterval after the last
// on its unjittered schedule, with the jitter hazard applied.
func (s *Sim) scheduleCB(i int) {
	c := &s.cbs[i]
	j := s.cfg.Hazards.CBJitter
	if j <= 0 {
		c.nextStats += int64(s.cfg.CBInterval)
		return
	}
	s.hz.cbBase[i] += int64(s.cfg.CBInterval)
	c.nextStats = s.hz.cbBase[i] + s.hz.rng[hzJitter].Int64N(2*int64(j)+1) - int64(j)
	c.nextStats = max(c.nextStats, s.now+1)
}

// duplicate writes b again when the duplicate hazard strikes.
func (s *Sim) duplicate(b []byte, emit func([]byte)) {
	if p := s.cfg.Hazards.Duplicate; p > 0 && s.hz.rng[hzDuplicate].Float64() < p {
		emit(b)
	}
}

// handRestart is an operator restarting Web Bridge wi by hand.
func (s *Sim) handRestart(wi int) {
	w := &s.wbs[wi]
	s.hz.nextHand[wi] = s.drawHand()
	if w.down {
		return
	}
	s.trace("web bridge %s restarted by hand (leaked %d, genuine %d)", w.Name, w.leaked, w.genuine)
	s.restart(wi)
	w.c, w.d = 0, 0
	w.handRestarts++
}

// nextStray returns the stray with the earliest next line.
func (s *Sim) nextStray() (int64, int) {
	t, idx := int64(never), -1
	for i := range s.hz.strays {
		if st := &s.hz.strays[i]; st.next < st.end && st.next < t {
			t, idx = st.next, i
		}
	}
	return t, idx
}

func (s *Sim) emitStray(i int, emit func([]byte)) {
	st := &s.hz.strays[i]
	h := &s.hosts[st.host]
	r := s.hz.rng[hzStray]
	n := st.Sessions
	if n == 0 {
		n = r.IntN(21)
	}
	var b []byte
	if st.CallBridge {
		st.next += int64(s.cfg.CBInterval)
		b = s.beginWith(h, facUser, tagServer, lvlInfo, int64(st.Offset), r)
		b = append(b, `STATS: {"callLegsPS": 0, `...)
		b = appendPair(b, "callLegs", n, n)
		b = append(b, ", "...)
		b = appendPair(b, "CMA", n, n)
		b = append(b, '}')
	} else {
		st.next += int64(s.cfg.WBInterval)
		st.c += int64(r.IntN(3))
		st.d = min(st.c, st.d+int64(r.IntN(3)))
		b = s.beginWith(h, facUser, tagWebBridge, lvlInfo, int64(st.Offset), r)
		b = appendDebug(b, h)
		b = append(b, "Stats "...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, ", c:"...)
		b = strconv.AppendInt(b, st.c, 10)
		b = append(b, ", d:"...)
		b = strconv.AppendInt(b, st.d, 10)
	}
	s.trace("stray %s wrote a stats line: %s", h.name, b)
	s.flush(b, emit)
}

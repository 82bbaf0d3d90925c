// Package cluster keeps the latest statistics of every Web Bridge and Call
// Bridge of a Cisco Meeting Server cluster and estimates the Web Bridge 2
// session leak from them.
//
// The package is pure: it does no I/O and reads no clock. Samples carry their
// own log time and every question takes "now" as an argument, so replaying a
// year of logs and running live share the same code.
package cluster

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/logline"
)

// Defaults for Options.
const (
	DefaultStaleAfter    = 11 * time.Minute
	DefaultPeakWindow    = 5 * time.Minute
	DefaultClockSkew     = 5 * time.Second
	DefaultMaxDiscovered = 64
	DefaultSessionLimit  = 149
	// DefaultFutureTolerance is how far ahead of its arrival a sample's own
	// timestamp may be before it is rejected.
	DefaultFutureTolerance = 2 * time.Minute
)

// Member is one inventory entry: a named component and the syslog hostnames
// it logs under.
type Member struct {
	Name  string
	Hosts []string
	// Limit is the Web Bridge session limit; 0 means DefaultLimit.
	Limit int64
	// Restartable is true for a Web Bridge with an MMP address: the only
	// kind the policy may ever choose for a restart.
	Restartable bool
}

// Options configures a Model. Zero values take the defaults above.
type Options struct {
	// StaleAfter is how old a component's last sample may be before the
	// estimate becomes unknown. Call Bridges report every 5 minutes.
	StaleAfter time.Duration
	// PeakWindow is the Call Bridge report period the CMA peak covers.
	PeakWindow time.Duration
	// ClockSkew is the margin allowed between two hosts' clocks when
	// deciding whether a Web Bridge sample lies inside a report period, and
	// how far apart samples of different bridges may be to count as taken
	// at one moment. Negative means none.
	ClockSkew time.Duration
	// MaxDiscovered caps components discovered from hostnames that the
	// inventory does not list. Samples past the cap are counted and dropped.
	MaxDiscovered int
	// DefaultLimit is the session limit of a Web Bridge with none set.
	DefaultLimit int64
	// ForgetAfter is how long a discovered Web Bridge may be silent before
	// it leaves the sums (a decommissioned lab bridge must not keep the
	// estimate unknown forever). Discovered Call Bridges never leave on
	// their own.
	ForgetAfter time.Duration
	// Ignore lists hosts known to belong elsewhere (a lab cluster): their
	// stats lines are counted and dropped, whatever their role.
	Ignore []string
	// FutureTolerance is how far a sample's own timestamp (the sender's
	// clock) may be ahead of its arrival (leakwatch's clock). A sample
	// further ahead is a broken clock or a forgery: it is rejected and
	// counted, so that it can never pin a bridge's state.
	FutureTolerance time.Duration
	// ForecastMinHistory is the proven history since a restart that a
	// bridge's forecast needs; default DefaultForecastMinHistory.
	ForecastMinHistory time.Duration
	// WebBridges and CallBridges are the inventory. Both may be empty.
	WebBridges  []Member
	CallBridges []Member
}

func (o *Options) setDefaults() {
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.PeakWindow <= 0 {
		o.PeakWindow = DefaultPeakWindow
	}
	if o.ClockSkew == 0 {
		o.ClockSkew = DefaultClockSkew
	} else if o.ClockSkew < 0 { // explicitly none
		o.ClockSkew = 0
	}
	if o.MaxDiscovered <= 0 {
		o.MaxDiscovered = DefaultMaxDiscovered
	}
	if o.DefaultLimit <= 0 {
		o.DefaultLimit = DefaultSessionLimit
	}
	if o.ForgetAfter <= 0 {
		o.ForgetAfter = DefaultForgetAfter
	}
	if o.FutureTolerance <= 0 {
		o.FutureTolerance = DefaultFutureTolerance
	}
	if o.ForecastMinHistory <= 0 {
		o.ForecastMinHistory = DefaultForecastMinHistory
	}
}

// Outcome says what Observe did with a line.
type Outcome uint8

const (
	// Ignored lines are not samples (noise or malformed); nothing changed.
	Ignored Outcome = iota
	// Applied samples updated a component.
	Applied
	// DroppedCap samples came from an unknown host past the discovery cap.
	DroppedCap
	// DroppedIgnored samples came from a host in Options.Ignore.
	DroppedIgnored
	// Unlisted samples came from a host that the inventory of their role
	// does not list, while it lists others: they are left out of the sums
	// (an unlisted Call Bridge withholds proofs while it reports).
	Unlisted
	// RejectedFuture samples were stamped more than FutureTolerance ahead
	// of their arrival; nothing changed but the host's clock record.
	RejectedFuture
)

// wbRingSize bounds the Web Bridge samples kept for the timing-robust bound.
// At one sample a minute it holds far more than the few report periods the
// bound looks back over.
const wbRingSize = 64

// cbRingSize bounds the Call Bridge reports kept: 4 periods of 5 minutes.
const cbRingSize = 4

type wbSample struct {
	at     time.Time
	active int64
}

type webBridge struct {
	name   string
	hosts  []string
	limit  int64
	listed bool
	// restartable: listed with an MMP address.
	restartable bool
	seen        bool
	lastAt      time.Time
	// lastArrived is when the last sample arrived, on leakwatch's clock.
	lastArrived time.Time
	last        logline.WebBridge
	samples     []wbSample // sorted by time, at most wbRingSize
	// restartAt is when the bridge last restarted, as far as known: its
	// samples up to then say nothing about the leak it has now.
	restartAt time.Time
	// hist is the bounded history of sessions and proven leak that the
	// forecast and the charts read; fc caches the forecast.
	hist history
	fc   forecastCache
}

type cbReport struct {
	at time.Time
	// prev is the time of the Call Bridge's report before this one, zero
	// when unknown: the peak covers at most the time since then.
	prev time.Time
	cma  logline.Pair
	full logline.CallBridge
}

type callBridge struct {
	name   string
	hosts  []string
	listed bool
	seen   bool
	// lastArrived is when the newest report (by its own time) arrived.
	lastArrived time.Time
	reports     []cbReport // sorted by time, at most cbRingSize
}

func (c *callBridge) last() *cbReport {
	if len(c.reports) == 0 {
		return nil
	}
	return &c.reports[len(c.reports)-1]
}

// Model is the cluster's state. It is safe for concurrent use.
type Model struct {
	mu         sync.Mutex
	opts       Options
	wbs        []*webBridge // sorted by name
	cbs        []*callBridge
	wbByHost   map[string]*webBridge
	cbByHost   map[string]*callBridge
	discovered int
	dropped    uint64
	// firstAt is the time of the first sample: until a whole report period
	// has passed since, a Call Bridge may exist that has not reported yet.
	firstAt time.Time
	// clocks holds each sending host's apparent clock offset.
	clocks clocks
	// ignore counts the lines of each host in Options.Ignore.
	ignore map[string]uint64
	// strays are hosts not listed for a role whose inventory is given.
	strays map[hostRole]*stray
	// departures are the recent discovered components that left the sums.
	departures []Departure
	departSeq  uint64
}

// New returns an empty model for the inventory in opts. The inventory must
// already be valid (see config.Validate); New returns an error naming the
// first conflict it finds anyway, since a host listed twice would make the
// sums wrong.
func New(opts Options) (*Model, error) {
	opts.setDefaults()
	m := &Model{
		opts:     opts,
		wbByHost: make(map[string]*webBridge),
		cbByHost: make(map[string]*callBridge),
		ignore:   make(map[string]uint64),
		strays:   make(map[hostRole]*stray),
	}
	m.clocks.max = 2 * opts.MaxDiscovered
	names := map[string]bool{}
	for _, mb := range opts.WebBridges {
		if mb.Name == "" || names["wb/"+mb.Name] {
			return nil, fmt.Errorf("web bridge name %q empty or listed twice", mb.Name)
		}
		names["wb/"+mb.Name] = true
		limit := mb.Limit
		if limit <= 0 {
			limit = opts.DefaultLimit
		}
		wb := &webBridge{name: mb.Name, hosts: hostsOf(mb), limit: limit, listed: true, restartable: mb.Restartable}
		for _, h := range wb.hosts {
			if _, dup := m.wbByHost[h]; dup {
				return nil, fmt.Errorf("host %q listed under two web bridges", h)
			}
			m.wbByHost[h] = wb
		}
		m.wbs = append(m.wbs, wb)
	}
	for _, mb := range opts.CallBridges {
		if mb.Name == "" || names["cb/"+mb.Name] {
			return nil, fmt.Errorf("call bridge name %q empty or listed twice", mb.Name)
		}
		names["cb/"+mb.Name] = true
		cb := &callBridge{name: mb.Name, hosts: hostsOf(mb), listed: true}
		for _, h := range cb.hosts {
			if _, dup := m.cbByHost[h]; dup {
				return nil, fmt.Errorf("host %q listed under two call bridges", h)
			}
			m.cbByHost[h] = cb
		}
		m.cbs = append(m.cbs, cb)
	}
	for _, h := range opts.Ignore {
		h = FoldHost(h)
		if m.wbByHost[h] != nil || m.cbByHost[h] != nil {
			return nil, fmt.Errorf("host %q is both listed and ignored", h)
		}
		m.ignore[h] = 0
	}
	m.sort()
	m.clocks.max += len(m.wbByHost) + len(m.cbByHost) + len(m.ignore)
	return m, nil
}

// hostsOf returns the member's hosts, folded (FoldHost); a member with no
// hosts logs under its own name.
func hostsOf(mb Member) []string {
	if len(mb.Hosts) == 0 {
		return []string{FoldHost(mb.Name)}
	}
	out := make([]string, len(mb.Hosts))
	for i, h := range mb.Hosts {
		out[i] = FoldHost(h)
	}
	return out
}

func (m *Model) sort() {
	sort.Slice(m.wbs, func(i, j int) bool { return m.wbs[i].name < m.wbs[j].name })
	sort.Slice(m.cbs, func(i, j int) bool { return m.cbs[i].name < m.cbs[j].name })
}

// Options returns the options in force, defaults filled in.
func (m *Model) Options() Options { return m.opts }

// Observe applies one parsed line that arrived at arrived (leakwatch's
// clock: the wall clock live, the replay's clock in a replay). Only Web
// Bridge and Call Bridge samples change state; noise and malformed lines are
// Ignored. A sample stamped more than FutureTolerance ahead of its arrival
// is RejectedFuture: it only updates its host's clock offset.
func (m *Model) Observe(l *logline.Line, arrived time.Time) Outcome {
	if l.Kind != logline.WebBridgeStats && l.Kind != logline.CallBridgeStats {
		return Ignored
	}
	host := FoldHost(string(l.Host))
	m.mu.Lock()
	defer m.mu.Unlock()
	ahead := l.Time.Sub(arrived)
	future := ahead > m.opts.FutureTolerance
	m.clocks.record(host, ahead, arrived, future)
	if future {
		return RejectedFuture
	}
	if n, ok := m.ignore[host]; ok {
		m.ignore[host] = n + 1
		return DroppedIgnored
	}
	// The earliest moment the sample may have been taken, as far as
	// leakwatch's clock can tell: its own time, unless that is ahead.
	taken := minTime(l.Time, arrived)
	if m.firstAt.IsZero() || taken.Before(m.firstAt) {
		m.firstAt = taken
	}
	if l.Kind == logline.WebBridgeStats {
		wb := m.wbByHost[host]
		if wb == nil && len(m.opts.WebBridges) > 0 {
			if !m.recordStray(host, RoleWebBridge, l.Time, arrived) {
				m.dropped++
				return DroppedCap
			}
			return Unlisted
		}
		if wb == nil {
			if m.discovered >= m.opts.MaxDiscovered {
				m.dropped++
				return DroppedCap
			}
			m.discovered++
			wb = &webBridge{name: host, hosts: []string{host}, limit: m.opts.DefaultLimit}
			m.wbByHost[host] = wb
			m.wbs = append(m.wbs, wb)
			m.sort()
		}
		wb.observe(l.Time, arrived, l.WebBridge)
		if s, ok := wb.sampleAt(l.Time); ok {
			m.prove(wb, s)
		}
		return Applied
	}
	cb := m.cbByHost[host]
	if cb == nil && len(m.opts.CallBridges) > 0 {
		if !m.recordStray(host, RoleCallBridge, l.Time, arrived) {
			m.dropped++
			return DroppedCap
		}
		return Unlisted
	}
	if cb == nil {
		if m.discovered >= m.opts.MaxDiscovered {
			m.dropped++
			return DroppedCap
		}
		m.discovered++
		cb = &callBridge{name: host, hosts: []string{host}}
		m.cbByHost[host] = cb
		m.cbs = append(m.cbs, cb)
		m.sort()
		if m.warm(l.Time) {
			// Leaks proven without this Call Bridge's sessions may
			// overstate: forget them.
			for _, wb := range m.wbs {
				wb.hist.forgetLeaks()
			}
		}
	}
	cb.observe(l.Time, arrived, l.CallBridge)
	// The report's period may complete the proof of recent samples.
	r := cbReport{at: l.Time}
	lo, hi := m.period(&r)
	for _, wb := range m.wbs {
		for _, s := range wb.sinceRestart() {
			if !s.at.Before(lo) && !s.at.After(hi) {
				m.prove(wb, s)
			}
		}
	}
	return Applied
}

// prove records the sample's proven leak in the bridge's history, if every
// Call Bridge's report period covers it and it is past the warm-up (before,
// a Call Bridge that has not reported yet would be left out of the peaks).
func (m *Model) prove(wb *webBridge, s wbSample) {
	if !s.at.After(wb.restartAt) || s.at.Sub(m.firstAt) < m.warmup() || m.withheldAt(s.at) {
		return
	}
	if peaks, ok := m.peakCovering(s.at); ok {
		wb.hist.addLeak(s.at, max(0, s.active-peaks))
	}
}

// sampleAt returns the bridge's kept sample taken at t.
func (wb *webBridge) sampleAt(t time.Time) (wbSample, bool) {
	for i := len(wb.samples) - 1; i >= 0; i-- {
		if wb.samples[i].at.Equal(t) {
			return wb.samples[i], true
		}
	}
	return wbSample{}, false
}

func (wb *webBridge) observe(at, arrived time.Time, s logline.WebBridge) {
	if wb.seen && at.After(wb.lastAt) && (s.Connections < wb.last.Connections || s.Disconnections < wb.last.Disconnections) {
		// Cumulative counters went back: the Web Bridge process restarted
		// since its last sample.
		wb.markRestart(wb.lastAt)
	}
	if !wb.seen || !at.Before(wb.lastAt) {
		wb.seen = true
		wb.lastAt = at
		wb.lastArrived = arrived
		wb.last = s
	}
	wb.samples = insertSorted(wb.samples, wbSample{at: at, active: s.Active}, wbRingSize,
		func(x wbSample) time.Time { return x.at })
	wb.hist.addSessions(at, s.Active)
}

// markRestart moves the bridge's last restart to at, if later.
func (wb *webBridge) markRestart(at time.Time) {
	if at.After(wb.restartAt) {
		wb.restartAt = at
		wb.hist.markReset(at)
	}
}

func (cb *callBridge) observe(at, arrived time.Time, s logline.CallBridge) {
	if r := cb.last(); r == nil || !at.Before(r.at) {
		cb.lastArrived = arrived
	}
	cb.seen = true
	cb.reports = insertSorted(cb.reports, cbReport{at: at, cma: s.CMA, full: s}, cbRingSize,
		func(x cbReport) time.Time { return x.at })
	// Each report's period starts no earlier than the report before it. The
	// oldest kept report keeps the predecessor it had when inserted.
	for i := 1; i < len(cb.reports); i++ {
		cb.reports[i].prev = cb.reports[i-1].at
	}
}

// Dropped counts the samples dropped so far at the discovery cap.
func (m *Model) Dropped() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped
}

// MarkRestart tells the model that the named Web Bridge restarted at at
// (leakwatch's clock): samples up to then no longer prove anything about its
// leak. leakwatch calls it for each restart it makes; a restart it did not
// make shows as its c: or d: counter going back, where the bridge resets
// them. Samples carry the bridge's own clock, which may run up to
// FutureTolerance ahead, so only samples stamped later than at plus that
// tolerance count as taken after the restart.
func (m *Model) MarkRestart(name string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, wb := range m.wbs {
		if wb.name == name {
			wb.markRestart(at.Add(m.opts.FutureTolerance))
		}
	}
}

// sinceRestart returns the samples taken after the bridge's last restart.
func (wb *webBridge) sinceRestart() []wbSample {
	i := len(wb.samples)
	for i > 0 && wb.samples[i-1].at.After(wb.restartAt) {
		i--
	}
	return wb.samples[i:]
}

// insertSorted inserts v into s, kept sorted by time and at most max long,
// dropping the oldest. Logs arrive nearly in order, so the scan is short.
func insertSorted[T any](s []T, v T, max int, at func(T) time.Time) []T {
	i := len(s)
	for i > 0 && at(s[i-1]).After(at(v)) {
		i--
	}
	if len(s) == max {
		if i == 0 {
			return s // older than everything kept
		}
		copy(s, s[1:i])
		s[i-1] = v
		return s
	}
	s = append(s, v)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}

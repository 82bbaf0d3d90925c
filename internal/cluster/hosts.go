package cluster

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/logline"
)

// Hosts are matched exactly, except for ASCII case: DNS names are
// case-insensitive, so CMS-WB1 is cms-wb1. Nothing else is folded: a trailing
// dot, a look-alike (cms-wbl for cms-wb1) or any other difference makes
// another host. A CMS server logs under the hostname it was given, with no
// trailing dot; a line with one came from something else, and taking it for
// a listed bridge would let that sender feed its numbers into a proof.

// FoldHost returns the form in which hosts are compared: ASCII lower case.
func FoldHost(h string) string {
	for i := 0; i < len(h); i++ {
		if c := h[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(h) // the parser admits ASCII only
		}
	}
	return h
}

// Role names a component kind, as the role label of the hosts' metrics.
type Role string

// The roles.
const (
	RoleWebBridge  Role = "webbridge"
	RoleCallBridge Role = "callbridge"
)

// DefaultForgetAfter is how long a discovered Web Bridge may be silent
// before it leaves the sums.
const DefaultForgetAfter = 24 * time.Hour

// maxDepartures bounds the departures kept for the page and the daemon.
const maxDepartures = 32

// hostRole keys the records of hosts not in the inventory.
type hostRole struct {
	host string
	role Role
}

// stray is a host that sends a role's stats while the inventory lists that
// role without it.
type stray struct {
	lines       uint64
	lastAt      time.Time
	lastArrived time.Time
}

// UnlistedHost is a host sending a role's stats while the inventory lists
// that role and not this host. Its samples are left out of every sum.
type UnlistedHost struct {
	Host     string
	Role     Role
	Lines    uint64
	LastSeen time.Time
	// Reporting is true while its last line is within stale_after. An
	// unlisted Call Bridge that reports withholds every proof: its CMA
	// sessions would belong in the peaks every proof subtracts.
	Reporting bool
}

// IgnoredHost is a host named in inventory.ignore, with the stats lines it
// sent, counted and dropped.
type IgnoredHost struct {
	Host  string
	Lines uint64
}

// Departure records a discovered component leaving the sums.
type Departure struct {
	// Seq numbers departures from 1, so a reader can tell which it has seen.
	Seq      uint64
	Name     string
	Role     Role
	Hosts    []string
	LastSeen time.Time
	At       time.Time
	// Why is "forget_after" (silent longer than model.forget_after) or
	// "operator" (leakwatch forget).
	Why string
}

// Departure reasons.
const (
	DepartedSilent   = "forget_after"
	DepartedOperator = "operator"
)

// recordStray records a line of role from host, not in the inventory of
// that role. When the table (MaxDiscovered entries) is full, the entry
// silent longest makes room, unless it is a Call Bridge still reporting:
// that one withholds proofs, and a flood of made-up hosts must not push it
// out. It returns false when no entry can make room.
func (m *Model) recordStray(host string, role Role, at, arrived time.Time) bool {
	k := hostRole{host, role}
	s := m.strays[k]
	if s == nil {
		if len(m.strays) >= m.opts.MaxDiscovered && !m.evictStray(arrived) {
			return false
		}
		s = &stray{}
		m.strays[k] = s
	}
	s.lines++
	if !at.Before(s.lastAt) {
		s.lastAt, s.lastArrived = at, arrived
	}
	return true
}

// evictStray removes the stray record silent longest that may go, and
// reports whether there was one.
func (m *Model) evictStray(now time.Time) bool {
	var victim hostRole
	var oldest time.Time
	found := false
	for k, s := range m.strays {
		last := minTime(s.lastAt, s.lastArrived)
		if k.role == RoleCallBridge && now.Sub(last) <= m.opts.StaleAfter {
			continue // reporting: it withholds proofs
		}
		if !found || last.Before(oldest) {
			victim, oldest, found = k, last, true
		}
	}
	if found {
		delete(m.strays, victim)
	}
	return found
}

// withheldAt reports whether an unlisted Call Bridge reported within
// StaleAfter of t: a proof of a sample taken then would leave its CMA
// sessions out.
func (m *Model) withheldAt(t time.Time) bool {
	for k, s := range m.strays {
		if k.role == RoleCallBridge && t.Sub(s.lastAt).Abs() <= m.opts.StaleAfter {
			return true
		}
	}
	return false
}

func (m *Model) unlisted(now time.Time) []UnlistedHost {
	out := make([]UnlistedHost, 0, len(m.strays))
	for k, s := range m.strays {
		out = append(out, UnlistedHost{Host: k.host, Role: k.role, Lines: s.lines, LastSeen: s.lastAt,
			Reporting: now.Sub(minTime(s.lastAt, s.lastArrived)) <= m.opts.StaleAfter})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Role < out[j].Role
	})
	return out
}

func (m *Model) ignoredHosts() []IgnoredHost {
	out := make([]IgnoredHost, 0, len(m.ignore))
	for h, n := range m.ignore {
		out = append(out, IgnoredHost{Host: h, Lines: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

// expire removes discovered Web Bridges silent for longer than ForgetAfter.
// A discovered Call Bridge never leaves on its own: its silence may be
// broken logging while it still carries calls, so the estimate stays
// unknown until an operator lists, ignores or forgets it.
func (m *Model) expire(now time.Time) {
	for i := 0; i < len(m.wbs); {
		wb := m.wbs[i]
		if wb.listed || !wb.seen || now.Sub(minTime(wb.lastAt, wb.lastArrived)) <= m.opts.ForgetAfter {
			i++
			continue
		}
		m.removeWB(i)
		m.depart(Departure{Name: wb.name, Role: RoleWebBridge, Hosts: wb.hosts, LastSeen: wb.lastAt, At: now, Why: DepartedSilent})
	}
}

func (m *Model) removeWB(i int) {
	wb := m.wbs[i]
	m.wbs = slices.Delete(m.wbs, i, i+1)
	for _, h := range wb.hosts {
		delete(m.wbByHost, h)
	}
	m.discovered--
}

func (m *Model) removeCB(i int) {
	cb := m.cbs[i]
	m.cbs = slices.Delete(m.cbs, i, i+1)
	for _, h := range cb.hosts {
		delete(m.cbByHost, h)
	}
	m.discovered--
}

func (m *Model) depart(d Departure) {
	m.departSeq++
	d.Seq = m.departSeq
	m.departures = append(m.departures, d)
	if n := len(m.departures); n > maxDepartures {
		m.departures = slices.Delete(m.departures, 0, n-maxDepartures)
	}
}

// Departures returns the recent departures (at most 32), oldest first.
func (m *Model) Departures() []Departure {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.departures)
}

// Forget makes the model forget what it knows about host, for `leakwatch
// forget`: a discovered component with that host leaves the sums at now,
// and the host's unlisted records and clock are cleared. A listed or
// ignored host is refused: the inventory decides about those. If the host
// reports again it is new: a discovered component joins again, an unlisted
// Call Bridge withholds proofs again (list it or ignore it instead). It
// returns the departures it made.
func (m *Model) Forget(host string, now time.Time) ([]Departure, error) {
	h := FoldHost(host)
	m.mu.Lock()
	defer m.mu.Unlock()
	if wb := m.wbByHost[h]; wb != nil && wb.listed {
		return nil, fmt.Errorf("host %s is listed in inventory.webbridges as %s: remove it there (and restart leakwatch) instead", h, wb.name)
	}
	if cb := m.cbByHost[h]; cb != nil && cb.listed {
		return nil, fmt.Errorf("host %s is listed in inventory.callbridges as %s: remove it there (and restart leakwatch) instead", h, cb.name)
	}
	if _, ok := m.ignore[h]; ok {
		return nil, fmt.Errorf("host %s is in inventory.ignore: its lines are dropped already", h)
	}
	var out []Departure
	if i := slices.IndexFunc(m.wbs, func(wb *webBridge) bool { return slices.Contains(wb.hosts, h) }); i >= 0 {
		wb := m.wbs[i]
		m.removeWB(i)
		m.depart(Departure{Name: wb.name, Role: RoleWebBridge, Hosts: wb.hosts, LastSeen: wb.lastAt, At: now, Why: DepartedOperator})
		out = append(out, m.departures[len(m.departures)-1])
	}
	if i := slices.IndexFunc(m.cbs, func(cb *callBridge) bool { return slices.Contains(cb.hosts, h) }); i >= 0 {
		cb := m.cbs[i]
		var last time.Time
		if r := cb.last(); r != nil {
			last = r.at
		}
		m.removeCB(i)
		m.depart(Departure{Name: cb.name, Role: RoleCallBridge, Hosts: cb.hosts, LastSeen: last, At: now, Why: DepartedOperator})
		out = append(out, m.departures[len(m.departures)-1])
	}
	found := len(out) > 0
	for _, r := range []Role{RoleWebBridge, RoleCallBridge} {
		if _, ok := m.strays[hostRole{h, r}]; ok {
			delete(m.strays, hostRole{h, r})
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("no host %s is known (hosts match exactly, ignoring ASCII case; a trailing dot makes another host)", h)
	}
	m.clocks.forget(h)
	return out, nil
}

// Counts reports whether the model would count a stats line from host in
// the given role in its sums: false for a host in inventory.ignore, and for
// a host the inventory of that role does not list when it lists any. Such a
// host's clock says nothing about the cluster's, so a replay must not let
// its lines move the stream's time (two lab servers a day ahead would make
// every listed bridge stale for the rest of the logs).
func (m *Model) Counts(host []byte, kind logline.Kind) bool {
	h := FoldHost(string(host))
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ignore[h]; ok {
		return false
	}
	switch kind {
	case logline.WebBridgeStats:
		return len(m.opts.WebBridges) == 0 || m.wbByHost[h] != nil
	case logline.CallBridgeStats:
		return len(m.opts.CallBridges) == 0 || m.cbByHost[h] != nil
	}
	return false
}

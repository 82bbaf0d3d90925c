package sim

import "time"

// Truth is the simulator's ground truth at one instant, for tests to compare
// an estimator against. It is a copy.
type Truth struct {
	// Now is the true simulated time (host clocks may be skewed from it).
	Now         time.Time
	WebBridges  []WebBridgeTruth  // in Config order
	CallBridges []CallBridgeTruth // in Config order
	// Reconnecting counts users dropped by a restart who have not yet come
	// back.
	Reconnecting int
}

// WebBridgeTruth is one Web Bridge's true state.
type WebBridgeTruth struct {
	Name  string
	Host  string
	Limit int
	// Genuine counts live WebRTC sessions; each has a call on some Call
	// Bridge.
	Genuine int
	// Leaked counts sessions the bridge counts but that are not there.
	Leaked int
	// Sessions is Genuine + Leaked, what a Stats line would print now. It
	// never exceeds Limit.
	Sessions int
	// Connections and Disconnections are the cumulative c: and d: counters.
	Connections    int64
	Disconnections int64
	// Refused counts users turned away because the bridge was at its limit.
	Refused int64
	// Up is false while the bridge restarts.
	Up bool
	// Restarts counts restarts of every kind; HandRestarts those an
	// operator made by hand (Hazards.HandRestartsPerDay).
	Restarts     int
	HandRestarts int
	// StatsWritten is true once a Stats line of this bridge was written;
	// LastStats and LastStatsSessions are then when (true time) and the
	// count it printed. Forged lines of a Hazards.Stray do not count.
	StatsWritten      bool
	LastStats         time.Time
	LastStatsSessions int
}

// CallBridgeTruth is one Call Bridge's true state.
type CallBridgeTruth struct {
	Host string
	// WebRTC counts calls placed by genuine Web Bridge sessions.
	WebRTC int
	// Desktop counts CMA desktop and iOS clients.
	Desktop int
	// CMA is WebRTC + Desktop, the X of "CMA": "X/Y".
	CMA int
	// CMAPeak is the highest CMA of the report period in progress.
	CMAPeak int
	// SIPStd and SIPPeer count SIP calls.
	SIPStd  int
	SIPPeer int
	// Reported is true once a STATS line was written; LastReport, LastCMA
	// and LastCMAPeak are then what it said and when (true time).
	Reported    bool
	LastReport  time.Time
	LastCMA     int
	LastCMAPeak int
}

// Leaked returns the sessions leaked over all Web Bridges.
func (t Truth) Leaked() int {
	n := 0
	for _, w := range t.WebBridges {
		n += w.Leaked
	}
	return n
}

// WebBridge returns the named Web Bridge's truth and whether it exists.
func (t Truth) WebBridge(name string) (WebBridgeTruth, bool) {
	for _, w := range t.WebBridges {
		if w.Name == name {
			return w, true
		}
	}
	return WebBridgeTruth{}, false
}

// Truth returns the ground truth now.
func (s *Sim) Truth() Truth {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.truth()
}

func (s *Sim) truth() Truth {
	t := Truth{Now: s.time(), Reconnecting: s.reconnecting}
	for i := range s.wbs {
		w := &s.wbs[i]
		t.WebBridges = append(t.WebBridges, WebBridgeTruth{
			Name: w.Name, Host: w.Host, Limit: w.Limit,
			Genuine: w.genuine, Leaked: w.leaked, Sessions: w.genuine + w.leaked,
			Connections: w.c, Disconnections: w.d, Refused: w.refused,
			Up: !w.down, Restarts: w.restarts, HandRestarts: w.handRestarts,
			StatsWritten: w.statsWritten, LastStatsSessions: w.lastStats,
		})
		if w.statsWritten {
			t.WebBridges[i].LastStats = time.Unix(0, w.lastStatsAt).In(s.cfg.Start.Location())
		}
	}
	for i := range s.cbs {
		c := &s.cbs[i]
		ct := CallBridgeTruth{
			Host: s.hosts[c.host].name, WebRTC: c.webrtc, Desktop: c.desktop,
			CMA: c.cma(), CMAPeak: c.peakCMA, SIPStd: c.sipStd, SIPPeer: c.sipPeer,
			Reported: c.reported, LastCMA: c.lastCMA, LastCMAPeak: c.lastPeak,
		}
		if c.reported {
			ct.LastReport = time.Unix(0, c.lastAt).In(s.cfg.Start.Location())
		}
		t.CallBridges = append(t.CallBridges, ct)
	}
	return t
}

package sim

import (
	"errors"
	"fmt"
	"time"
)

// DefaultLimit is the Web Bridge 2 session limit.
const DefaultLimit = 149

// Bridge is one Web Bridge and the host whose syslog carries its lines.
type Bridge struct {
	// Name is the Web Bridge's name, as an operator's inventory would list it.
	Name string
	// Host is the hostname its lines carry. A host that is also listed in
	// Config.CallBridges is a combined server.
	Host string
	// Limit is the session limit; zero means DefaultLimit.
	Limit int
}

// Header is the layout of the part of a line before the tag: the shape of the
// timestamp and whatever a receiver adds. Every layout is one that
// domain.md quotes.
type Header uint8

const (
	// HeaderBSDMillis is `Feb 23 09:02:21.594 user.info host tag: ...`.
	HeaderBSDMillis Header = iota
	// HeaderBSD is `Jul 26 14:08:23 user.info host tag: ...`.
	HeaderBSD
	// HeaderISO is `2024-03-06T09:34:45.395 local0.info host tag: ...`.
	HeaderISO
	// HeaderPRI is `<14>Jan 16 04:25:44 user.info host tag: ...`, as
	// written by a receiver that keeps the raw network priority.
	HeaderPRI
	// HeaderReceiver is a receiver-prepended header:
	// `2016-06-07 03:18:14               User.Info  host               Jun  7 10:18:20 host tag: ...`.
	// The outer timestamp is the receiver's clock, the inner one the host's.
	HeaderReceiver

	numHeaders
)

// String returns the header's name.
func (h Header) String() string {
	switch h {
	case HeaderBSDMillis:
		return "bsd-millis"
	case HeaderBSD:
		return "bsd"
	case HeaderISO:
		return "iso"
	case HeaderPRI:
		return "pri"
	case HeaderReceiver:
		return "receiver"
	}
	return fmt.Sprintf("header(%d)", uint8(h))
}

// Form is how one host's syslog server writes that host's lines. A host keeps
// one Form for its whole output; hosts differ.
type Form struct {
	Header Header
	// QuotedTag writes `"webbridge":` (as Cisco's documents print it) rather
	// than `webbridge:`.
	QuotedTag bool
	// Debugging writes `[DEBUGGING]` rather than `[DEBUG]` before Web Bridge
	// debug messages, Stats included.
	Debugging bool
	// TwoSpaces puts two spaces, not one, between the tag and the level.
	TwoSpaces bool
	// PadLevels pads levels to eight columns (`ERROR   :`, `INFO    :`).
	PadLevels bool
}

// Config describes the simulated cluster. The zero value is a valid
// three-Web-Bridge cluster; zero fields take the defaults documented on each.
type Config struct {
	// Seed makes the output deterministic: the same Config and the same
	// sequence of calls give the same bytes.
	Seed int64
	// Start is the simulated start time; its Location is the hosts' time
	// zone. Zero means Monday 2 March 2026 00:00 UTC.
	Start time.Time

	// WebBridges defaults to cms1, cms2, cms3 (names equal to hostnames).
	WebBridges []Bridge
	// CallBridges are Call Bridge hostnames; default cms1 (combined with its
	// Web Bridge) and cms4.
	CallBridges []string
	// OtherHosts log noise only (a recorder, a database node). Nil means
	// "cmsrec1"; an empty non-nil slice means none.
	OtherHosts []string
	// Forms overrides the Form of named hosts. Hosts not listed get forms
	// in turn (WB hosts, then CB hosts, then other hosts), so that the
	// default five hosts write every Header.
	Forms map[string]Form

	// WBInterval is the Web Bridge Stats cadence (undocumented by Cisco);
	// default 1m.
	WBInterval time.Duration
	// CBInterval is the Call Bridge STATS cadence; default 5m.
	CBInterval time.Duration

	// Leak is the leak rate of named Web Bridges in sessions per hour,
	// a Poisson process independent of load. Missing names do not leak.
	Leak map[string]float64
	// InitialLeak is the number of sessions each named Web Bridge has
	// already leaked at Start.
	InitialLeak map[string]int

	// PeakSessions is the mean number of genuine WebRTC sessions in the
	// whole cluster at the weekday office-hours peak; default 40 per Web
	// Bridge. Nights fall to NightFraction of it, weekends to a tenth.
	PeakSessions float64
	// NightFraction is the night load as a fraction of the peak; default 0.03.
	NightFraction float64
	// DesktopShare is the number of CMA desktop and iOS clients (which
	// never touch a Web Bridge) per genuine WebRTC session; default 0.3,
	// negative for none.
	DesktopShare float64
	// SIPShare is the number of SIP calls per genuine WebRTC session;
	// default 0.5, negative for none.
	SIPShare float64
	// MeanSession is the mean length of a session or call; default 40m.
	MeanSession time.Duration

	// NoisePerStats is the mean number of noise lines per stats line;
	// default 99 (99% noise), negative for none.
	NoisePerStats int
	// ClockSkew bounds each host's clock error: each host gets a fixed
	// skew in [-ClockSkew, +ClockSkew]. Zero means exact clocks.
	ClockSkew time.Duration
	// RestartDowntime is how long a Web Bridge stays down after
	// RestartWebBridge; default 30s.
	RestartDowntime time.Duration
	// ReconnectMean is the mean delay before a user dropped by a restart
	// reconnects (80% do); default 2m.
	ReconnectMean time.Duration

	// Hazards are the lies of a real syslog; the zero value has none.
	Hazards Hazards
}

// withDefaults returns a copy of c with every zero field set to its default.
// It is the one place defaults live.
func (c Config) withDefaults() Config {
	if c.Start.IsZero() {
		c.Start = time.Date(2026, time.March, 2, 0, 0, 0, 0, time.UTC)
	}
	if c.WebBridges == nil {
		c.WebBridges = []Bridge{{Name: "cms1", Host: "cms1"}, {Name: "cms2", Host: "cms2"}, {Name: "cms3", Host: "cms3"}}
	}
	wbs := make([]Bridge, len(c.WebBridges))
	copy(wbs, c.WebBridges)
	for i := range wbs {
		if wbs[i].Limit == 0 {
			wbs[i].Limit = DefaultLimit
		}
		if wbs[i].Host == "" {
			wbs[i].Host = wbs[i].Name
		}
	}
	c.WebBridges = wbs
	if c.CallBridges == nil {
		c.CallBridges = []string{"cms1", "cms4"}
	}
	if c.OtherHosts == nil {
		c.OtherHosts = []string{"cmsrec1"}
	}
	if c.WBInterval == 0 {
		c.WBInterval = time.Minute
	}
	if c.CBInterval == 0 {
		c.CBInterval = 5 * time.Minute
	}
	if c.PeakSessions == 0 {
		c.PeakSessions = 40 * float64(len(c.WebBridges))
	}
	if c.NightFraction == 0 {
		c.NightFraction = 0.03
	}
	if c.DesktopShare == 0 {
		c.DesktopShare = 0.3
	}
	if c.SIPShare == 0 {
		c.SIPShare = 0.5
	}
	if c.MeanSession == 0 {
		c.MeanSession = 40 * time.Minute
	}
	if c.NoisePerStats == 0 {
		c.NoisePerStats = 99
	}
	if c.RestartDowntime == 0 {
		c.RestartDowntime = 30 * time.Second
	}
	if c.ReconnectMean == 0 {
		c.ReconnectMean = 2 * time.Minute
	}
	return c
}

// validate checks a defaulted Config and names the offending field.
func (c Config) validate() error {
	var errs []error
	if len(c.WebBridges) == 0 {
		errs = append(errs, errors.New("WebBridges: at least one Web Bridge is needed"))
	}
	if len(c.CallBridges) == 0 {
		errs = append(errs, errors.New("CallBridges: at least one Call Bridge is needed"))
	}
	names := map[string]bool{}
	wbHosts := map[string]bool{}
	for i, b := range c.WebBridges {
		switch {
		case b.Name == "":
			errs = append(errs, fmt.Errorf("WebBridges[%d].Name: empty", i))
		case names[b.Name]:
			errs = append(errs, fmt.Errorf("WebBridges[%d].Name: duplicate %q", i, b.Name))
		case wbHosts[b.Host]:
			errs = append(errs, fmt.Errorf("WebBridges[%d].Host: %q already carries a Web Bridge", i, b.Host))
		}
		if b.Limit < 0 {
			errs = append(errs, fmt.Errorf("WebBridges[%d].Limit: negative (%d)", i, b.Limit))
		}
		names[b.Name] = true
		wbHosts[b.Host] = true
	}
	cbHosts := map[string]bool{}
	for i, h := range c.CallBridges {
		switch {
		case h == "":
			errs = append(errs, fmt.Errorf("CallBridges[%d]: empty hostname", i))
		case cbHosts[h]:
			errs = append(errs, fmt.Errorf("CallBridges[%d]: duplicate %q", i, h))
		}
		cbHosts[h] = true
	}
	for i, h := range c.OtherHosts {
		if h == "" || wbHosts[h] || cbHosts[h] {
			errs = append(errs, fmt.Errorf("OtherHosts[%d]: %q is empty or already a bridge host", i, h))
		}
	}
	for host, f := range c.Forms {
		if f.Header >= numHeaders {
			errs = append(errs, fmt.Errorf("Forms[%q].Header: unknown header %d", host, f.Header))
		}
	}
	for name, rate := range c.Leak {
		if !names[name] {
			//lint:ignore ST1005 like every error here, it starts with the Go name of the field
			errs = append(errs, fmt.Errorf("Leak[%q]: no such Web Bridge", name))
		}
		if rate < 0 {
			//lint:ignore ST1005 like every error here, it starts with the Go name of the field
			errs = append(errs, fmt.Errorf("Leak[%q]: negative rate %g", name, rate))
		}
	}
	for name, n := range c.InitialLeak {
		if !names[name] {
			errs = append(errs, fmt.Errorf("InitialLeak[%q]: no such Web Bridge", name))
		}
		if n < 0 {
			errs = append(errs, fmt.Errorf("InitialLeak[%q]: negative %d", name, n))
		}
	}
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"WBInterval", c.WBInterval}, {"CBInterval", c.CBInterval}, {"MeanSession", c.MeanSession},
		{"RestartDowntime", c.RestartDowntime}, {"ReconnectMean", c.ReconnectMean},
	}
	for _, p := range positive {
		if p.d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %v", p.name, p.d))
		}
	}
	if c.ClockSkew < 0 {
		errs = append(errs, fmt.Errorf("ClockSkew: negative (%v)", c.ClockSkew))
	}
	if c.PeakSessions < 0 {
		errs = append(errs, fmt.Errorf("PeakSessions: negative (%g)", c.PeakSessions))
	}
	if c.NightFraction < 0 || c.NightFraction > 1 {
		errs = append(errs, fmt.Errorf("NightFraction: %g is outside [0, 1]", c.NightFraction))
	}
	if err := c.Hazards.validate(c); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

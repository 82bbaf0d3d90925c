package logline

import "time"

// Kind says what a line turned out to be.
type Kind uint8

const (
	// Noise is any line that is not a stats sample, including look-alikes
	// whose "Stats" or "STATS: {" sits inside some other message's text.
	Noise Kind = iota
	// WebBridgeStats is a Web Bridge 2 `Stats N, c:C, d:D` line.
	WebBridgeStats
	// CallBridgeStats is a Call Bridge `STATS: {...}` line.
	CallBridgeStats
	// Malformed is a stats line whose numbers or JSON cannot be trusted.
	// It is counted and never changes state.
	Malformed
)

// String returns the kind's name as used in metric labels.
func (k Kind) String() string {
	switch k {
	case Noise:
		return "noise"
	case WebBridgeStats:
		return "webbridge"
	case CallBridgeStats:
		return "callbridge"
	case Malformed:
		return "malformed"
	}
	return "unknown"
}

// MaxValue is the largest number a sample may carry. It is the largest
// integer a float64 (and so Prometheus and JSON) holds exactly; anything
// above it is an overflow and makes the line malformed.
const MaxValue = 1<<53 - 1

// WebBridge is one Web Bridge 2 statistics sample.
type WebBridge struct {
	// Active is the number of sessions the Web Bridge counts as active,
	// leaked ones included.
	Active int64
	// Connections is the cumulative `c:` counter (undocumented; likely connects).
	Connections int64
	// Disconnections is the cumulative `d:` counter (undocumented; likely disconnects).
	Disconnections int64
}

// Pair is a Call Bridge "current/peak" value such as `"CMA": "14/17"`.
// Peak is the highest value over the Call Bridge's last report period (5 minutes).
type Pair struct {
	Current int64
	Peak    int64
}

// CallBridge is one Call Bridge `STATS:` sample.
type CallBridge struct {
	// CMA counts CMA WebRTC (Web Bridge) sessions plus CMA desktop and iOS
	// clients. It is always present in a valid sample.
	CMA Pair
	// CallLegs is `callLegs`, when HasCallLegs.
	CallLegs    Pair
	HasCallLegs bool
	// CallLegsPS is the `callLegsPS` rate, when HasCallLegsPS.
	CallLegsPS    float64
	HasCallLegsPS bool
	// SIPStd and SIPPeer are `sip.std` and `sip.peer`, when HasSIP.
	SIPStd  Pair
	SIPPeer Pair
	HasSIP  bool
	// Other holds any other "a/b" keys by name (nested keys joined by '.').
	// It is nil when there are none.
	Other map[string]Pair
}

// Line is the result of parsing one line. Host aliases the input buffer and
// is valid only until that buffer is reused; copy it to keep it.
type Line struct {
	Kind Kind
	// Time is the log's own timestamp. It is set for stats and malformed
	// lines; noise lines are not parsed beyond the marker scan.
	Time time.Time
	// Host is the sending hostname, as written by the syslog server.
	Host []byte
	// WebBridge is set when Kind is WebBridgeStats.
	WebBridge WebBridge
	// CallBridge is set when Kind is CallBridgeStats.
	CallBridge CallBridge
	// MalformedKind is "webbridge" or "callbridge" when Kind is Malformed.
	MalformedKind string
	// Reason says why a line is Malformed, for logs and counters.
	Reason string
}

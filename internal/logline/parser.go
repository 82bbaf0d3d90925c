package logline

import (
	"bytes"
	"time"
)

// Markers that every stats line contains. A line with neither is noise and
// is rejected before its header is looked at.
var (
	markWebBridge  = []byte("Stats ")
	markCallBridge = []byte("STATS:")
)

// MalformedKind values.
const (
	malformedWebBridge  = "webbridge"
	malformedCallBridge = "callbridge"
)

// Parser parses lines from one stream. It keeps the reference time used to
// infer the year of year-less timestamps, so lines must be fed in order.
// It is not safe for concurrent use; use one per input goroutine.
type Parser struct {
	loc *time.Location
	ref time.Time
	// upper says ref is a time no line precedes by more than a day (a
	// file's modification time) rather than a neighbour of the next line;
	// it holds until the first timestamp is parsed.
	upper bool
}

// NewParser returns a parser. loc is the zone of timestamps that carry none;
// nil means UTC. ref is the reference time for year inference: time.Now() for
// a live stream, or for a replay a time near the first line (such as the
// first file's modification time). A zero ref makes year-less timestamps
// invalid until a timestamp with a year has been parsed.
func NewParser(loc *time.Location, ref time.Time) *Parser {
	if loc == nil {
		loc = time.UTC
	}
	return &Parser{loc: loc, ref: ref}
}

// NewParserUntil returns a parser for lines written before latest, such as
// a file whose modification time is latest: the first year-less timestamp
// gets the latest year that puts it at most a day after latest (so a log
// begun in March and copied in November is not taken for next March), and
// later ones the year nearest the line before.
func NewParserUntil(loc *time.Location, latest time.Time) *Parser {
	p := NewParser(loc, latest)
	p.upper = true
	return p
}

// Parse parses one line, with or without its trailing "\n" or "\r\n", into
// *out and returns out.Kind. Every field of *out is overwritten. out.Host
// and nothing else aliases b.
//
// A line that contains neither stats marker is Noise and costs one scan,
// with no allocation; its header is not parsed and the year-inference
// reference does not move (see Timestamp).
func (p *Parser) Parse(b []byte, out *Line) Kind {
	*out = Line{}
	b = trimEOL(b)
	if !hasMarker(b) {
		return Noise
	}
	h := p.header(b)
	if h.reason != "" {
		return badHeader(b, h, out)
	}
	msg := b[h.msg:]
	if i := webBridgeForm(msg); i >= 0 && isWebBridgeTag(h.tag) {
		out.Time, out.Host = h.t, h.host
		if !plausibleHost(h.host) {
			return malformed(out, malformedWebBridge, reasonBadHost)
		}
		if reason := parseWebBridge(msg[i:], &out.WebBridge); reason != "" {
			out.WebBridge = WebBridge{}
			return malformed(out, malformedWebBridge, reason)
		}
		out.Kind = WebBridgeStats
	} else if i := callBridgeForm(msg); i >= 0 {
		out.Time, out.Host = h.t, h.host
		if !plausibleHost(h.host) {
			return malformed(out, malformedCallBridge, reasonBadHost)
		}
		if reason := p.parseCallBridge(msg[i:], &out.CallBridge); reason != "" {
			out.CallBridge = CallBridge{}
			return malformed(out, malformedCallBridge, reason)
		}
		out.Kind = CallBridgeStats
	}
	return out.Kind
}

// Timestamp parses only the header timestamp of b (for a line with a
// receiver's header in front, the device's own, last one) and moves the
// year-inference reference to it. It lets a caller advance its notion of
// "now" on noise lines, which Parse does not look into. It does not need the
// rest of the header to be valid.
func (p *Parser) Timestamp(b []byte) (time.Time, bool) {
	h := p.header(trimEOL(b))
	return h.t, h.timeOK
}

// hasMarker reports whether b contains "Stats " or "STATS:". One scan for
// their common 'S' is about twice as fast as two bytes.Index calls, as an
// 'S' is rare enough in log text.
func hasMarker(b []byte) bool {
	for i := 0; ; {
		k := bytes.IndexByte(b[i:], 'S')
		if k < 0 {
			return false
		}
		i += k + 1
		if len(b)-i < 5 {
			return false
		}
		if s := string(b[i : i+5]); s == "tats " || s == "TATS:" {
			return true
		}
	}
}

// header parses b's header and moves the reference to its timestamp.
func (p *Parser) header(b []byte) header {
	h := parseHeader(b, p.loc, p.ref, p.upper)
	if h.timeOK {
		p.ref, p.upper = h.t, false
	} else {
		h.t = time.Time{}
	}
	return h
}

// badHeader decides what a line with a stats marker but an unparsable
// header is. If a stats form sits where a message would start, right after
// "tag: LEVEL : ", the line is Malformed: a sample whose time or host cannot
// be trusted. Otherwise the marker is somewhere in other text: Noise.
func badHeader(b []byte, h header, out *Line) Kind {
	kind := ""
	for i := 0; i < len(b) && kind == ""; {
		k := bytes.Index(b[i:], markWebBridge)
		if k < 0 {
			break
		}
		if tag, ok := levelBefore(b, webBridgeStart(b, i+k)); ok && isWebBridgeTag(tag) {
			kind = malformedWebBridge
		}
		i += k + 1
	}
	for i := 0; i < len(b) && kind == ""; {
		k := bytes.Index(b[i:], markCallBridge)
		if k < 0 {
			break
		}
		if _, ok := levelBefore(b, i+k); ok && callBridgeForm(b[i+k:]) >= 0 {
			kind = malformedCallBridge
		}
		i += k + 1
	}
	if kind == "" {
		return Noise
	}
	out.Time, out.Host = h.t, h.host
	return malformed(out, kind, h.reason)
}

// webBridgeStart returns the offset of the "[DEBUG…]" that precedes the
// "Stats " marker at m, or -1.
func webBridgeStart(b []byte, m int) int {
	j := m
	for j > 0 && isSpace(b[j-1]) {
		j--
	}
	if j == m {
		return -1
	}
	for _, pre := range webBridgePrefixes {
		if bytes.HasSuffix(b[:j], pre) {
			return j - len(pre)
		}
	}
	return -1
}

// levelBefore reports whether b[:m] ends with "tag: LEVEL : " where tag is a
// whole token, and returns the tag without its ':'. A negative m is false.
func levelBefore(b []byte, m int) ([]byte, bool) {
	if m <= 0 {
		return nil, false
	}
	j := m
	for j > 0 && isSpace(b[j-1]) {
		j--
	}
	if j == m || j == 0 || b[j-1] != ':' {
		return nil, false
	}
	j--
	for j > 0 && isSpace(b[j-1]) {
		j--
	}
	e := j
	for j > 0 && b[j-1] >= 'A' && b[j-1] <= 'Z' {
		j--
	}
	if j == e || skipLevel(b, j) != m {
		return nil, false
	}
	e = j
	for j > 0 && isSpace(b[j-1]) {
		j--
	}
	if j == e || j == 0 || b[j-1] != ':' {
		return nil, false
	}
	tagEnd := j - 1
	for j > 0 && !isSpace(b[j-1]) {
		j--
	}
	if tagEnd == j {
		return nil, false
	}
	return b[j:tagEnd], true
}

// plausibleHost reports whether a sending host could be a real one: a name
// or address of letters, digits, '.', '-', '_' and ':' (IPv6). Anything
// else (control bytes, invalid UTF-8, spaces) would become a bridge name
// in metrics and on the page, so such a sample is rejected instead.
func plausibleHost(h []byte) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_', c == ':':
		default:
			return false
		}
	}
	return true
}

func malformed(out *Line, kind, reason string) Kind {
	out.Kind = Malformed
	out.MalformedKind = kind
	out.Reason = reason
	return Malformed
}

// trimEOL removes a trailing "\n", "\r\n" or "\r".
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

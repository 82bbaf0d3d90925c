package logline

import (
	"bytes"
	"time"
)

// Header failure reasons. They double as Malformed reasons, so they are a
// small fixed set that is safe as a metric label value.
const (
	reasonNoTimestamp = "header: no timestamp"
	reasonBadTime     = "header: bad timestamp"
	reasonNoYear      = "header: no reference time to infer the year"
	reasonNoHost      = "header: no hostname"
	reasonNoTag       = "header: no tag"
	reasonBadHost     = "header: implausible hostname"
)

// header is what the header walk found in a line.
type header struct {
	// t is the last timestamp before the tag; timeOK says it is valid.
	t      time.Time
	timeOK bool
	host   []byte
	// tag is the tag token without its trailing ':'.
	tag []byte
	// msg is the offset of the message text, after the tag and the level.
	msg int
	// reason is empty when the whole header parsed, else why it did not.
	reason string
}

// tsStatus says how far a timestamp scan got.
type tsStatus uint8

const (
	// tsNone: the bytes do not have the shape of a timestamp.
	tsNone tsStatus = iota
	// tsBad: the shape is right but a field is out of range.
	tsBad
	// tsNoYear: a year-less timestamp with no reference to infer the year.
	tsNoYear
	// tsOK: a valid timestamp.
	tsOK
)

// laterStamp reads the [<PRI>] timestamp at i that follows a receiver's
// header, if there is one: a valid one becomes h's time and next is the
// index after it; a bad one marks h's time bad, with the reason.
func (h *header) laterStamp(b []byte, i int, loc *time.Location) (next int, st tsStatus) {
	t, n, st := scanTimestamp(b, skipPRI(b, i), loc, h.t, false)
	switch st {
	case tsNone:
	case tsOK:
		h.t = t
		next = skipPRI(b, i) + n
	default:
		h.timeOK = false
		h.reason = tsReason(st)
	}
	return next, st
}

// parseHeader walks the syslog header of b:
//
//	[<PRI>] timestamp [fac.sev] host { [<PRI>] timestamp [fac.sev] host } tag
//
// A receiver that prepends its own header yields several timestamp/host
// groups; the last one, the device's own, wins. The year of a year-less
// timestamp is inferred from ref, and from then on from the previous
// timestamp of the same line.
func parseHeader(b []byte, loc *time.Location, ref time.Time, upper bool) (h header) {
	i := skipSpace(b, skipBOM(b))
	t, n, st := scanTimestamp(b, skipPRI(b, i), loc, ref, upper)
	if st != tsOK {
		h.reason = tsReason(st)
		return h
	}
	i = skipPRI(b, i) + n
	h.t, h.timeOK = t, true
	for {
		i = skipSpace(b, i)
		if j, ok := facSev(b, i); ok {
			i = skipSpace(b, j)
		}
		// Some receivers write no host of their own before the device's header.
		if next, st := h.laterStamp(b, i, loc); st != tsNone {
			if st != tsOK {
				return h
			}
			i = next
			continue
		}
		j := tokenEnd(b, i)
		if j == i || b[j-1] == ':' {
			h.reason = reasonNoHost
			return h
		}
		h.host = b[i:j:j]
		i = skipSpace(b, j)
		if next, st := h.laterStamp(b, i, loc); st != tsNone {
			// That host was a receiver's; the device's is still to come.
			h.host = nil
			if st != tsOK {
				return h
			}
			i = next
			continue
		}
		break
	}
	j := tokenEnd(b, i)
	if j-i < 2 || b[j-1] != ':' {
		h.reason = reasonNoTag
		return h
	}
	h.tag = b[i : j-1]
	// rsyslog's RFC 3164 parser ends the tag at the first colon, so its
	// default file formats write Cisco's "host:server:" as "host: server:".
	// Join the halves back, or every Call Bridge line would be noise.
	if string(h.tag) == "host" {
		k := skipSpace(b, j)
		if e := tokenEnd(b, k); string(b[k:e]) == "server:" {
			h.tag = b[i : j-1] // the tag is named by its first half
			j = e
		}
	}
	h.msg = skipLevel(b, skipSpace(b, j))
	return h
}

func tsReason(st tsStatus) string {
	switch st {
	case tsBad:
		return reasonBadTime
	case tsNoYear:
		return reasonNoYear
	}
	return reasonNoTimestamp
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// tokenEnd returns the end of the run of non-space bytes starting at i.
func tokenEnd(b []byte, i int) int {
	for i < len(b) && !isSpace(b[i]) {
		i++
	}
	return i
}

// skipBOM skips a UTF-8 byte order mark, which some files carry on their
// first line.
func skipBOM(b []byte) int {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return 3
	}
	return 0
}

// skipPRI skips a "<PRI>" prefix (1 to 3 digits) at i, as a syslog message
// received raw over the network carries.
func skipPRI(b []byte, i int) int {
	if i >= len(b) || b[i] != '<' {
		return i
	}
	j := i + 1
	for j < len(b) && j-i <= 3 && isDigit(b[j]) {
		j++
	}
	if j == i+1 || j >= len(b) || b[j] != '>' {
		return i
	}
	return j + 1
}

// digits returns the value of b[i:i+n] if all are ASCII digits.
func digits(b []byte, i, n int) (int, bool) {
	if i < 0 || i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// boundary reports whether a token may end at i.
func boundary(b []byte, i int) bool { return i == len(b) || isSpace(b[i]) }

// scanTimestamp parses the timestamp starting at b[i:]. It returns the time,
// the number of bytes it took and how far it got.
func scanTimestamp(b []byte, i int, loc *time.Location, ref time.Time, upper bool) (time.Time, int, tsStatus) {
	if i+4 <= len(b) && isDigit(b[i]) {
		return scanISO(b, i, loc)
	}
	return scanBSD(b, i, loc, ref, upper)
}

// clock parses "hh:mm:ss[.frac]" at i. It returns the end offset, or -1 when
// the shape is wrong; ok is false when a field is out of range.
func clock(b []byte, i int) (hh, mm, ss, ns, end int, ok bool) {
	h, ok1 := digits(b, i, 2)
	m, ok2 := digits(b, i+3, 2)
	s, ok3 := digits(b, i+6, 2)
	if !ok1 || !ok2 || !ok3 || b[i+2] != ':' || b[i+5] != ':' {
		return 0, 0, 0, 0, -1, false
	}
	end = i + 8
	if end < len(b) && b[end] == '.' {
		j := end + 1
		scale := 100_000_000
		for j < len(b) && isDigit(b[j]) {
			ns += int(b[j]-'0') * scale
			scale /= 10
			j++
		}
		if j == end+1 {
			return 0, 0, 0, 0, -1, false
		}
		end = j
	}
	return h, m, s, ns, end, h <= 23 && m <= 59 && s <= 59
}

// scanISO parses "YYYY-MM-DD(T| )hh:mm:ss[.frac][Z|±hh[[:]mm]]".
func scanISO(b []byte, i int, loc *time.Location) (time.Time, int, tsStatus) {
	y, ok1 := digits(b, i, 4)
	mo, ok2 := digits(b, i+5, 2)
	d, ok3 := digits(b, i+8, 2)
	if !ok1 || !ok2 || !ok3 || b[i+4] != '-' || b[i+7] != '-' || i+11 > len(b) ||
		(b[i+10] != 'T' && b[i+10] != ' ') {
		return time.Time{}, 0, tsNone
	}
	hh, mm, ss, ns, end, ok := clock(b, i+11)
	if end < 0 {
		return time.Time{}, 0, tsNone
	}
	off, hasZone := 0, false
	if end < len(b) {
		switch b[end] {
		case 'Z', 'z':
			hasZone = true
			end++
		case '+', '-':
			oh, okh := digits(b, end+1, 2)
			if !okh {
				return time.Time{}, 0, tsNone
			}
			om, j := 0, end+3
			if om2, ok := digits(b, j+1, 2); ok && j < len(b) && b[j] == ':' {
				om, j = om2, j+3
			} else if om2, ok := digits(b, j, 2); ok {
				om, j = om2, j+2
			}
			ok = ok && oh <= 23 && om <= 59
			off = (oh*60 + om) * 60
			if b[end] == '-' {
				off = -off
			}
			hasZone = true
			end = j
		}
	}
	if !boundary(b, end) {
		return time.Time{}, 0, tsNone
	}
	if !ok || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysIn(time.Month(mo), y) {
		return time.Time{}, 0, tsBad
	}
	var t time.Time
	if hasZone {
		t = time.Date(y, time.Month(mo), d, hh, mm, ss, ns, time.UTC).Add(-time.Duration(off) * time.Second).In(loc)
	} else {
		t = time.Date(y, time.Month(mo), d, hh, mm, ss, ns, loc)
	}
	return t, end - i, tsOK
}

// scanBSD parses "Mmm dd hh:mm:ss[.frac]" (day space- or zero-padded, or
// bare) and infers the year closest to ref or, when upper is set, the
// latest year that puts it no more than a day after ref.
func scanBSD(b []byte, i int, loc *time.Location, ref time.Time, upper bool) (time.Time, int, tsStatus) {
	if i+3 > len(b) {
		return time.Time{}, 0, tsNone
	}
	for _, c := range b[i : i+3] {
		if c|0x20 < 'a' || c|0x20 > 'z' {
			return time.Time{}, 0, tsNone
		}
	}
	j := i + 3
	if j >= len(b) || b[j] != ' ' {
		return time.Time{}, 0, tsNone
	}
	j = skipSpace(b, j)
	d, n := 0, 0
	for j < len(b) && isDigit(b[j]) && n < 2 {
		d = d*10 + int(b[j]-'0')
		j++
		n++
	}
	if n == 0 || j >= len(b) || b[j] != ' ' {
		return time.Time{}, 0, tsNone
	}
	j = skipSpace(b, j)
	hh, mm, ss, ns, end, ok := clock(b, j)
	if end < 0 || !boundary(b, end) {
		return time.Time{}, 0, tsNone
	}
	mo := month(b[i : i+3])
	if !ok || mo == 0 || d < 1 || d > 31 {
		return time.Time{}, 0, tsBad
	}
	if ref.IsZero() {
		return time.Time{}, 0, tsNoYear
	}
	r := ref.In(loc)
	var best time.Time
	var bestDist time.Duration = -1
	ry := r.Year()
	for y := ry - 1; y <= ry+1; y++ {
		if d > daysIn(mo, y) {
			continue
		}
		t := time.Date(y, mo, d, hh, mm, ss, ns, loc)
		dist := t.Sub(r)
		if upper {
			if dist > 24*time.Hour {
				continue
			}
		}
		if dist < 0 {
			dist = -dist
		}
		if bestDist < 0 || dist < bestDist {
			best, bestDist = t, dist
		}
	}
	if bestDist < 0 {
		// Feb 29 with no leap year within a year of ref.
		return time.Time{}, 0, tsBad
	}
	return best, end - i, tsOK
}

// month returns the month named by a three-letter English abbreviation in
// any case, or 0.
func month(b []byte) time.Month {
	var k [3]byte
	for i, c := range b[:3] {
		k[i] = c | 0x20
	}
	switch string(k[:]) {
	case "jan":
		return time.January
	case "feb":
		return time.February
	case "mar":
		return time.March
	case "apr":
		return time.April
	case "may":
		return time.May
	case "jun":
		return time.June
	case "jul":
		return time.July
	case "aug":
		return time.August
	case "sep":
		return time.September
	case "oct":
		return time.October
	case "nov":
		return time.November
	case "dec":
		return time.December
	}
	return 0
}

func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// facSev recognises a "facility.severity" token at i, in any case, and
// returns its end. Both halves must be standard syslog names, so that a
// dotted hostname such as cms1.example.com is not mistaken for one.
func facSev(b []byte, i int) (int, bool) {
	j := tokenEnd(b, i)
	tok := b[i:j]
	dot := bytes.IndexByte(tok, '.')
	if dot < 1 || dot == len(tok)-1 || len(tok) > 32 {
		return 0, false
	}
	var buf [32]byte
	for k, c := range tok {
		if c >= 'A' && c <= 'Z' {
			c |= 0x20
		}
		buf[k] = c
	}
	return j, isFacility(buf[:dot]) && isSeverity(buf[dot+1:len(tok)])
}

func isFacility(b []byte) bool {
	switch string(b) {
	case "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
		"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console",
		"clock", "local0", "local1", "local2", "local3", "local4", "local5",
		"local6", "local7", "mark":
		return true
	}
	return false
}

func isSeverity(b []byte) bool {
	switch string(b) {
	case "emerg", "emergency", "panic", "alert", "crit", "critical", "err",
		"error", "warning", "warn", "notice", "info", "informational", "debug":
		return true
	}
	return false
}

// skipLevel skips a padded level such as "INFO : " or "ERROR   : " at i and
// the spaces after it. A level is an upper-case word, spaces, a colon, then a
// space or the end of the line; a well-known level may omit the spaces
// ("INFO: "). Without a level it returns i.
func skipLevel(b []byte, i int) int {
	j := i
	for j < len(b) && b[j] >= 'A' && b[j] <= 'Z' {
		j++
	}
	if j == i || j-i > 16 {
		return i
	}
	k := skipSpace(b, j)
	if k == j && !isLevel(b[i:j]) {
		return i
	}
	if k >= len(b) || b[k] != ':' || !boundary(b, k+1) {
		return i
	}
	return skipSpace(b, k+1)
}

func isLevel(b []byte) bool {
	switch string(b) {
	case "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERR", "ERROR",
		"CRIT", "CRITICAL", "ALERT", "EMERG", "EMERGENCY", "FATAL":
		return true
	}
	return false
}

// isWebBridgeTag reports whether a tag (without its ':') names Web Bridge 2:
// webbridge, optionally double-quoted, optionally with a "[pid]" suffix.
func isWebBridgeTag(tag []byte) bool {
	if n := len(tag); n > 2 && tag[n-1] == ']' {
		if k := bytes.LastIndexByte(tag, '['); k > 0 {
			if _, ok := digits(tag, k+1, n-k-2); ok && n-k-2 > 0 {
				tag = tag[:k]
			}
		}
	}
	if n := len(tag); n >= 2 && tag[0] == '"' && tag[n-1] == '"' {
		tag = tag[1 : n-1]
	}
	return string(tag) == "webbridge"
}

package sim

import (
	"strconv"
	"time"
)

// severity is a syslog severity.
type severity uint8

const (
	sevErr     severity = 3
	sevWarning severity = 4
	sevInfo    severity = 6
)

// facility is a syslog facility.
type facility uint8

const (
	facUser   facility = 1
	facLocal0 facility = 16
)

var (
	facNames    = map[facility][2]string{facUser: {"user", "User"}, facLocal0: {"local0", "Local0"}}
	sevNames    = map[severity][2]string{sevErr: {"err", "Error"}, sevWarning: {"warning", "Warning"}, sevInfo: {"info", "Info"}}
	monthAbbrev = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// level is a CMS message level as printed after the tag.
type level uint8

const (
	lvlNone level = iota // cli and authp lines carry no level
	lvlInfo
	lvlWarning
	lvlError
)

func (l level) severity() severity {
	switch l {
	case lvlWarning:
		return sevWarning
	case lvlError:
		return sevErr
	}
	return sevInfo
}

var (
	levelPlain  = [...]string{"", "INFO :", "WARNING :", "ERROR :"}
	levelPadded = [...]string{"", "INFO    :", "WARNING :", "ERROR   :"}
)

// clock caches the civil fields of the last second a host printed, since
// consecutive lines of one host often share a second.
type clock struct {
	sec                  int64
	year, month, day     int
	hour, minute, second int
	valid                bool
	loc                  *time.Location
}

func (c *clock) set(ns int64) {
	sec := floorDiv(ns, 1e9)
	if c.valid && sec == c.sec {
		return
	}
	t := time.Unix(sec, 0).In(c.loc)
	y, m, d := t.Date()
	c.year, c.month, c.day = y, int(m), d
	c.hour, c.minute, c.second = t.Clock()
	c.sec, c.valid = sec, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func append3(b []byte, n int) []byte {
	return append(b, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
}

// appendBSD writes `Jan  6 04:25:44`.
func appendBSD(b []byte, c *clock) []byte {
	b = append(b, monthAbbrev[c.month-1]...)
	b = append(b, ' ')
	if c.day < 10 {
		b = append(b, ' ', byte('0'+c.day))
	} else {
		b = append2(b, c.day)
	}
	b = append(b, ' ')
	return appendHMS(b, c)
}

func appendHMS(b []byte, c *clock) []byte {
	b = append2(b, c.hour)
	b = append(b, ':')
	b = append2(b, c.minute)
	b = append(b, ':')
	return append2(b, c.second)
}

func appendDate(b []byte, c *clock) []byte {
	b = strconv.AppendInt(b, int64(c.year), 10)
	b = append(b, '-')
	b = append2(b, c.month)
	b = append(b, '-')
	return append2(b, c.day)
}

func millis(ns int64) int {
	m := ns % 1e9
	if m < 0 {
		m += 1e9
	}
	return int(m / 1e6)
}

// appendPad writes at least min spaces and enough to make the field that
// started at start width columns wide.
func appendPad(b []byte, start, width, min int) []byte {
	n := width - (len(b) - start)
	if n < min {
		n = min
	}
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

// appendHeader writes a host's header up to and including the hostname and
// the space before the tag. devNS is the host's clock, rcvNS the receiver's.
func appendHeader(b []byte, h *host, fac facility, sev severity, devNS, rcvNS int64) []byte {
	switch h.form.Header {
	case HeaderBSDMillis, HeaderBSD, HeaderISO:
		h.clock.set(devNS)
		if h.form.Header == HeaderISO {
			b = appendDate(b, &h.clock)
			b = append(b, 'T')
			b = appendHMS(b, &h.clock)
			b = append(b, '.')
			b = append3(b, millis(devNS))
		} else {
			b = appendBSD(b, &h.clock)
			if h.form.Header == HeaderBSDMillis {
				b = append(b, '.')
				b = append3(b, millis(devNS))
			}
		}
		b = append(b, ' ')
		b = append(b, facNames[fac][0]...)
		b = append(b, '.')
		b = append(b, sevNames[sev][0]...)
	case HeaderPRI:
		h.clock.set(devNS)
		b = append(b, '<')
		b = strconv.AppendInt(b, int64(fac)*8+int64(sev), 10)
		b = append(b, '>')
		b = appendBSD(b, &h.clock)
		b = append(b, ' ')
		b = append(b, facNames[fac][0]...)
		b = append(b, '.')
		b = append(b, sevNames[sev][0]...)
	case HeaderReceiver:
		h.rcvClock.set(rcvNS)
		start := len(b)
		b = appendDate(b, &h.rcvClock)
		b = append(b, ' ')
		b = appendHMS(b, &h.rcvClock)
		b = appendPad(b, start, 34, 1)
		start = len(b)
		b = append(b, facNames[fac][1]...)
		b = append(b, '.')
		b = append(b, sevNames[sev][1]...)
		b = appendPad(b, start, 11, 1)
		start = len(b)
		b = append(b, h.name...)
		b = appendPad(b, start, 25, 1)
		h.clock.set(devNS)
		b = appendBSD(b, &h.clock)
	}
	b = append(b, ' ')
	b = append(b, h.name...)
	return append(b, ' ')
}

// tag is a syslog tag a CMS host writes under.
type tag uint8

const (
	tagServer tag = iota
	tagWebBridge
	tagClientBackend
	tagCLI
	tagAuthp
)

var tagNames = [...]string{"host:server:", "webbridge:", "client_backend:", "cli:", "authp:"}

// appendTagLevel writes the tag, the spaces after it and, unless lvl is
// lvlNone, the level and one space.
func appendTagLevel(b []byte, h *host, t tag, lvl level) []byte {
	if t == tagWebBridge && h.form.QuotedTag {
		b = append(b, `"webbridge":`...)
	} else {
		b = append(b, tagNames[t]...)
	}
	b = append(b, ' ')
	if h.form.TwoSpaces {
		b = append(b, ' ')
	}
	if lvl == lvlNone {
		return b
	}
	if h.form.PadLevels {
		b = append(b, levelPadded[lvl]...)
	} else {
		b = append(b, levelPlain[lvl]...)
	}
	return append(b, ' ')
}

package syslogrecv

import "bytes"

// maxCountDigits bounds the octet count of RFC 6587 octet-counted framing.
// Ten digits hold any length a sender could mean; a longer run of digits is
// not a count and the frame falls back to newline framing.
const maxCountDigits = 10

type framerState uint8

const (
	stStart      framerState = iota // between frames
	stCount                         // reading the digits of an octet count
	stOctets                        // reading the body of an octet-counted frame
	stSkipOctets                    // discarding the body of a too-large octet-counted frame
	stLine                          // reading a newline-framed message
	stSkipLine                      // discarding the rest of a too-large line
)

// frame is one framing result: a message, or a rejection reason.
type frame struct {
	// data is the message without framing or trailing CR/LF/NUL. It aliases
	// the framer's buffer or the fed bytes and is valid only during emit.
	data []byte
	// reject is empty for a message, else one of the Reason constants.
	reject string
}

// framer splits an RFC 6587 TCP syslog stream into messages. It is pure: it
// takes bytes and emits frames, with no I/O, and it holds at most
// max+maxCountDigits bytes whatever it is fed.
//
// Each frame's framing is detected from its first byte, as rsyslog does:
//   - '1'..'9' starts an octet-counted frame "LEN SP MSG". If the digits are
//     not followed by a space (a line such as "2024-03-06T09:34:45 ..."), the
//     frame is read as a newline-framed line that begins with those digits.
//   - LF, CR and NUL between frames are skipped.
//   - Anything else starts a line ended by LF or NUL; one CR before the LF
//     is dropped.
//
// A frame longer than max is reported as ReasonTooLarge once: an
// octet-counted one is skipped by its length, a line up to its terminator,
// after which framing resumes.
type framer struct {
	max   int
	state framerState
	// buf holds a partial message (or the digits of a partial count).
	buf []byte
	// count is the octet count being parsed; remaining is what is left to
	// read or skip of the current octet-counted frame.
	count     int64
	remaining int64
}

func newFramer(max int) *framer {
	return &framer{max: max, buf: make([]byte, 0, max+1)}
}

// inFrame reports whether the framer is inside a frame: part of a message
// (or of one being skipped) has arrived and its end has not.
func (f *framer) inFrame() bool { return f.state != stStart }

// buffered returns how many bytes the framer holds between feeds.
func (f *framer) buffered() int { return len(f.buf) }

// feed consumes all of p, calling emit for every frame it completes.
func (f *framer) feed(p []byte, emit func(frame)) {
	for len(p) > 0 {
		switch f.state {
		case stStart:
			p = f.start(p)
		case stCount:
			p = f.readCount(p, emit)
		case stOctets:
			p = f.readOctets(p, emit)
		case stSkipOctets:
			n := min(f.remaining, int64(len(p)))
			f.remaining -= n
			p = p[n:]
			if f.remaining == 0 {
				f.state = stStart
			}
		case stLine:
			p = f.readLine(p, emit)
		case stSkipLine:
			i := indexTerminator(p)
			if i < 0 {
				return
			}
			p = p[i+1:]
			f.state = stStart
		}
	}
}

// close ends the stream: an unterminated line is emitted as a message, a
// truncated octet-counted frame is reported as ReasonBadFrame. The framer
// is then ready for a new stream.
func (f *framer) close(emit func(frame)) {
	switch f.state {
	case stCount, stLine:
		// An unterminated line, or digits never followed by a space,
		// ends with the stream.
		switch {
		case len(f.buf) == 0:
		case f.lineTooLong(len(f.buf), f.buf[len(f.buf)-1]):
			emit(frame{reject: ReasonTooLarge})
		default:
			emit(frame{data: trimTrailer(f.buf)})
		}
	case stOctets:
		emit(frame{reject: ReasonBadFrame})
	}
	f.state = stStart
	f.buf = f.buf[:0]
	f.count, f.remaining = 0, 0
}

func (f *framer) start(p []byte) []byte {
	switch c := p[0]; {
	case c == '\n' || c == '\r' || c == 0:
		return p[1:]
	case '1' <= c && c <= '9':
		f.state = stCount
		f.count = 0
	default:
		f.state = stLine
	}
	f.buf = f.buf[:0]
	return p
}

func (f *framer) readCount(p []byte, emit func(frame)) []byte {
	i := 0
	for ; i < len(p) && len(f.buf) < maxCountDigits && '0' <= p[i] && p[i] <= '9'; i++ {
		f.count = f.count*10 + int64(p[i]-'0')
		f.buf = append(f.buf, p[i])
	}
	if i == len(p) {
		return nil
	}
	if p[i] != ' ' {
		// Not an octet count: the digits begin a line.
		f.state = stLine
		return p[i:]
	}
	f.buf = f.buf[:0]
	if f.count > int64(f.max) {
		emit(frame{reject: ReasonTooLarge})
		f.state = stSkipOctets
	} else {
		f.state = stOctets
	}
	f.remaining = f.count
	return p[i+1:]
}

func (f *framer) readOctets(p []byte, emit func(frame)) []byte {
	n := min(f.remaining, int64(len(p)))
	if len(f.buf) == 0 && n == f.remaining {
		// The whole body is in p: emit it without copying.
		f.finishOctets(p[:n], emit)
		return p[n:]
	}
	f.buf = append(f.buf, p[:n]...)
	f.remaining -= n
	if f.remaining == 0 {
		f.finishOctets(f.buf, emit)
	}
	return p[n:]
}

func (f *framer) finishOctets(body []byte, emit func(frame)) {
	emit(frame{data: trimTrailer(body)})
	f.state = stStart
	f.buf = f.buf[:0]
	f.remaining = 0
}

func (f *framer) readLine(p []byte, emit func(frame)) []byte {
	i := indexTerminator(p)
	if i < 0 {
		if f.lineTooLong(len(f.buf)+len(p), p[len(p)-1]) {
			emit(frame{reject: ReasonTooLarge})
			f.buf = f.buf[:0]
			f.state = stSkipLine
			return nil
		}
		f.buf = append(f.buf, p...)
		return nil
	}
	rest := p[i+1:]
	line := p[:i]
	last := byte(0)
	switch {
	case i > 0:
		last = line[i-1]
	case len(f.buf) > 0:
		last = f.buf[len(f.buf)-1]
	}
	switch {
	case f.lineTooLong(len(f.buf)+i, last):
		emit(frame{reject: ReasonTooLarge})
	case len(f.buf) == 0:
		// The whole line is in p: emit it without copying.
		emit(frame{data: trimTrailer(line)})
	default:
		f.buf = append(f.buf, line...)
		emit(frame{data: trimTrailer(f.buf)})
	}
	f.buf = f.buf[:0]
	f.state = stStart
	return rest
}

// lineTooLong reports whether a line of n bytes so far, the last being
// last, exceeds max. One trailing CR does not count, since a following LF
// makes it part of the terminator; the check is the same whether the line
// arrives whole or in pieces, so the buffer never exceeds max+1 bytes.
func (f *framer) lineTooLong(n int, last byte) bool {
	return n > f.max+1 || (n == f.max+1 && last != '\r')
}

// indexTerminator returns the index of the first LF or NUL in p, or -1.
func indexTerminator(p []byte) int {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		i = len(p)
	}
	if j := bytes.IndexByte(p[:i], 0); j >= 0 {
		return j
	}
	if i == len(p) {
		return -1
	}
	return i
}

// trimTrailer removes trailing CR, LF and NUL bytes.
func trimTrailer(p []byte) []byte {
	for len(p) > 0 {
		switch p[len(p)-1] {
		case '\r', '\n', 0:
			p = p[:len(p)-1]
		default:
			return p
		}
	}
	return p
}

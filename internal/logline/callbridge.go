package logline

import (
	"bytes"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds JSON nesting so that a hostile line cannot exhaust the stack.
const maxDepth = 32

// maxScratch is the largest scratch buffer a Parser keeps between lines.
const maxScratch = 4 << 10

// callBridgeForm returns the offset of '{' in msg when msg starts with the
// Call Bridge stats form "STATS:" [spaces] "{", else -1.
func callBridgeForm(msg []byte) int {
	if !bytes.HasPrefix(msg, markCallBridge) {
		return -1
	}
	i := skipSpace(msg, len(markCallBridge))
	if i < len(msg) && msg[i] == '{' {
		return i
	}
	return -1
}

// field identifies what a JSON value means, from its key and its parent.
type field uint8

const (
	fieldOther      field = iota // an unknown key: "a/b" strings go to Other
	fieldIgnore                  // inside an array: checked for syntax only
	fieldRoot                    // the top-level object
	fieldCMA                     // "CMA"
	fieldCallLegs                // "callLegs"
	fieldCallLegsPS              // "callLegsPS"
	fieldSIP                     // "sip"
	fieldSIPStd                  // "sip"."std"
	fieldSIPPeer                 // "sip"."peer"
)

// name is the field's label in Malformed reasons.
func (f field) name() string {
	switch f {
	case fieldCMA:
		return "CMA"
	case fieldCallLegs:
		return "callLegs"
	case fieldCallLegsPS:
		return "callLegsPS"
	case fieldSIP:
		return "sip"
	case fieldSIPStd:
		return "sip.std"
	case fieldSIPPeer:
		return "sip.peer"
	}
	return "other key"
}

// child returns the field of the member named key of an object that is f.
func (f field) child(key []byte) field {
	switch f {
	case fieldRoot:
		switch string(key) {
		case "CMA":
			return fieldCMA
		case "callLegs":
			return fieldCallLegs
		case "callLegsPS":
			return fieldCallLegsPS
		case "sip":
			return fieldSIP
		}
	case fieldSIP:
		switch string(key) {
		case "std":
			return fieldSIPStd
		case "peer":
			return fieldSIPPeer
		}
	case fieldIgnore:
		return fieldIgnore
	}
	return fieldOther
}

// cbScanner is a JSON scanner for the Call Bridge STATS object. It checks
// the whole text for syntax and decodes only what a CallBridge holds.
type cbScanner struct {
	b      []byte
	i      int
	cb     *CallBridge
	path   []byte // dotted name of the current value
	str    []byte // scratch for strings with escapes
	seen   [fieldSIPPeer + 1]bool
	reason string // a syntax error
	bad    string // the first error in meaning
}

// parseCallBridge parses the JSON object at the start of s, which must be
// followed by nothing but JSON whitespace. It returns a reason when the line is
// malformed.
func (p *Parser) parseCallBridge(s []byte, cb *CallBridge) string {
	sc := cbScanner{b: s, cb: cb, path: p.path[:0], str: p.str[:0]}
	ok := sc.object(fieldRoot, 1)
	// Keep the scratch buffers for the next line unless one odd line grew
	// them far beyond what a real STATS line needs.
	if cap(sc.path) <= maxScratch && cap(sc.str) <= maxScratch {
		p.path, p.str = sc.path[:0], sc.str[:0]
	} else {
		p.path, p.str = nil, nil
	}
	if !ok {
		return sc.reason
	}
	if sc.skipWS(); sc.i != len(s) {
		return "trailing data after JSON object"
	}
	if sc.bad != "" {
		return sc.bad
	}
	if !sc.seen[fieldCMA] {
		return "no CMA key"
	}
	switch {
	case sc.seen[fieldSIPStd] && sc.seen[fieldSIPPeer]:
		cb.HasSIP = true
	case sc.seen[fieldSIPStd]:
		sc.other("sip.std", cb.SIPStd)
		cb.SIPStd = Pair{}
	case sc.seen[fieldSIPPeer]:
		sc.other("sip.peer", cb.SIPPeer)
		cb.SIPPeer = Pair{}
	}
	return sc.bad
}

// stop records a syntax error, which ends the scan.
func (sc *cbScanner) stop(reason string) bool {
	sc.reason = reason
	return false
}

// reject records the first error in what a value means. The scan goes on,
// so that an invalid or truncated line is reported as such: a cut-off line
// is a more useful reason than whatever its last value seems to say.
func (sc *cbScanner) reject(reason string) bool {
	if sc.bad == "" {
		sc.bad = reason
	}
	return true
}

func (sc *cbScanner) invalid(what string) bool {
	if sc.i >= len(sc.b) {
		return sc.stop("invalid JSON: truncated")
	}
	return sc.stop("invalid JSON: " + what)
}

func (sc *cbScanner) skipWS() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// object scans an object whose '{' is at sc.i.
func (sc *cbScanner) object(f field, depth int) bool {
	if depth > maxDepth {
		return sc.stop("invalid JSON: nested too deeply")
	}
	sc.i++
	sc.skipWS()
	if sc.i < len(sc.b) && sc.b[sc.i] == '}' {
		sc.i++
		return true
	}
	for {
		if sc.i >= len(sc.b) || sc.b[sc.i] != '"' {
			return sc.invalid("expected a key")
		}
		key, ok := sc.string()
		if !ok {
			return false
		}
		n := len(sc.path)
		if n > 0 {
			sc.path = append(sc.path, '.')
		}
		sc.path = append(sc.path, key...)
		sc.skipWS()
		if sc.i >= len(sc.b) || sc.b[sc.i] != ':' {
			return sc.invalid("expected ':'")
		}
		sc.i++
		sc.skipWS()
		if !sc.value(f.child(key), depth) {
			return false
		}
		sc.path = sc.path[:n]
		if end, ok := sc.next('}', "expected ',' or '}'"); end || !ok {
			return ok
		}
	}
}

// array scans an array whose '[' is at sc.i. Its elements are not decoded.
func (sc *cbScanner) array(depth int) bool {
	if depth > maxDepth {
		return sc.stop("invalid JSON: nested too deeply")
	}
	sc.i++
	sc.skipWS()
	if sc.i < len(sc.b) && sc.b[sc.i] == ']' {
		sc.i++
		return true
	}
	for {
		if !sc.value(fieldIgnore, depth) {
			return false
		}
		if end, ok := sc.next(']', "expected ',' or ']'"); end || !ok {
			return ok
		}
	}
}

// next consumes what follows a member or element: ',' before another one,
// or close, which ends the container (end). ok is false for invalid JSON.
func (sc *cbScanner) next(close byte, expected string) (end, ok bool) {
	sc.skipWS()
	if sc.i >= len(sc.b) {
		return false, sc.invalid("")
	}
	switch sc.b[sc.i] {
	case ',':
		sc.i++
		sc.skipWS()
		return false, true
	case close:
		sc.i++
		return true, true
	}
	return false, sc.invalid(expected)
}

// value scans the value at sc.i, which means f, inside an object or array
// at depth.
func (sc *cbScanner) value(f field, depth int) bool {
	if sc.i >= len(sc.b) {
		return sc.invalid("")
	}
	if f >= fieldCMA {
		if sc.seen[f] {
			sc.reject("duplicate key " + f.name())
			f = fieldIgnore
		} else {
			sc.seen[f] = true
		}
	}
	c := sc.b[sc.i]
	switch {
	case c == '{':
		switch {
		case f == fieldSIP || f == fieldIgnore:
		case f >= fieldCMA:
			sc.reject(f.name() + ": wrong type")
			f = fieldIgnore
		default:
			f = fieldOther
		}
		return sc.object(f, depth+1)
	case c == '[':
		if f >= fieldCMA {
			sc.reject(f.name() + ": wrong type")
		}
		return sc.array(depth + 1)
	case c == '"':
		s, ok := sc.string()
		if !ok {
			return false
		}
		return sc.stringValue(f, s)
	case c == '-' || isDigit(c):
		num, ok := sc.number()
		if !ok {
			return false
		}
		if f == fieldCallLegsPS {
			return sc.rate(num)
		}
		if f >= fieldCMA {
			return sc.reject(f.name() + ": wrong type")
		}
		return true
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(sc.b[sc.i:], []byte(lit)) {
			sc.i += len(lit)
			if f >= fieldCMA {
				return sc.reject(f.name() + ": wrong type")
			}
			return true
		}
	}
	return sc.invalid("unexpected character")
}

// stringValue handles a decoded string value s that means f.
func (sc *cbScanner) stringValue(f field, s []byte) bool {
	var dst *Pair
	switch f {
	case fieldCMA:
		dst = &sc.cb.CMA
	case fieldCallLegs:
		dst = &sc.cb.CallLegs
		sc.cb.HasCallLegs = true
	case fieldSIPStd:
		dst = &sc.cb.SIPStd
	case fieldSIPPeer:
		dst = &sc.cb.SIPPeer
	case fieldOther:
		if !looksLikePair(s) {
			return true
		}
		pair, reason := parsePair(s)
		if reason != "" {
			return sc.reject("other key: " + reason)
		}
		return sc.other(string(sc.path), pair)
	case fieldIgnore:
		return true
	default:
		return sc.reject(f.name() + ": wrong type")
	}
	pair, reason := parsePair(s)
	if reason == "" && pair.Peak < pair.Current {
		reason = "peak below current"
	}
	if reason != "" {
		return sc.reject(f.name() + ": " + reason)
	}
	*dst = pair
	return true
}

// other records pair under name in Other.
func (sc *cbScanner) other(name string, pair Pair) bool {
	if _, dup := sc.cb.Other[name]; dup {
		return sc.reject("duplicate key")
	}
	if sc.cb.Other == nil {
		sc.cb.Other = make(map[string]Pair)
	}
	sc.cb.Other[name] = pair
	return true
}

// rate decodes callLegsPS from its JSON number text.
func (sc *cbScanner) rate(num []byte) bool {
	if num[0] == '-' {
		return sc.reject("callLegsPS: negative number")
	}
	v, end, tooBig := decimal(num, 0)
	f := float64(v)
	if end != len(num) {
		var err error
		f, err = strconv.ParseFloat(string(num), 64)
		tooBig = err != nil // the grammar is checked, so only a range error
	}
	if tooBig || f > MaxValue {
		return sc.reject("callLegsPS: number too large")
	}
	sc.cb.CallLegsPS, sc.cb.HasCallLegsPS = f, true
	return true
}

// number scans a JSON number and returns its text.
func (sc *cbScanner) number() ([]byte, bool) {
	b, start := sc.b, sc.i
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		sc.i = i
		return nil, sc.invalid("bad number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			sc.i = i
			return nil, sc.invalid("bad number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			sc.i = i
			return nil, sc.invalid("bad number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	sc.i = i
	return b[start:i], true
}

// string scans the string whose '"' is at sc.i and returns its decoded
// bytes. They alias the input, or sc.str when the string has escapes, and
// are valid until the next call.
func (sc *cbScanner) string() ([]byte, bool) {
	b := sc.b
	start := sc.i + 1
	i := start
	for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i] >= 0x20 {
		i++
	}
	if i < len(b) && b[i] == '"' {
		sc.i = i + 1
		return b[start:i], true
	}
	sc.str = append(sc.str[:0], b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			sc.i = i + 1
			return sc.str, true
		case c < 0x20:
			sc.i = i
			return nil, sc.invalid("control character in string")
		case c != '\\':
			sc.str = append(sc.str, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch e := b[i+1]; e {
		case '"', '\\', '/':
			sc.str = append(sc.str, e)
		case 'b':
			sc.str = append(sc.str, '\b')
		case 'f':
			sc.str = append(sc.str, '\f')
		case 'n':
			sc.str = append(sc.str, '\n')
		case 'r':
			sc.str = append(sc.str, '\r')
		case 't':
			sc.str = append(sc.str, '\t')
		case 'u':
			r, n := unicodeEscape(b[i:])
			if n == 0 {
				sc.i = i
				return nil, sc.invalid("bad escape")
			}
			sc.str = utf8.AppendRune(sc.str, r)
			i += n
			continue
		default:
			sc.i = i
			return nil, sc.invalid("bad escape")
		}
		i += 2
	}
	sc.i = len(b)
	return nil, sc.invalid("")
}

// unicodeEscape decodes "\uXXXX" (or a surrogate pair of two) at the start
// of b. It returns the rune and the bytes taken, 0 if malformed. A lone
// surrogate decodes to U+FFFD, as encoding/json does.
func unicodeEscape(b []byte) (rune, int) {
	r, ok := hex4(b)
	if !ok {
		return 0, 0
	}
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if r2, ok := hex4(b[6:]); ok {
		if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
			return d, 12
		}
	}
	return utf8.RuneError, 6
}

// hex4 decodes the XXXX of "\uXXXX" at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// looksLikePair reports whether s has the shape of a "current/peak" value:
// two optionally negative decimals around one '/'.
func looksLikePair(s []byte) bool {
	k := bytes.IndexByte(s, '/')
	return k >= 0 && isDecimal(s[:k]) && isDecimal(s[k+1:])
}

func isDecimal(s []byte) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// parsePair parses "current/peak" with both in [0, MaxValue]. It returns a
// reason when s is not such a pair.
func parsePair(s []byte) (Pair, string) {
	k := bytes.IndexByte(s, '/')
	if k < 0 {
		return Pair{}, "missing slash"
	}
	var p Pair
	for n, part := range [2][]byte{s[:k], s[k+1:]} {
		neg := len(part) > 0 && part[0] == '-'
		if neg {
			part = part[1:]
		}
		v, end, tooBig := decimal(part, 0)
		switch {
		case end == 0 || end != len(part):
			return Pair{}, "not a number"
		case neg:
			return Pair{}, "negative number"
		case tooBig:
			return Pair{}, "number too large"
		}
		if n == 0 {
			p.Current = v
		} else {
			p.Peak = v
		}
	}
	return p, ""
}

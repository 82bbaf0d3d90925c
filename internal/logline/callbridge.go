package logline

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// maxDepth bounds JSON nesting. encoding/json allows 10,000 levels; a STATS
// object has two, so anything deeper is not a Call Bridge's.
const maxDepth = 32

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
func (f field) child(key string) field {
	switch f {
	case fieldRoot:
		switch key {
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
		switch key {
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

// errTooDeep ends a scan that passed maxDepth.
var errTooDeep = errors.New("nested too deeply")

// cbDecoder reads the STATS object as encoding/json's token stream, which
// checks the whole text for syntax, and keeps what a CallBridge holds. It
// adds what encoding/json cannot say: which keys are known, duplicates,
// and the range of every "current/peak" value.
type cbDecoder struct {
	dec  *json.Decoder
	cb   *CallBridge
	seen [fieldSIPPeer + 1]bool
	bad  string // the first error in meaning
}

// parseCallBridge parses the JSON object at the start of s, which must be
// followed by nothing but JSON whitespace. It returns a reason when the line
// is malformed. A syntax error is reported before an error in meaning, so a
// cut-off line says "truncated" rather than whatever its last value seems
// to say.
func (p *Parser) parseCallBridge(s []byte, cb *CallBridge) string {
	d := cbDecoder{dec: json.NewDecoder(bytes.NewReader(s)), cb: cb}
	d.dec.UseNumber()
	tok, err := d.dec.Token()
	if err == nil {
		err = d.value(fieldRoot, "", 0, tok)
	}
	if err != nil {
		return syntaxReason(err)
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return "trailing data after JSON object"
	}
	if d.bad != "" {
		return d.bad
	}
	if !d.seen[fieldCMA] {
		return "no CMA key"
	}
	switch {
	case d.seen[fieldSIPStd] && d.seen[fieldSIPPeer]:
		cb.HasSIP = true
	case d.seen[fieldSIPStd]:
		d.other("sip.std", cb.SIPStd)
		cb.SIPStd = Pair{}
	case d.seen[fieldSIPPeer]:
		d.other("sip.peer", cb.SIPPeer)
		cb.SIPPeer = Pair{}
	}
	return d.bad
}

// syntaxReason names a syntax error by its type, never by another
// library's wording; the decoder's own text follows for the log.
func syntaxReason(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, errTooDeep):
		return "invalid JSON: nested too deeply"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: truncated"
	case errors.As(err, &se):
		return "invalid JSON: " + se.Error()
	}
	return "invalid JSON"
}

// reject records the first error in what a value means. The scan goes on,
// so that a later syntax error still wins.
func (d *cbDecoder) reject(reason string) {
	if d.bad == "" {
		d.bad = reason
	}
}

// value handles the value that starts with tok and means f. name is its
// dotted key path; depth counts the containers around it.
func (d *cbDecoder) value(f field, name string, depth int, tok json.Token) error {
	if f >= fieldCMA {
		if d.seen[f] {
			d.reject("duplicate key " + f.name())
			f = fieldIgnore
		} else {
			d.seen[f] = true
		}
	}
	switch v := tok.(type) {
	case json.Delim:
		if depth+1 > maxDepth {
			return errTooDeep
		}
		if v == '[' {
			if f >= fieldCMA {
				d.reject(f.name() + ": wrong type")
			}
			return d.array(depth + 1)
		}
		switch {
		case f == fieldRoot || f == fieldSIP || f == fieldIgnore:
		case f >= fieldCMA:
			d.reject(f.name() + ": wrong type")
			f = fieldIgnore
		default:
			f = fieldOther
		}
		return d.object(f, name, depth+1)
	case string:
		d.stringValue(f, name, v)
	case json.Number:
		switch {
		case f == fieldCallLegsPS:
			d.rate(v)
		case f >= fieldCMA:
			d.reject(f.name() + ": wrong type")
		}
	default: // true, false, null
		if f >= fieldCMA {
			d.reject(f.name() + ": wrong type")
		}
	}
	return nil
}

// object reads the members of an object whose '{' was just read.
func (d *cbDecoder) object(f field, prefix string, depth int) error {
	for {
		tok, err := d.dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok { // the closing '}': encoding/json allows nothing else here
			return nil
		}
		name := key
		if prefix != "" {
			name = prefix + "." + key
		}
		if tok, err = d.dec.Token(); err != nil {
			return err
		}
		if err := d.value(f.child(key), name, depth, tok); err != nil {
			return err
		}
	}
}

// array reads, for syntax only, the elements of an array whose '[' was
// just read.
func (d *cbDecoder) array(depth int) error {
	for {
		tok, err := d.dec.Token()
		if err != nil {
			return err
		}
		if tok == json.Delim(']') {
			return nil
		}
		if err := d.value(fieldIgnore, "", depth, tok); err != nil {
			return err
		}
	}
}

// stringValue handles a string value s that means f.
func (d *cbDecoder) stringValue(f field, name, s string) {
	var dst *Pair
	switch f {
	case fieldCMA:
		dst = &d.cb.CMA
	case fieldCallLegs:
		dst = &d.cb.CallLegs
		d.cb.HasCallLegs = true
	case fieldSIPStd:
		dst = &d.cb.SIPStd
	case fieldSIPPeer:
		dst = &d.cb.SIPPeer
	case fieldOther:
		if !looksLikePair(s) {
			return
		}
		pair, reason := parsePair(s)
		if reason != "" {
			d.reject("other key: " + reason)
			return
		}
		d.other(name, pair)
		return
	case fieldIgnore:
		return
	default:
		d.reject(f.name() + ": wrong type")
		return
	}
	pair, reason := parsePair(s)
	if reason == "" && pair.Peak < pair.Current {
		reason = "peak below current"
	}
	if reason != "" {
		d.reject(f.name() + ": " + reason)
		return
	}
	*dst = pair
}

// other records pair under name in Other.
func (d *cbDecoder) other(name string, pair Pair) {
	if _, dup := d.cb.Other[name]; dup {
		d.reject("duplicate key")
		return
	}
	if d.cb.Other == nil {
		d.cb.Other = make(map[string]Pair)
	}
	d.cb.Other[name] = pair
}

// rate decodes callLegsPS.
func (d *cbDecoder) rate(num json.Number) {
	if num[0] == '-' {
		d.reject("callLegsPS: negative number")
		return
	}
	f, err := num.Float64()
	if err != nil || f > MaxValue { // the grammar is checked: only a range error
		d.reject("callLegsPS: number too large")
		return
	}
	d.cb.CallLegsPS, d.cb.HasCallLegsPS = f, true
}

// looksLikePair reports whether s has the shape of a "current/peak" value:
// two optionally negative decimals around one '/'.
func looksLikePair(s string) bool {
	a, b, ok := cutSlash(s)
	return ok && isDecimal(a) && isDecimal(b)
}

func cutSlash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func isDecimal(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// parsePair parses "current/peak" with both in [0, MaxValue]. It returns a
// reason when s is not such a pair.
func parsePair(s string) (Pair, string) {
	a, b, ok := cutSlash(s)
	if !ok {
		return Pair{}, "missing slash"
	}
	var p Pair
	for n, part := range [2]string{a, b} {
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

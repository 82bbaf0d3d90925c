package replay

import (
	"bytes"
	"maps"
	"time"

	"github.com/leakwatch/leakwatch/internal/logline"
)

// A replay has no arrival times: its "now" is the stream's own time, the
// newest log time seen. A line stamped far ahead (a sender's broken clock, a
// forged line) must not move it, or every other component would look stale
// and the policy would act on a made-up moment. And a real gap in the logs
// (a sender or the syslog server down for an hour) must move it.
//
// So a stats line more than the model's FutureTolerance ahead of "now" is
// held back. The next line decides. If it is from another host (or the
// stream has had only one host) and stamped within FutureTolerance of the
// held line or later, the stream really moved on: "now" jumps, and both are
// applied. Otherwise the held line stayed alone ahead of the stream: it is
// given to the model at the old "now", which rejects it as future-stamped.
// The last line of a read chunk that is not a stats line can confirm a held
// line, or refute it, but moves "now" by no more than the tolerance itself.
// A line still held at the end of the input is accepted if it is within one
// report period of the stream, and rejected otherwise. Only the lines of
// hosts the model counts take part: an unlisted or ignored host's line moves
// "now" by no more than the tolerance, and never confirms a jump.
type streamClock struct {
	tolerance time.Duration
	period    time.Duration // the model's PeakWindow
	held      *logline.Line
	firstHost string
	multiHost bool // a second host has been seen
}

// sample times and applies one stats line.
func (r *Replayer) sample(l *logline.Line) {
	c := &r.clock
	if !r.model.Counts(l.Host, l.Kind) {
		// A host outside the sums (unlisted, ignored) neither holds,
		// confirms nor refutes a jump: two lab servers a day ahead would
		// otherwise move "now" a day and leave every listed bridge stale.
		// Ahead of the stream, it is rejected as future-stamped.
		if r.now.IsZero() || !l.Time.After(r.now.Add(c.tolerance)) {
			r.advance(l.Time)
		}
		r.apply(l)
		return
	}
	switch {
	case c.firstHost == "":
		c.firstHost = string(l.Host)
	case !c.multiHost && string(l.Host) != c.firstHost: // no allocation
		c.multiHost = true
	}
	ahead := !r.now.IsZero() && l.Time.After(r.now.Add(c.tolerance))
	if h := c.held; h != nil {
		c.held = nil
		otherHost := !c.multiHost || !bytes.Equal(l.Host, h.Host)
		if ahead && otherHost && !l.Time.Before(h.Time.Add(-c.tolerance)) {
			r.advance(h.Time)
			r.apply(h)
			ahead = l.Time.After(r.now.Add(c.tolerance))
		} else {
			r.apply(h) // rejected: it arrives at the old "now"
		}
	}
	if ahead {
		c.held = clone(l)
		return
	}
	r.advance(l.Time)
	r.apply(l)
}

// tick times the last line of a read chunk, a line that is not a stats line.
func (r *Replayer) tick(t time.Time) {
	c := &r.clock
	ahead := !r.now.IsZero() && t.After(r.now.Add(c.tolerance))
	if h := c.held; h != nil {
		c.held = nil
		if ahead && !t.Before(h.Time.Add(-c.tolerance)) {
			r.advance(h.Time)
		}
		r.apply(h)
		ahead = t.After(r.now.Add(c.tolerance))
	}
	if !ahead {
		r.advance(t)
	}
}

// settle decides a line still held at the end of an input, where no later
// line can confirm it. Within one report period of the stream it is taken as
// the sparse stream's next line (a Call Bridge reports every peak_window, so
// such gaps are normal); further ahead it is rejected.
func (r *Replayer) settle() {
	h := r.clock.held
	if h == nil {
		return
	}
	r.clock.held = nil
	if !h.Time.After(r.now.Add(r.clock.period)) {
		r.advance(h.Time)
	}
	r.apply(h)
}

func (r *Replayer) advance(t time.Time) {
	if t.After(r.now) {
		r.now = t
	}
}

// clone copies l out of the read buffer.
func clone(l *logline.Line) *logline.Line {
	c := *l
	c.Host = append([]byte(nil), l.Host...)
	c.CallBridge.Other = maps.Clone(l.CallBridge.Other)
	return &c
}

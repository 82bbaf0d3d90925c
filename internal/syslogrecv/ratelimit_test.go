package syslogrecv

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestLogLimiterOneLinePerInterval(t *testing.T) {
	t0 := time.Date(2024, 3, 6, 9, 0, 0, 0, time.UTC)
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("192.0.2.2")
	l := newLogLimiter(time.Minute, 10)
	type step struct {
		key            netip.Addr
		at             time.Duration
		wantOK         bool
		wantSuppressed uint64
	}
	steps := []step{
		{a, 0, true, 0},
		{a, time.Second, false, 0},
		{a, 59 * time.Second, false, 0},
		{b, 59 * time.Second, true, 0}, // sources are limited independently
		{a, time.Minute, true, 2},
		{a, time.Minute + time.Second, false, 0},
		{a, 3 * time.Minute, true, 1},
		{a, 5 * time.Minute, true, 0},
	}
	for i, s := range steps {
		ok, key, suppressed := l.allow(s.key, ReasonTooLarge, t0.Add(s.at))
		if ok != s.wantOK || suppressed != s.wantSuppressed || key != s.key {
			t.Errorf("step %d: allow(%v, +%v) = %v, %v, %d; want %v, %v, %d",
				i, s.key, s.at, ok, key, suppressed, s.wantOK, s.key, s.wantSuppressed)
		}
	}
}

func TestLogLimiterCapsKeys(t *testing.T) {
	t0 := time.Date(2024, 3, 6, 9, 0, 0, 0, time.UTC)
	l := newLogLimiter(time.Minute, 3)
	var logged int
	for i := range 1000 {
		src := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		if ok, _, _ := l.allow(src, ReasonSourceNotAllowed, t0); ok {
			logged++
		}
	}
	// Three sources get a line each, then every other source shares the
	// "other" key, which gets one line.
	if logged != 4 {
		t.Errorf("logged %d lines for a 1000-source flood, want 4", logged)
	}
	if len(l.entries) != 4 {
		t.Errorf("tracking %d keys, want 3 sources + other", len(l.entries))
	}
	ok, key, _ := l.allow(netip.MustParseAddr("10.9.9.9"), ReasonSourceNotAllowed, t0)
	if ok || key != limiterOther {
		t.Errorf("new source with full table: allow = %v, key %v; want false, other", ok, key)
	}
}

func TestLogLimiterFlush(t *testing.T) {
	t0 := time.Date(2024, 3, 6, 9, 0, 0, 0, time.UTC)
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("2001:db8::1")
	l := newLogLimiter(time.Minute, 10)
	l.allow(a, ReasonTooLarge, t0)
	l.allow(a, ReasonTooLarge, t0.Add(time.Second))
	l.allow(a, ReasonBadPRI, t0.Add(2*time.Second))
	l.allow(b, ReasonTooLarge, t0)

	if got := l.flush(t0.Add(30 * time.Second)); len(got) != 0 {
		t.Errorf("flush inside the interval = %v, want nothing", got)
	}
	got := l.flush(t0.Add(time.Minute))
	want := []limiterSummary{{key: a, suppressed: 2, reason: ReasonBadPRI}}
	if !slices.Equal(got, want) {
		t.Errorf("flush after the interval = %v, want %v", got, want)
	}
	if _, ok := l.entries[b]; ok {
		t.Errorf("quiet source %v still tracked after an interval", b)
	}
	// a's summary counts as its line: the next event within the interval
	// is suppressed, and a quiet interval later a is forgotten.
	if ok, _, _ := l.allow(a, ReasonTooLarge, t0.Add(time.Minute+time.Second)); ok {
		t.Error("event right after a summary was logged")
	}
	l.flush(t0.Add(2*time.Minute + time.Second))
	if got := l.flush(t0.Add(4 * time.Minute)); len(got) != 0 || len(l.entries) != 0 {
		t.Errorf("after quiet intervals: summaries %v, %d entries; want none", got, len(l.entries))
	}
}

package syslogrecv

import (
	"net/netip"
	"time"
)

// limiterOther is the key that stands for every source once the limiter
// tracks maxKeys of them: the zero Addr, which no real source has.
var limiterOther netip.Addr

// logLimiter decides which rejections get a log line: at most one per key
// (source address) per interval, the next line carrying how many were
// suppressed in between. It tracks at most maxKeys keys, then folds new
// ones into limiterOther, so a spoofed-source flood cannot grow it. It is
// pure: callers pass the time and serialize calls.
type logLimiter struct {
	interval time.Duration
	maxKeys  int
	entries  map[netip.Addr]*limiterEntry
}

type limiterEntry struct {
	lastLogged time.Time
	suppressed uint64
	reason     string // of the latest suppressed event
}

// limiterSummary reports events suppressed for key since its last line.
type limiterSummary struct {
	key        netip.Addr
	suppressed uint64
	reason     string
}

func newLogLimiter(interval time.Duration, maxKeys int) *logLimiter {
	return &logLimiter{interval: interval, maxKeys: maxKeys, entries: make(map[netip.Addr]*limiterEntry)}
}

// allow records an event for key at now. It reports whether to log it, the
// key actually used (limiterOther when the table is full) and how many
// events of that key were suppressed since its previous line.
func (l *logLimiter) allow(key netip.Addr, reason string, now time.Time) (ok bool, usedKey netip.Addr, suppressed uint64) {
	e, found := l.entries[key]
	if !found && len(l.entries) >= l.maxKeys {
		key = limiterOther
		e, found = l.entries[key]
	}
	if !found {
		l.entries[key] = &limiterEntry{lastLogged: now}
		return true, key, 0
	}
	if now.Sub(e.lastLogged) < l.interval {
		e.suppressed++
		e.reason = reason
		return false, key, 0
	}
	suppressed = e.suppressed
	e.lastLogged, e.suppressed, e.reason = now, 0, ""
	return true, key, suppressed
}

// flush returns a summary for every key with suppressed events whose
// interval has passed, counting it as that key's line, and forgets keys
// that have been quiet for a whole interval.
func (l *logLimiter) flush(now time.Time) []limiterSummary {
	var out []limiterSummary
	for key, e := range l.entries {
		if now.Sub(e.lastLogged) < l.interval {
			continue
		}
		if e.suppressed == 0 {
			delete(l.entries, key)
			continue
		}
		out = append(out, limiterSummary{key: key, suppressed: e.suppressed, reason: e.reason})
		e.lastLogged, e.suppressed, e.reason = now, 0, ""
	}
	return out
}

package daemon

import (
	"sync"
	"time"
)

// rateLimiter allows one event per key per interval, so that a flood from
// one host cannot fill the log while a second host still gets its line. It
// tracks at most maxKeys keys; past that, every key shares one slot.
type rateLimiter struct {
	interval time.Duration
	maxKeys  int
	mu       sync.Mutex
	last     map[string]time.Time
}

func newRateLimiter(interval time.Duration, maxKeys int) *rateLimiter {
	return &rateLimiter{interval: interval, maxKeys: maxKeys, last: map[string]time.Time{}}
}

// allow reports whether an event for key at now may be logged.
func (r *rateLimiter) allow(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.last[key]; !ok && len(r.last) >= r.maxKeys {
		key = "" // the shared slot
	}
	if t, ok := r.last[key]; ok && now.Sub(t) < r.interval {
		return false
	}
	r.last[key] = now
	return true
}

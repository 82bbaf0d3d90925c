package mmp

import (
	"context"
	"strings"
	"sync"
	"time"
)

// pacer spaces connection openings to the same host at least min apart.
// MMP appliances have been reported to misbehave when SSH channels are
// opened in quick succession. Each Run or Probe opens one connection with
// at most one channel, so pacing connections paces channels too.
//
// Callers reserve a slot under the lock and sleep outside it, so
// concurrent callers for one host queue up min apart instead of racing.
type pacer struct {
	min   time.Duration
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu   sync.Mutex
	last map[string]time.Time // host -> start of the latest reserved opening
}

func newPacer(min time.Duration) *pacer {
	return &pacer{min: min, now: time.Now, sleep: sleepCtx, last: make(map[string]time.Time)}
}

// wait blocks until host may be contacted again and reserves that moment.
// It returns ctx's error if ctx ends first; the reserved slot then stays
// taken, which only errs on the side of slower.
func (p *pacer) wait(ctx context.Context, host string) error {
	if p.min <= 0 {
		return nil
	}
	host = strings.ToLower(host)
	p.mu.Lock()
	now := p.now()
	slot := now
	if last, ok := p.last[host]; ok && last.Add(p.min).After(now) {
		slot = last.Add(p.min)
	}
	p.last[host] = slot
	p.mu.Unlock()
	if d := slot.Sub(now); d > 0 {
		return p.sleep(ctx, d)
	}
	return nil
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

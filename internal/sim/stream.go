package sim

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Stream writes the log live, for `leakwatch demo`: at every tick it
// advances the simulation by step and writes the lines produced, each ending
// in a newline, to w in a single Write, so that a tailer never sees half a
// line. A step longer than the tick period accelerates time. The caller owns
// the clock (a time.Ticker's channel, or a test's). Stream returns nil when
// ctx is done or ticks is closed, and the error of a failed write.
func (s *Sim) Stream(ctx context.Context, w io.Writer, ticks <-chan time.Time, step time.Duration) error {
	var buf []byte
	emit := func(l []byte) {
		buf = append(buf, l...)
		buf = append(buf, '\n')
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-ticks:
			if !ok {
				return nil
			}
		}
		buf = buf[:0]
		s.Advance(step, emit)
		if len(buf) == 0 {
			continue
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("writing simulated log: %w", err)
		}
	}
}

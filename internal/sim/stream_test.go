package sim_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/sim"
)

// writes records each Write separately.
type writes struct {
	calls [][]byte
	err   error
}

func (w *writes) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.calls = append(w.calls, bytes.Clone(p))
	return len(p), nil
}

func TestStreamWritesWholeLinesPerTick(t *testing.T) {
	cfg := sim.Config{Seed: 12}
	s := mustNew(t, cfg)
	ticks := make(chan time.Time)
	w := &writes{}
	done := make(chan error, 1)
	go func() { done <- s.Stream(context.Background(), w, ticks, time.Minute) }()
	for range 30 {
		ticks <- time.Time{}
	}
	close(ticks)
	if err := <-done; err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if len(w.calls) != 30 {
		t.Errorf("%d writes for 30 ticks, want 30", len(w.calls))
	}
	for i, c := range w.calls {
		if len(c) == 0 || c[len(c)-1] != '\n' {
			t.Fatalf("write %d does not end a line: %q", i, c[max(0, len(c)-40):])
		}
	}
	// The same as Advance over the same span.
	ref := mustNew(t, cfg)
	var want []byte
	ref.Advance(30*time.Minute, func(l []byte) { want = append(append(want, l...), '\n') })
	if got := bytes.Join(w.calls, nil); !bytes.Equal(got, want) {
		t.Errorf("streamed %d bytes differ from Advance's %d", len(got), len(want))
	}
	if got := s.Now(); !got.Equal(ref.Now()) {
		t.Errorf("Now() = %v, want %v", got, ref.Now())
	}
}

func TestStreamStops(t *testing.T) {
	s := mustNew(t, sim.Config{Seed: 1})
	ticks := make(chan time.Time, 1)
	ticks <- time.Time{}
	failing := &writes{err: errors.New("disk full")}
	if err := s.Stream(context.Background(), failing, ticks, time.Minute); err == nil {
		t.Error("Stream with a failing writer returned nil")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Stream(ctx, &writes{}, make(chan time.Time), time.Minute); err != nil {
		t.Errorf("Stream after cancel = %v, want nil", err)
	}
}

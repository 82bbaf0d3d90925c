package mmp

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestPacerConcurrentReservations(t *testing.T) {
	const min = 2 * time.Second
	p := newPacer(min)
	base := time.Date(2024, 3, 6, 9, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return base } // time stands still
	var mu sync.Mutex
	var slept []time.Duration
	p.sleep = func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		slept = append(slept, d)
		return nil
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := p.wait(context.Background(), "MMP1:22"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// The first caller does not sleep; the others queue min apart, and
	// host names are compared case-insensitively.
	if err := p.wait(context.Background(), "mmp1:22"); err != nil {
		t.Fatal(err)
	}
	slices.Sort(slept)
	want := []time.Duration{min, 2 * min, 3 * min, 4 * min}
	if !slices.Equal(slept, want) {
		t.Errorf("sleeps = %v, want %v", slept, want)
	}
}

func TestPacerDisabled(t *testing.T) {
	p := newPacer(-1)
	p.sleep = func(context.Context, time.Duration) error {
		t.Error("disabled pacer slept")
		return nil
	}
	for range 3 {
		if err := p.wait(context.Background(), "mmp1:22"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPacerCanceled(t *testing.T) {
	p := newPacer(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.wait(ctx, "mmp1:22"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := p.wait(ctx, "mmp1:22"); err != context.Canceled {
		t.Errorf("wait after cancel = %v, want context.Canceled", err)
	}
}

package service

import (
	"context"
	"errors"
	"testing"
	"time"
)

// machine drives Serve from a test: requests and ticks in, statuses out.
type machine struct {
	t        *testing.T
	requests chan Request
	tick     chan time.Time
	statuses chan Status
	result   chan error
}

func start(t *testing.T, ctx context.Context, run RunFunc) *machine {
	m := &machine{t: t, requests: make(chan Request), tick: make(chan time.Time),
		statuses: make(chan Status, 100), result: make(chan error, 1)}
	go func() {
		m.result <- Serve(ctx, run, m.requests, func(s Status) { m.statuses <- s },
			Options{Tick: m.tick, TickEvery: time.Second, StopTimeout: 3 * time.Second})
	}()
	return m
}

func (m *machine) want(state State) Status {
	m.t.Helper()
	select {
	case s := <-m.statuses:
		if s.State != state {
			m.t.Fatalf("status %s, want %s", s.State, state)
		}
		return s
	case <-time.After(10 * time.Second):
		m.t.Fatalf("no status; want %s", state)
	}
	return Status{}
}

func (m *machine) done() error {
	m.t.Helper()
	select {
	case err := <-m.result:
		return err
	case <-time.After(10 * time.Second):
		m.t.Fatal("Serve did not return")
	}
	return nil
}

// daemon is a RunFunc that becomes ready when told and returns once its
// context ends and release is closed.
type daemon struct {
	ready   chan struct{}
	release chan struct{} // closed: return after ctx ends
	err     error
}

func newDaemon() *daemon {
	d := &daemon{ready: make(chan struct{}), release: make(chan struct{})}
	close(d.release)
	return d
}

func (d *daemon) run(ctx context.Context, ready func(), _ <-chan struct{}) error {
	select {
	case <-d.ready:
		ready()
	case <-ctx.Done():
	}
	<-ctx.Done()
	<-d.release
	if d.err != nil {
		return d.err
	}
	return ctx.Err()
}

func TestServeStartRunStop(t *testing.T) {
	d := newDaemon()
	m := start(t, context.Background(), d.run)
	if s := m.want(StartPending); s.AcceptsControls || s.WaitHint == 0 {
		t.Errorf("start-pending %+v: must not accept stop yet, and must give a wait hint", s)
	}
	// Progress while starting: the checkpoint grows.
	m.tick <- time.Now()
	if s := m.want(StartPending); s.CheckPoint != 1 {
		t.Errorf("checkpoint %d, want 1", s.CheckPoint)
	}
	close(d.ready)
	if s := m.want(Running); !s.AcceptsControls {
		t.Error("running does not accept stop")
	}
	m.requests <- Interrogate
	m.want(Running)
	m.tick <- time.Now() // no checkpoints while running
	m.requests <- Stop
	if s := m.want(StopPending); s.AcceptsControls {
		t.Error("stop-pending accepts stop")
	}
	if s := m.want(Stopped); s.ExitErr != nil {
		t.Errorf("stopped with %v", s.ExitErr)
	}
	if err := m.done(); err != nil {
		t.Errorf("Serve = %v, want nil for a requested stop", err)
	}
}

func TestServeShutdownStopsToo(t *testing.T) {
	d := newDaemon()
	close(d.ready)
	m := start(t, context.Background(), d.run)
	m.want(StartPending)
	m.want(Running)
	m.requests <- Shutdown
	m.want(StopPending)
	m.want(Stopped)
	if err := m.done(); err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestServeStopWhileStarting(t *testing.T) {
	d := newDaemon() // never ready
	m := start(t, context.Background(), d.run)
	m.want(StartPending)
	m.requests <- Stop
	m.want(StopPending)
	m.want(Stopped)
	if err := m.done(); err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestServeRunFailsAtStart(t *testing.T) {
	boom := errors.New("listen tcp :9723: address already in use")
	m := start(t, context.Background(), func(context.Context, func(), <-chan struct{}) error { return boom })
	m.want(StartPending)
	if s := m.want(Stopped); !errors.Is(s.ExitErr, boom) {
		t.Errorf("stopped with %v, want %v", s.ExitErr, boom)
	}
	if err := m.done(); !errors.Is(err, boom) {
		t.Errorf("Serve = %v, want %v", err, boom)
	}
}

func TestServeRunEndingUnaskedIsAnError(t *testing.T) {
	m := start(t, context.Background(), func(_ context.Context, ready func(), _ <-chan struct{}) error {
		ready()
		return nil
	})
	m.want(StartPending)
	// Running may or may not be reported before run's return is seen.
	s := <-m.statuses
	if s.State == Running {
		s = <-m.statuses
	}
	if s.State != Stopped || s.ExitErr == nil {
		t.Errorf("status %s with %v, want stopped with an error", s.State, s.ExitErr)
	}
	if err := m.done(); err == nil {
		t.Error("Serve = nil for a daemon that returned by itself")
	}
}

func TestServeStopTimeout(t *testing.T) {
	d := newDaemon()
	d.release = make(chan struct{}) // hangs after ctx ends
	defer close(d.release)
	close(d.ready)
	m := start(t, context.Background(), d.run)
	m.want(StartPending)
	m.want(Running)
	m.requests <- Stop
	m.want(StopPending)
	for i := 1; i <= 2; i++ {
		m.tick <- time.Now()
		if s := m.want(StopPending); s.CheckPoint != uint32(i) {
			t.Errorf("checkpoint %d, want %d", s.CheckPoint, i)
		}
	}
	m.tick <- time.Now() // 3 s: StopTimeout
	if s := m.want(Stopped); !errors.Is(s.ExitErr, ErrStopTimeout) {
		t.Errorf("stopped with %v, want ErrStopTimeout", s.ExitErr)
	}
	if err := m.done(); !errors.Is(err, ErrStopTimeout) {
		t.Errorf("Serve = %v", err)
	}
}

func TestServeFailureWhileStopping(t *testing.T) {
	d := newDaemon()
	d.err = errors.New("saving offsets: disk full")
	close(d.ready)
	m := start(t, context.Background(), d.run)
	m.want(StartPending)
	m.want(Running)
	m.requests <- Stop
	m.want(StopPending)
	if s := m.want(Stopped); s.ExitErr == nil {
		t.Error("a failed shutdown is reported as clean")
	}
	if err := m.done(); err == nil {
		t.Error("Serve = nil after a failed shutdown")
	}
}

func TestServeParentContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d := newDaemon()
	close(d.ready)
	m := start(t, ctx, d.run)
	m.want(StartPending)
	m.want(Running)
	cancel()
	m.want(StopPending)
	m.want(Stopped)
	if err := m.done(); err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestServeReloadReachesARunningDaemon(t *testing.T) {
	got := make(chan struct{}, 10)
	m := start(t, context.Background(), func(ctx context.Context, ready func(), reloads <-chan struct{}) error {
		ready()
		for {
			select {
			case <-reloads:
				got <- struct{}{}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	m.want(StartPending)
	m.want(Running)
	m.requests <- Reload
	if s := m.want(Running); !s.AcceptsControls {
		t.Error("running after a reload does not accept controls")
	}
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the reload did not reach the daemon")
	}
	m.requests <- Stop
	m.want(StopPending)
	m.want(Stopped)
	if err := m.done(); err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestServeReloadWhileStartingIsIgnored(t *testing.T) {
	// A daemon that never gets ready: a reload before it serves would
	// reload a config it has not finished starting with.
	reloaded := make(chan bool, 1)
	m := start(t, context.Background(), func(ctx context.Context, _ func(), reloads <-chan struct{}) error {
		<-ctx.Done()
		select {
		case <-reloads:
			reloaded <- true
		default:
			reloaded <- false
		}
		return ctx.Err()
	})
	m.want(StartPending)
	m.requests <- Reload
	m.want(StartPending) // answered with the status, nothing else
	m.requests <- Stop
	m.want(StopPending)
	m.want(Stopped)
	m.done()
	if <-reloaded {
		t.Error("a reload asked for while starting reached the daemon")
	}
}

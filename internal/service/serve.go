package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// State is a service's state as the service control manager sees it.
type State int

// The states Serve reports, in the order a service goes through them.
const (
	StartPending State = iota + 1
	Running
	StopPending
	Stopped
)

func (s State) String() string {
	switch s {
	case StartPending:
		return "start-pending"
	case Running:
		return "running"
	case StopPending:
		return "stop-pending"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Request is a control request from the service control manager.
type Request int

// The requests Serve acts on; the platform code maps every other one to
// Interrogate (answer with the current status).
const (
	Interrogate Request = iota + 1
	Stop
	Shutdown
	// Reload is what SIGHUP does on Unix: reload the config (keeping the
	// old one if the new is bad) and reopen the audit log. Windows sends it
	// as the "paramchange" control.
	Reload
)

// Status is what Serve reports. CheckPoint grows while a start or stop is
// pending, so the service control manager sees progress and does not give
// up on a slow but live service; WaitHint says how long until the next.
type Status struct {
	State State
	// AcceptsControls: Stop, Shutdown and Reload are accepted (only while
	// Running).
	AcceptsControls bool
	CheckPoint      uint32
	WaitHint        time.Duration
	// ExitErr is run's error, set with Stopped.
	ExitErr error
}

// RunFunc is the service's work: `leakwatch run`'s daemon. It calls ready
// once it serves (its HTTP listener is up), reloads on each value from
// reloads, and returns when ctx ends.
type RunFunc func(ctx context.Context, ready func(), reloads <-chan struct{}) error

// Options tunes Serve. Tick drives the pending checkpoints; tests pass a
// channel of their own instead of a clock.
type Options struct {
	Tick      <-chan time.Time
	TickEvery time.Duration
	// StopTimeout is how long a stop may take before Serve gives up on run
	// and reports Stopped anyway (systemd's TimeoutStopSec=90s, likewise).
	StopTimeout time.Duration
}

// ErrStopTimeout is returned when run did not return within StopTimeout
// of a stop request.
var ErrStopTimeout = errors.New("leakwatch did not stop in time")

// Serve runs run under a service control manager's requests and reports
// each state change on report: StartPending, Running once run calls
// ready, StopPending on Stop or Shutdown (ctx given to run is cancelled),
// and Stopped when run returns. Reload, while Running, reaches run. It returns run's error; a run that ends
// without a stop request is an error too (the service would otherwise
// vanish silently), and so is a stop that outlasts StopTimeout.
func Serve(ctx context.Context, run RunFunc, requests <-chan Request, report func(Status), opt Options) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	readyc := make(chan struct{})
	done := make(chan error, 1)
	var once sync.Once
	// When Serve gives up on a stop (StopTimeout), this goroutine is left
	// to the process exit that follows: the service is reported stopped.
	// One reload waiting is enough: a second one asks for nothing more.
	reloads := make(chan struct{}, 1)
	go func() { done <- run(runCtx, func() { once.Do(func() { close(readyc) }) }, reloads) }()

	cur := Status{State: StartPending, WaitHint: 2 * opt.TickEvery}
	report(cur)
	var stopAsked time.Duration = -1 // time since the stop request, in ticks
	set := func(s Status) {
		cur = s
		report(cur)
	}
	stop := func() {
		if cur.State == Running || cur.State == StartPending {
			cancel()
			stopAsked = 0
			set(Status{State: StopPending, WaitHint: 2 * opt.TickEvery})
		} else {
			report(cur)
		}
	}
	parentDone := ctx.Done()
	for {
		select {
		case <-parentDone:
			parentDone = nil
			stop()
		case <-readyc:
			readyc = nil
			if cur.State == StartPending {
				set(Status{State: Running, AcceptsControls: true})
			}
		case req := <-requests:
			switch req {
			case Stop, Shutdown:
				stop()
			case Reload:
				if cur.State == Running {
					select {
					case reloads <- struct{}{}:
					default:
					}
				}
				report(cur)
			default:
				report(cur)
			}
		case <-opt.Tick:
			if stopAsked >= 0 {
				stopAsked += opt.TickEvery
				if stopAsked >= opt.StopTimeout {
					err := fmt.Errorf("%w: still running %s after the stop request", ErrStopTimeout, opt.StopTimeout)
					set(Status{State: Stopped, ExitErr: err})
					return err
				}
			}
			if cur.State == StartPending || cur.State == StopPending {
				cur.CheckPoint++
				report(cur)
			}
		case err := <-done:
			if stopAsked < 0 && err == nil {
				err = errors.New("leakwatch stopped without a stop request")
			}
			if stopAsked >= 0 && errors.Is(err, context.Canceled) {
				err = nil
			}
			set(Status{State: Stopped, ExitErr: err})
			return err
		}
	}
}

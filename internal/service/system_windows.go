//go:build windows

package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// Native returns the Windows service control manager.
func Native() System { return windowsSystem{} }

type windowsSystem struct{}

func (windowsSystem) Install(s Spec) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service control manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	if old, err := m.OpenService(s.Name); err == nil {
		old.Close()
		return fmt.Errorf("service %s is already installed (leakwatch service uninstall --name %s first)", s.Name, s.Name)
	}
	srv, err := m.CreateService(s.Name, s.Exe, mgr.Config{
		DisplayName:      s.DisplayName,
		Description:      s.Description,
		StartType:        mgr.StartAutomatic,
		DelayedAutoStart: true, // after the network is up, as network-online.target
		ServiceStartName: s.Account,
	}, s.Args...)
	if err != nil {
		return fmt.Errorf("creating service %s: %w", s.Name, err)
	}
	defer srv.Close()
	// Restart on failure after 10 s, as the systemd unit's Restart=on-failure.
	restart := mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: 10 * time.Second}
	if err := srv.SetRecoveryActions([]mgr.RecoveryAction{restart, restart, restart}, uint32((24 * time.Hour).Seconds())); err != nil {
		srv.Delete()
		return fmt.Errorf("setting the recovery actions of %s: %w", s.Name, err)
	}
	// leakwatch reports its failures as a stop with an exit code, not a
	// crash: let the recovery actions apply to those too.
	if err := srv.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		srv.Delete()
		return fmt.Errorf("setting the recovery actions of %s: %w", s.Name, err)
	}
	// A source left behind by an earlier install of this name would make
	// InstallAsEventCreate fail ("already exists"): register it afresh.
	_ = eventlog.Remove(s.Name)
	if err := eventlog.InstallAsEventCreate(s.Name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil {
		srv.Delete()
		return fmt.Errorf("registering event log source %s: %w", s.Name, err)
	}
	return nil
}

func (windowsSystem) Uninstall(name string) error {
	return withService(name, func(s *mgr.Service) error {
		if err := s.Delete(); err != nil {
			return fmt.Errorf("removing service %s: %w", name, err)
		}
		if err := eventlog.Remove(name); err != nil && !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
			return fmt.Errorf("removing event log source %s: %w", name, err)
		}
		return nil
	})
}

func (windowsSystem) Start(name string, timeout time.Duration) error {
	return withService(name, func(s *mgr.Service) error {
		if err := s.Start(); err != nil {
			return fmt.Errorf("starting %s: %w", name, err)
		}
		return waitState(s, svc.Running, timeout)
	})
}

func (windowsSystem) Stop(name string, timeout time.Duration) error {
	return withService(name, func(s *mgr.Service) error {
		if _, err := s.Control(svc.Stop); err != nil {
			return fmt.Errorf("stopping %s: %w", name, err)
		}
		return waitState(s, svc.Stopped, timeout)
	})
}

func (windowsSystem) Reload(name string) error {
	return withService(name, func(s *mgr.Service) error {
		if _, err := s.Control(svc.ParamChange); err != nil {
			return fmt.Errorf("asking %s to reload: %w", name, err)
		}
		return nil
	})
}

func withService(name string, f func(*mgr.Service) error) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service control manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		return fmt.Errorf("service %s: %w", name, err)
	}
	defer s.Close()
	return f(s)
}

// waitState polls until s is in want. A service that stops while it was
// to start has failed: its event log says why.
func waitState(s *mgr.Service, want svc.State, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		st, err := s.Query()
		if err != nil {
			return fmt.Errorf("querying the service: %w", err)
		}
		switch {
		case st.State == want:
			return nil
		case want == svc.Running && st.State == svc.Stopped:
			return fmt.Errorf("the service stopped (exit code %d); see the Application event log and leakwatch.log in the state directory", st.ServiceSpecificExitCode)
		case time.Now().After(deadline):
			return fmt.Errorf("the service is still %s after %s", stateName(st.State), timeout)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func stateName(s svc.State) string {
	switch s {
	case svc.StartPending:
		return StartPending.String()
	case svc.Running:
		return Running.String()
	case svc.StopPending:
		return StopPending.String()
	case svc.Stopped:
		return Stopped.String()
	}
	return fmt.Sprintf("in state %d", s)
}

func (windowsSystem) IsService() (bool, error) { return svc.IsWindowsService() }

func (windowsSystem) Run(run ServiceFunc) error {
	// The name is ignored for a service in its own process; Execute gets
	// the real one in args[0].
	return svc.Run(DefaultName, handler{run})
}

func (windowsSystem) OpenEventLog(source string) (EventLog, error) {
	l, err := eventlog.Open(source)
	if err != nil {
		return nil, err
	}
	return l, nil
}

type handler struct{ run ServiceFunc }

func (h handler) Execute(args []string, r <-chan svc.ChangeRequest, s chan<- svc.Status) (bool, uint32) {
	name := DefaultName
	if len(args) > 0 && args[0] != "" {
		name = args[0]
	}
	reqs := make(chan Request)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case c := <-r:
				req := Interrogate
				switch c.Cmd {
				case svc.Stop:
					req = Stop
				case svc.Shutdown:
					req = Shutdown
				case svc.ParamChange:
					req = Reload
				}
				select {
				case reqs <- req:
				case <-done:
					return
				}
			case <-done:
				return
			}
		}
	})
	tick := time.NewTicker(time.Second)
	err := Serve(context.Background(),
		func(ctx context.Context, ready func(), reloads <-chan struct{}) error {
			return h.run(ctx, name, ready, reloads)
		},
		// Stopped is left to svc, which reports it with the exit code
		// once Execute returns.
		reqs, func(st Status) {
			if st.State != Stopped {
				s <- toSvc(st)
			}
		},
		Options{Tick: tick.C, TickEvery: time.Second, StopTimeout: StopTimeout})
	tick.Stop()
	close(done)
	wg.Wait()
	if err != nil {
		var errno windows.Errno
		if errors.As(err, &errno) {
			return false, uint32(errno)
		}
		return true, 1
	}
	return false, 0
}

func toSvc(st Status) svc.Status {
	out := svc.Status{CheckPoint: st.CheckPoint, WaitHint: uint32(st.WaitHint.Milliseconds())}
	switch st.State {
	case StartPending:
		out.State = svc.StartPending
	case Running:
		out.State = svc.Running
	case StopPending:
		out.State = svc.StopPending
	}
	if st.AcceptsControls {
		out.Accepts = svc.AcceptStop | svc.AcceptShutdown | svc.AcceptParamChange
	}
	return out
}

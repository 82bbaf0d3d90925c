// Package demo runs leakwatch's whole loop against a simulated cluster:
// a simulator writes realistic syslog to a file at an accelerated cadence,
// with a leak injected into one Web Bridge; fake MMPs on loopback answer
// `webbridge restart` by resetting that bridge in the simulator; and a real
// leakwatch daemon follows the file in enforce mode, exports metrics,
// restarts the leaking bridge over SSH and watches it recover.
package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/mmp/mmptest"
	"github.com/leakwatch/leakwatch/internal/sim"
)

// Options configure a demo.
type Options struct {
	// Speed is simulated seconds per wall second (default 60: an hour a minute).
	Speed float64
	// ListenAddress serves the status page and /metrics (default 127.0.0.1:9723).
	ListenAddress string
	// Dir holds the log, state and known_hosts; "" makes a temporary one,
	// removed at the end.
	Dir string
	// Logger receives the daemon's log.
	Logger *slog.Logger
	// LeakingBridge leaks fast (default "cms2").
	LeakingBridge string
}

// Demo is a prepared demo: the simulator, the fake MMPs and the config of
// the daemon that is to run against them.
type Demo struct {
	opts     Options
	Config   *config.Config
	Listener net.Listener
	LogFile  string
	sim      *sim.Sim
	mmps     []*mmptest.Server
	simStart time.Time
	cleanup  []func()
	mu       sync.Mutex
	start    time.Time // wall time of the simulated start, set by Simulate
	restarts []string
}

// The simulated cluster: three Web Bridges, two Call Bridges (cms1 runs
// both roles).
var (
	webBridges  = []string{"cms1", "cms2", "cms3"}
	callBridges = []string{"cms1", "cms4"}
)

const demoPassword = "demo-only-password"

// New prepares a demo: the fake MMPs listen, the known_hosts file holds
// their keys, and the HTTP listener is open (so its URL can be printed).
// On error nothing is left behind: no listener, no fake MMP, and no
// temporary folder (which holds the fake MMP password).
func New(opts Options) (*Demo, error) {
	switch {
	case opts.Speed == 0:
		opts.Speed = 60
	case !(opts.Speed > 0) || math.IsInf(opts.Speed, 1):
		return nil, fmt.Errorf("speed %v: must be a positive number of simulated seconds per second", opts.Speed)
	}
	if opts.ListenAddress == "" {
		opts.ListenAddress = "127.0.0.1:9723"
	}
	if opts.LeakingBridge == "" {
		opts.LeakingBridge = "cms2"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Demo{opts: opts}
	// The port first: it is the likeliest thing to fail (a second demo,
	// or any program on it), and then nothing else was made.
	var err error
	if d.Listener, err = net.Listen("tcp", opts.ListenAddress); err != nil {
		return nil, &ListenError{Address: opts.ListenAddress, Err: err}
	}
	if err := d.prepare(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// ListenError is a demo that could not open its status page's address.
type ListenError struct {
	Address string
	Err     error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("cannot listen on %s for the status page: %v (is another demo or program using that port? pick another address with --web.listen-address, e.g. 127.0.0.1:0 for any free port)", e.Address, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// prepare makes the folder, the simulator, the fake MMPs and the config.
func (d *Demo) prepare() (err error) {
	opts := d.opts
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "leakwatch-demo-"); err != nil {
			return err
		}
		d.cleanup = append(d.cleanup, func() { os.RemoveAll(dir) })
	}
	// Night time in the simulation, so few real users are on and the
	// maintenance window is open.
	now := time.Now().UTC()
	d.simStart = time.Date(now.Year(), now.Month(), now.Day(), 1, 0, 0, 0, time.UTC)
	d.sim, err = sim.New(sim.Config{
		Seed:         time.Now().UnixNano(),
		Start:        d.simStart,
		WebBridges:   []sim.Bridge{{Name: "cms1", Host: "cms1"}, {Name: "cms2", Host: "cms2"}, {Name: "cms3", Host: "cms3"}},
		CallBridges:  callBridges,
		WBInterval:   30 * time.Second,
		Leak:         map[string]float64{opts.LeakingBridge: 40},
		InitialLeak:  map[string]int{opts.LeakingBridge: 12, "cms3": 2},
		PeakSessions: 60,
		// The demo shows a few minutes; mostly noise would only slow the page.
		NoisePerStats: 20,
	})
	if err != nil {
		return fmt.Errorf("simulator: %w", err)
	}

	pwFile := filepath.Join(dir, "mmp-password")
	if err := os.WriteFile(pwFile, []byte(demoPassword+"\n"), 0o600); err != nil {
		return err
	}
	known := filepath.Join(dir, "known_hosts")
	var khLines []byte
	cfg := config.Default()
	for _, wb := range webBridges {
		name := wb
		srv, err := mmptest.NewServer(mmptest.ServerConfig{
			Name: name, User: "admin", Password: demoPassword,
			OnRestart: func(string) {
				_ = d.sim.RestartWebBridge(name)
				d.mu.Lock()
				d.restarts = append(d.restarts, name)
				d.mu.Unlock()
			},
		})
		if err != nil {
			return fmt.Errorf("fake MMP %s: %w", name, err)
		}
		d.mmps = append(d.mmps, srv)
		khLines = append(khLines, srv.KnownHostsLine()...)
		khLines = append(khLines, '\n')
		cfg.Inventory.WebBridges = append(cfg.Inventory.WebBridges, config.WebBridge{
			Name: name, Hosts: []string{name}, SessionLimit: 149,
			MMP: config.MMP{Address: srv.Addr(), User: "admin", Command: "webbridge restart"},
		})
	}
	for _, cb := range callBridges {
		cfg.Inventory.CallBridges = append(cfg.Inventory.CallBridges, config.CallBridge{Name: cb, Hosts: []string{cb}})
	}
	if err := os.WriteFile(known, khLines, 0o600); err != nil {
		return err
	}
	d.LogFile = filepath.Join(dir, "cms.log")
	if err := os.WriteFile(d.LogFile, nil, 0o644); err != nil {
		return err
	}

	cfg.Timezone = "UTC"
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Audit.File = filepath.Join(cfg.StateDir, "audit.jsonl")
	cfg.Web.ListenAddresses = []string{opts.ListenAddress}
	cfg.Inputs.Files.Paths = []string{d.LogFile}
	cfg.Inputs.Files.PollInterval = 200 * time.Millisecond
	cfg.Policy.Mode = "enforce"
	cfg.Policy.Threshold = 25
	cfg.Policy.Sustain = 10 * time.Minute
	cfg.Policy.Windows = []string{"daily 00:30-05:30"}
	cfg.Policy.Timezone = "UTC"
	cfg.Policy.MaxActiveSessions = 40
	cfg.Policy.Cooldown = 2 * time.Hour
	cfg.Policy.MaxPerDay = 4
	cfg.Policy.RecoverTimeout = 20 * time.Minute
	cfg.SSH.PasswordFile = pwFile
	cfg.SSH.KnownHosts = known
	cfg.SSH.MinInterval = 500 * time.Millisecond
	for i := range cfg.Inventory.WebBridges {
		cfg.Inventory.WebBridges[i].SessionLimit = 149
	}
	d.Config = cfg
	return nil
}

// URL is the status page's address.
func (d *Demo) URL() string { return "http://" + d.Listener.Addr().String() + "/" }

// Now is the simulated clock: the daemon runs on it, so its staleness,
// sustain and cooldown follow the accelerated logs.
// It stands still at the simulated start until Simulate begins. The daemon
// reads it from its own goroutines while Simulate runs.
func (d *Demo) Now() time.Time {
	d.mu.Lock()
	start := d.start
	d.mu.Unlock()
	if start.IsZero() {
		return d.simStart
	}
	return d.simStart.Add(time.Duration(float64(time.Since(start)) * d.opts.Speed))
}

// Speed is simulated seconds per wall second.
func (d *Demo) Speed() float64 { return d.opts.Speed }

// Restarts returns the bridges the fake MMPs were told to restart.
func (d *Demo) Restarts() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.restarts...)
}

// Simulate writes the simulator's lines to the log file, advancing it to
// the simulated clock every 100 ms, until ctx is done. Each batch is one
// write of whole lines, so the follower never sees half a line.
func (d *Demo) Simulate(ctx context.Context) error {
	f, err := os.OpenFile(d.LogFile, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 256<<10)
	d.mu.Lock()
	d.start = time.Now()
	d.mu.Unlock()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		step := d.Now().Sub(d.sim.Now())
		d.sim.Advance(step, func(line []byte) {
			w.Write(line)
			w.WriteByte('\n')
		})
		if err := w.Flush(); err != nil {
			return fmt.Errorf("writing %s: %w", d.LogFile, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Close stops the fake MMPs and removes the temporary folder. It is safe
// on a nil or half-made Demo.
func (d *Demo) Close() error {
	if d == nil {
		return nil
	}
	var errs []error
	for _, s := range d.mmps {
		errs = append(errs, s.Close())
	}
	if d.Listener != nil {
		d.Listener.Close()
	}
	for _, c := range d.cleanup {
		c()
	}
	d.mmps, d.Listener, d.cleanup = nil, nil, nil
	return errors.Join(errs...)
}

// LogHandler wraps h so that each record also carries sim_time, the
// simulated clock that the status page, the metrics and the audit log
// show; the record's own time stays the wall clock.
func (d *Demo) LogHandler(h slog.Handler) slog.Handler { return simTimeHandler{h, d.Now} }

type simTimeHandler struct {
	h   slog.Handler
	now func() time.Time
}

func (s simTimeHandler) Enabled(ctx context.Context, l slog.Level) bool { return s.h.Enabled(ctx, l) }

func (s simTimeHandler) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(slog.Time("sim_time", s.now().Truncate(time.Second)))
	return s.h.Handle(ctx, r)
}

func (s simTimeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return simTimeHandler{s.h.WithAttrs(as), s.now}
}

func (s simTimeHandler) WithGroup(name string) slog.Handler {
	return simTimeHandler{s.h.WithGroup(name), s.now}
}

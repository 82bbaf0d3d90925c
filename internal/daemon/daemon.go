// Package daemon is `leakwatch run`: it follows syslog files and receives
// syslog, feeds the cluster model, runs the restart policy, and serves
// metrics and the status page until its context ends.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/control"
	"github.com/leakwatch/leakwatch/internal/exporter"
	"github.com/leakwatch/leakwatch/internal/follow"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/syslogrecv"
	"github.com/leakwatch/leakwatch/internal/web"
)

// Options configure a daemon.
type Options struct {
	// Config is the configuration in force at start.
	Config *config.Config
	// Reload loads the configuration again (on SIGHUP). nil disables reload.
	Reload func() (*config.Config, error)
	// Reloads, if set, asks for what SIGHUP does: Windows has no SIGHUP, so
	// its service manager's "paramchange" control arrives here.
	Reloads <-chan struct{}
	// Logger receives the daemon's log.
	Logger *slog.Logger
	// LevelVar, if set, is the logger's level, changed on reload.
	LevelVar *slog.LevelVar
	// NewRestarter builds the restarter for a configuration (the SSH client
	// for the MMPs). It is called at start and on reload.
	NewRestarter func(cfg *config.Config) (actuator.Restarter, error)
	// Listener, if set, is used instead of listening on
	// cfg.Web.ListenAddresses (tests and the demo use port 0).
	Listener net.Listener
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// StepInterval is how often the policy is evaluated (default 1s). It
	// is also evaluated at once after each new sample.
	StepInterval time.Duration
	// OnReady, if set, is called once, when the daemon is ready, with the
	// address it serves HTTP on.
	OnReady func(addr net.Addr)
	// ConfigName names the configuration on the status page when it comes
	// from no file (the demo says "demo"); empty means the defaults.
	ConfigName string
}

// Daemon is a running leakwatch.
type Daemon struct {
	opts     Options
	cfg      atomic.Pointer[config.Config]
	log      *slog.Logger
	now      func() time.Time
	model    *cluster.Model
	act      *actuator.Actuator
	audit    *audit.Log
	counts   counters
	follower *follow.Follower
	recv     *syslogrecv.Receiver
	ready    atomic.Bool
	started  time.Time
	loadedAt atomic.Int64
	wake     chan struct{}
	lock     *control.Lock
	// ha is the instance's part in an HA pair; nil without ha configured.
	ha *haRole
	// departSeen is the Seq of the last departure reported (policy loop only).
	departSeen uint64
	// restarter is swapped on reload, so new SSH settings apply at once.
	restarter swapRestarter
}

// swapRestarter is a Restarter whose implementation can be replaced.
type swapRestarter struct {
	mu sync.Mutex
	r  actuator.Restarter
}

func (s *swapRestarter) set(r actuator.Restarter) {
	s.mu.Lock()
	s.r = r
	s.mu.Unlock()
}

func (s *swapRestarter) Restart(ctx context.Context, bridge string) (string, error) {
	s.mu.Lock()
	r := s.r
	s.mu.Unlock()
	return r.Restart(ctx, bridge)
}

// Run runs leakwatch until ctx is done, then shuts down gracefully: the
// inputs stop and save their offsets, the HTTP server drains, and the audit
// log and ledger are closed. It returns the first error that stopped it.
func Run(ctx context.Context, opts Options) error {
	d, err := newDaemon(opts)
	if err != nil {
		return err
	}
	defer d.close()
	return d.run(ctx)
}

func newDaemon(opts Options) (*Daemon, error) {
	cfg := opts.Config
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StepInterval <= 0 {
		opts.StepInterval = time.Second
	}
	d := &Daemon{opts: opts, log: opts.Logger, now: opts.Now, started: opts.Now(), wake: make(chan struct{}, 1)}
	d.cfg.Store(cfg)
	d.loadedAt.Store(d.started.UnixNano())
	d.counts.hostLog = newRateLimiter(time.Minute, 256)
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	lock, err := control.Acquire(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	d.lock = lock
	ok := false
	defer func() {
		if !ok {
			d.close()
		}
	}()
	if d.model, err = cluster.New(cfg.ModelOptions()); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	var led ledger.Ledger
	if cfg.HA.Enabled() {
		// The ledger lives in etcd; until this instance is elected, the
		// actuator holds a view of the leader's that it never writes.
		if d.ha, err = newHARole(cfg, d.log.With("component", "ha")); err != nil {
			return nil, err
		}
		led = ledger.NewMemory()
	} else if led, err = ledger.Load(cfg.StateDir); err != nil {
		return nil, fmt.Errorf("restart ledger: %w (move the file aside only after reading it: it records past restarts and breakers)", err)
	}
	if d.audit, err = audit.Open(cfg.Audit.File); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	restarter, err := opts.NewRestarter(cfg)
	if err != nil {
		return nil, err
	}
	d.restarter.set(restarter)
	var r actuator.Restarter = &d.restarter
	if d.ha != nil {
		r = leaderOnly{h: d.ha, next: r}
	}
	d.act, err = actuator.New(actuator.Options{
		Config: cfg.PolicyConfig(), Ledger: led, Audit: d.audit, Restarter: r,
		Logger: d.log.With("component", "policy"), Clock: d.now,
	}, d.now())
	if err != nil {
		return nil, err
	}
	if f := cfg.Inputs.Files; len(f.Paths) > 0 {
		d.follower, err = follow.New(follow.Config{
			Patterns: f.Paths, StateDir: cfg.StateDir, StartAt: f.StartAt, PollInterval: f.PollInterval,
			MaxLineBytes: f.MaxLineBytes, Poll: f.PollOnly,
		}, d.log.With("component", "follow"))
		if err != nil {
			return nil, fmt.Errorf("inputs.files: %w", err)
		}
	}
	if s := cfg.Inputs.Syslog; s.UDPAddress != "" || s.TCPAddress != "" {
		if d.recv, err = syslogrecv.New(cfg.SyslogConfig(), d.log.With("component", "syslog")); err != nil {
			return nil, fmt.Errorf("inputs.syslog: %w", err)
		}
		if err := d.recv.Listen(); err != nil {
			return nil, fmt.Errorf("inputs.syslog: %w", err)
		}
	}
	if d.follower == nil && d.recv == nil {
		d.log.Warn("no input configured: set inputs.files.paths or inputs.syslog; leakwatch will see nothing")
	}
	ok = true
	return d, nil
}

func (d *Daemon) close() {
	if d.ha != nil {
		d.ha.node.Close()
	}
	if d.audit != nil {
		d.audit.Close()
	}
	if d.lock != nil {
		d.lock.Release()
	}
}

func (d *Daemon) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	fail := func(err error) { cancel(err) }
	cfg := d.cfg.Load()
	loc := cfg.Location()
	notify := func() {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}

	var caughtUp <-chan struct{}
	if d.follower != nil {
		fd := newFeeder(SourceFiles, loc, d.model, &d.counts, d.log, d.now, notify)
		caughtUp = d.follower.CaughtUp()
		wg.Go(func() {
			if err := d.follower.Run(ctx, func(l follow.Line) { fd.feed(l.Data, l.Path) }); err != nil && ctx.Err() == nil {
				fail(fmt.Errorf("file follower: %w", err))
			}
		})
	}
	if d.recv != nil {
		sd := newFeeder(SourceSyslog, loc, d.model, &d.counts, d.log, d.now, notify)
		sd.hostAllowed = d.recv.HostAllowed
		wg.Go(func() {
			if err := d.recv.Run(ctx, func(m syslogrecv.Message) { sd.feedFrom(m.Data, m.Source) }); err != nil && ctx.Err() == nil {
				fail(fmt.Errorf("syslog receiver: %w", err))
			}
		})
	}

	reg := exporter.NewRegistry(d.State, cfg.CMSCluster)
	handler := web.NewHandler(web.Options{Provider: d.State, Registry: reg, AuditFile: cfg.Audit.File,
		Logger: d.log.With("component", "web"), Now: d.now, MetricsPath: cfg.Web.TelemetryPath})
	listeners := []net.Listener{d.opts.Listener}
	if d.opts.Listener == nil {
		var err error
		if listeners, err = web.Listen(cfg.Web.ListenAddresses, cfg.Web.SystemdSocket); err != nil {
			return err
		}
	}
	addr := listeners[0].Addr()
	listen := make([]string, len(listeners))
	for i, l := range listeners {
		listen[i] = l.Addr().String()
	}
	wg.Go(func() {
		if err := web.ServeListeners(ctx, listeners, handler, cfg.Web.ConfigFile, d.log.With("component", "web")); err != nil && ctx.Err() == nil {
			fail(fmt.Errorf("http server: %w", err))
		}
	})
	d.log.Info("leakwatch running", "listen", listen, "metrics_path", cfg.Web.TelemetryPath, "mode", cfg.Policy.Mode,
		"files", cfg.Inputs.Files.Paths, "syslog_udp", cfg.Inputs.Syslog.UDPAddress, "syslog_tcp", cfg.Inputs.Syslog.TCPAddress)

	if d.ha != nil {
		wg.Go(func() { d.ha.node.Run(ctx) })
	}
	wg.Go(func() { d.policyLoop(ctx) })
	wg.Go(func() { d.readyWatch(ctx, caughtUp, addr) })

	// SIGHUP is what logrotate's postrotate sends: reopen the audit log
	// first, so that whatever the reload records lands in the new file.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-hup:
			d.hangup()
		case <-d.opts.Reloads:
			d.hangup()
		}
	}
	wg.Wait()
	// The parent ending (a signal, or the demo's --duration) is a normal
	// stop; only a failure given as the cause is an error.
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	d.log.Info("leakwatch stopped")
	return nil
}

// readyWatch marks the daemon ready once the file inputs have caught up
// (the receiver's sockets are open before Run).
func (d *Daemon) readyWatch(ctx context.Context, caughtUp <-chan struct{}, addr net.Addr) {
	if caughtUp != nil {
		select {
		case <-caughtUp:
		case <-ctx.Done():
			return
		}
	}
	d.ready.Store(true)
	d.log.Info("ready: inputs open and caught up")
	if d.opts.OnReady != nil {
		d.opts.OnReady(addr)
	}
}

// policyLoop evaluates the policy every StepInterval and after new samples,
// and serves the requests of `leakwatch reset` and `leakwatch restart`.
func (d *Daemon) policyLoop(ctx context.Context) {
	t := time.NewTicker(d.opts.StepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
		if !d.ready.Load() {
			continue // never act on a half-read history
		}
		now := d.now()
		if d.ha != nil {
			// Only the elected leader acts, with its term's context: the
			// command of a term that ends is cancelled.
			if term := d.haTurn(ctx, now); term != nil {
				d.step(term.Context(), now)
				d.serveHARequests(term)
			} else {
				d.act.Observe(d.model.Snapshot(now), now)
			}
		} else {
			d.step(ctx, now)
			d.serveRequests(ctx)
		}
		d.markRestarts()
		d.reportDepartures(now)
	}
}

// reportDepartures logs and audits each discovered component that left the
// sums since the last call.
func (d *Daemon) reportDepartures(now time.Time) {
	for _, dep := range d.model.Departures() {
		if dep.Seq <= d.departSeen {
			continue
		}
		d.departSeen = dep.Seq
		why := fmt.Sprintf("silent since %s, longer than model.forget_after", dep.LastSeen.Format(time.RFC3339))
		if dep.Why == cluster.DepartedOperator {
			why = "forgotten by an operator (leakwatch forget)"
		}
		d.log.Warn("discovered component left the cluster sums", "role", dep.Role, "name", dep.Name,
			"hosts", dep.Hosts, "last_seen", dep.LastSeen, "why", why)
		if err := d.audit.Write(audit.Entry{Time: now, Event: audit.EventDeparted, Bridge: dep.Name,
			Reason: dep.Why, Detail: fmt.Sprintf("%s %s (hosts %s): %s", dep.Role, dep.Name, strings.Join(dep.Hosts, ", "), why)}); err != nil {
			d.log.Error("audit entry lost", "event", audit.EventDeparted, "err", err)
		}
	}
}

func (d *Daemon) step(ctx context.Context, now time.Time) {
	if _, err := d.act.Step(ctx, d.model.Snapshot(now), now); err != nil && ctx.Err() == nil {
		d.log.Error("policy step", "err", err)
	}
}

// markRestarts tells the model about every restart leakwatch has sent,
// whatever its result (the command may have run): samples from before it
// prove nothing about the bridge's leak now.
func (d *Daemon) markRestarts() {
	for _, b := range d.act.Status().Bridges {
		if !b.LastRestart.Started.IsZero() {
			d.model.MarkRestart(b.Name, b.LastRestart.Started)
		}
	}
}

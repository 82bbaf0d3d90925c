package cli

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/daemon"
	"github.com/leakwatch/leakwatch/internal/demo"
)

func demoCmd(ctx context.Context, env *Env, args []string) error {
	fs := flagSet(env, "demo", "")
	speed := fs.Float64("speed", 60, "simulated seconds per real second (60: an hour of logs a minute)")
	listen := fs.String("web.listen-address", "127.0.0.1:9723", "address of the status page and /metrics")
	duration := fs.Duration("duration", 0, "stop after this long (0: run until Ctrl-C)")
	logLevel := fs.String("log.level", "info", "lowest level logged: debug, info, warn, error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var level slog.LevelVar
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return &usageError{fmt.Sprintf("--log.level %q: %v", *logLevel, err)}
	}
	if !(*speed > 0) || math.IsInf(*speed, 1) {
		return &usageError{fmt.Sprintf("--speed %v: give a positive number of simulated seconds per real second (1 is real time)", *speed)}
	}
	d, err := demo.New(demo.Options{Speed: *speed, ListenAddress: *listen})
	if err != nil {
		return err
	}
	defer d.Close()
	// time= is the wall clock; sim_time= is the simulated clock, which the
	// page, the metrics and the audit log show.
	logger := slog.New(d.LogHandler(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: &level})))
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := d.Simulate(ctx); err != nil {
			logger.Error("simulator", "err", err)
			cancel()
		}
	})
	fmt.Fprintf(env.Stdout, "leakwatch demo: 3 Web Bridges (cms2 leaks), 2 Call Bridges, fake MMPs on loopback, enforce mode, %gx speed\n", *speed)
	fmt.Fprintf(env.Stdout, "log file: %s\n", d.LogFile)
	fmt.Fprintf(env.Stdout, "clocks: the page, metrics and audit show simulated time (starting %s); log lines on stderr show wall time (time=) and simulated time (sim_time=)\n",
		d.Now().Format("15:04 MST"))
	fmt.Fprintf(env.Stdout, "open %s  (metrics: %smetrics); watch cms2's leak grow, its restart over SSH, and its recovery within about two minutes. Ctrl-C stops.\n", d.URL(), d.URL())
	err = daemon.Run(ctx, daemon.Options{
		Config:       d.Config,
		Logger:       logger,
		LevelVar:     &level,
		Listener:     d.Listener,
		Now:          d.Now,
		NewRestarter: func(c *config.Config) (actuator.Restarter, error) { return newRestarter(c, env, logger) },
		StepInterval: 250 * time.Millisecond,
		ConfigName:   "demo",
		OnReady:      func(net.Addr) {},
	})
	cancel()
	wg.Wait()
	if err == nil {
		fmt.Fprintf(env.Stdout, "demo stopped; restarts sent to the fake MMPs: %v\n", d.Restarts())
	}
	return err
}

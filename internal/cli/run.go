package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/daemon"
)

func runCmd(ctx context.Context, env *Env, args []string) error {
	fs := flagSet(env, "run", "")
	fs.String("config", "", "config file (default: built-in defaults)")
	fs.StringArray("web.listen-address", []string{":9723"}, "address of the metrics, the status page and the health endpoints; repeat it to serve on several (e.g. --web.listen-address=127.0.0.1:9723 --web.listen-address=[::1]:9723)")
	fs.Bool("web.systemd-socket", false, "serve on the sockets systemd passes (socket activation, Linux) instead of --web.listen-address")
	fs.String("web.telemetry-path", "/metrics", "path under which to expose the metrics")
	fs.String("web.config.file", "", "exporter-toolkit web config file for TLS and basic auth")
	fs.String("log.level", "info", "lowest level logged: debug, info, warn, error")
	fs.String("log.format", "text", "log format: text or json")
	fs.String("state-dir", config.DefaultStateDir(), "where offsets, restart history, audit log and known_hosts live")
	fs.String("mode", "observe", "observe (decide and record, never act) or enforce (restart)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if is, err := env.Services.IsService(); err != nil {
		return fmt.Errorf("asking Windows whether this is a service: %w", err)
	} else if is {
		return env.Services.Run(func(ctx context.Context, name string, ready func(), reloads <-chan struct{}) error {
			return runService(ctx, env, fs, name, ready, reloads)
		})
	}
	cfg, err := loadConfig(fs)
	if err != nil {
		return err
	}
	level := new(slog.LevelVar)
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	return runDaemon(ctx, env, fs, cfg, newLeveledLogger(cfg, env, level), level, nil, nil)
}

// runDaemon runs the daemon until ctx ends; ready, if not nil, is called
// once it serves, and each value from reloads (besides SIGHUP) reloads.
func runDaemon(ctx context.Context, env *Env, fs *pflag.FlagSet, cfg *config.Config, logger *slog.Logger, level *slog.LevelVar, ready func(), reloads <-chan struct{}) error {
	return daemon.Run(ctx, daemon.Options{
		Config:       cfg,
		Reload:       func() (*config.Config, error) { return loadConfig(fs) },
		Reloads:      reloads,
		Logger:       logger,
		LevelVar:     level,
		NewRestarter: func(c *config.Config) (actuator.Restarter, error) { return newRestarter(c, env, logger) },
		OnReady: func(addr net.Addr) {
			logger.Info("status page and metrics", "url", "http://"+addr.String()+"/")
			if ready != nil {
				ready()
			}
		},
	})
}

func newLeveledLogger(cfg *config.Config, env *Env, level *slog.LevelVar) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(env.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(env.Stderr, opts))
}

// newRestarter builds the SSH restarter. In observe mode missing
// credentials are only a warning, since nothing will be restarted; in
// enforce mode they stop the start (or the reload).
func newRestarter(cfg *config.Config, env *Env, logger *slog.Logger) (actuator.Restarter, error) {
	client, err := sshClient(cfg, env.Getenv, logger.With("component", "ssh"))
	if err != nil {
		if cfg.Policy.Mode == "enforce" {
			return nil, err
		}
		logger.Warn("no usable SSH credentials; fine in observe mode, needed for enforce and leakwatch restart", "err", err)
		return refusingRestarter{err}, nil
	}
	return newSSHRestarter(cfg, client), nil
}

type refusingRestarter struct{ err error }

func (r refusingRestarter) Restart(context.Context, string) (string, error) {
	return "", fmt.Errorf("cannot restart: %w", r.err)
}

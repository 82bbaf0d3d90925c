package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/service"
)

// logFileMax caps the service's log file; one previous file is kept.
const logFileMax = 10 << 20

var serviceActions = []struct{ name, summary string }{
	{"install", "register leakwatch as a service that runs `leakwatch run --config F` at boot"},
	{"uninstall", "remove the service and its event log source"},
	{"start", "start the service and wait until it serves"},
	{"stop", "stop the service and wait until it has stopped"},
	{"reload", "reload the config as SIGHUP does on Unix (a bad one is refused, the old one kept)"},
}

func serviceCmd(_ context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		// Asked-for help goes to stdout, as everywhere; a mistake to stderr.
		w := env.Stdout
		if len(args) == 0 {
			w = env.Stderr
		}
		fmt.Fprintln(w, "Usage: leakwatch service ACTION [flags]\n\nActions (Windows; on Linux use the systemd unit):")
		for _, a := range serviceActions {
			fmt.Fprintf(w, "  %-10s %s\n", a.name, a.summary)
		}
		fmt.Fprintln(w, "\nRun 'leakwatch service ACTION --help' for an action's flags.")
		if len(args) == 0 {
			return &usageError{"service needs an action: install, uninstall, start, stop or reload"}
		}
		return pflag.ErrHelp
	}
	action := args[0]
	fs := flagSet(env, "service "+action, "")
	name := fs.String("name", service.DefaultName, "service name, also its event log source")
	var configFile, account *string
	var timeout *time.Duration
	switch action {
	case "install":
		configFile = fs.String("config", config.DefaultConfigFile(), "config file the service runs with; it must be valid")
		account = fs.String("account", "", `account the service runs as (default LocalSystem); e.g. "NT SERVICE\leakwatch", a virtual account`)
	case "start":
		timeout = fs.Duration("timeout", 2*time.Minute, "how long to wait until it serves")
	case "stop":
		timeout = fs.Duration("timeout", service.StopTimeout+10*time.Second, "how long to wait until it has stopped")
	case "uninstall", "reload":
	default:
		return &usageError{fmt.Sprintf("unknown service action %q: use install, uninstall, start, stop or reload", action)}
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	sys := env.Services
	switch action {
	case "install":
		return installService(env, sys, *name, *configFile, *account)
	case "uninstall":
		if err := sys.Uninstall(*name); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "removed service %s; the state directory and config stay\n", *name)
	case "start":
		if err := sys.Start(*name, *timeout); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "service %s is running\n", *name)
	case "stop":
		if err := sys.Stop(*name, *timeout); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "service %s has stopped\n", *name)
	case "reload":
		if err := sys.Reload(*name); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "asked service %s to reload; its log says whether the new config was taken\n", *name)
	}
	return nil
}

// installService installs the service only with a config that loads: a
// service that fails at every boot, with its reason in the event log, is
// found later and at a worse time.
func installService(env *Env, sys service.System, name, configFile, account string) error {
	if _, ok := sys.(service.Unsupported); ok {
		return service.ErrUnsupported
	}
	abs, err := filepath.Abs(configFile)
	if err != nil {
		return err
	}
	if _, err := config.Load(abs, nil); err != nil {
		return fmt.Errorf("not installing with a config that does not load:\n%w", err)
	}
	exe, err := env.Executable()
	if err != nil {
		return fmt.Errorf("finding leakwatch's own path: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	spec, err := service.NewSpec(name, exe, abs, account)
	if err != nil {
		return err
	}
	if err := sys.Install(spec); err != nil {
		return err
	}
	who := account
	if who == "" {
		who = "LocalSystem"
	}
	fmt.Fprintf(env.Stdout, "installed service %s (automatic start, restarted on failure) as %s:\n  \"%s\" run --config \"%s\"\nstart it with: leakwatch service start --name %s\n", name, who, exe, abs, name)
	return nil
}

// runService is `leakwatch run` under the Windows service control manager:
// stderr goes nowhere, so the log goes to <state_dir>\leakwatch.log and
// the event log (source name). A config that does not load is reported
// there too.
func runService(ctx context.Context, env *Env, fs *pflag.FlagSet, name string, ready func(), reloads <-chan struct{}) error {
	events, evErr := env.Services.OpenEventLog(name)
	if evErr != nil {
		events = nil
	} else {
		defer events.Close()
	}
	var ew service.EventWriter = discardEvents{}
	if events != nil {
		ew = events
	}
	cfg, err := loadConfig(fs)
	if err != nil {
		ew.Error(service.EventError, "leakwatch did not start: "+err.Error())
		return err
	}
	level := new(slog.LevelVar)
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	var file io.Writer = io.Discard
	path := filepath.Join(cfg.StateDir, "leakwatch.log")
	var fileErr error
	if fileErr = os.MkdirAll(cfg.StateDir, 0o750); fileErr == nil {
		var lf *service.LogFile
		if lf, fileErr = service.OpenLogFile(path, logFileMax); fileErr == nil {
			defer lf.Close()
			file = lf
		}
	}
	if fileErr != nil && evErr != nil {
		return fmt.Errorf("nowhere to log: %v; event log: %v", fileErr, evErr)
	}
	logger := service.NewLogger(file, ew, cfg.Log.Format, level)
	if fileErr != nil {
		logger.Warn("logging to the event log only", "file", path, "err", fileErr)
	}
	if evErr != nil {
		logger.Warn("logging to the file only: cannot open the event log (was the service installed with leakwatch service install?)", "source", name, "err", evErr)
	}
	logger.Info("starting as a Windows service", "service", name, "config", cfg.File, "log_file", path)
	err = runDaemon(ctx, env, fs, cfg, logger, level, ready, reloads)
	if err != nil {
		logger.Error("leakwatch stopped", "err", err)
	}
	return err
}

type discardEvents struct{}

func (discardEvents) Info(uint32, string) error    { return nil }
func (discardEvents) Warning(uint32, string) error { return nil }
func (discardEvents) Error(uint32, string) error   { return nil }

package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/config"
)

// noRestarter fails the test if the daemon ever tries a restart: the
// tests run in observe mode.
type noRestarter struct{ tb testing.TB }

func (r noRestarter) Restart(context.Context, string) (string, error) {
	r.tb.Error("observe mode must never restart")
	return "", fmt.Errorf("not in this test")
}

func bsd(t time.Time) string { return t.UTC().Format("Jan _2 15:04:05.000") }

// testConfig is the default config with its state under dir and UTC as the
// timezone.
func testConfig(dir string) *config.Config {
	cfg := config.Default()
	cfg.Timezone = "UTC"
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Audit.File = filepath.Join(cfg.StateDir, "audit.jsonl")
	return cfg
}

// startDaemon runs a daemon with opts and HTTP on a loopback port 0 until
// the test ends; it returns the daemon and its base URL. A nil Logger
// discards, a nil NewRestarter gives a noRestarter.
func startDaemon(tb testing.TB, opts Options) (*Daemon, string) {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	opts.Listener = l
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.NewRestarter == nil {
		opts.NewRestarter = func(*config.Config) (actuator.Restarter, error) { return noRestarter{tb}, nil }
	}
	d, err := newDaemon(opts)
	if err != nil {
		l.Close()
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		defer d.close()
		if err := d.run(ctx); err != nil {
			tb.Errorf("run: %v", err)
		}
	})
	tb.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return d, "http://" + l.Addr().String()
}

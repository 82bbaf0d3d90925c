package demo

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/daemon"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/mmp"
)

// sshRestarter is the demo's SSH path, as `leakwatch demo` builds it.
type sshRestarter struct {
	c       *mmp.Client
	targets map[string]mmp.Target
}

func (r *sshRestarter) Restart(ctx context.Context, bridge string) (string, error) {
	res, err := r.c.Run(ctx, r.targets[bridge])
	return res.Output, err
}

// TestDemoRestartsTheLeakingBridge runs the whole loop at high speed: the
// simulated cms2 leaks, leakwatch proves it, restarts it over real SSH to
// the fake MMP inside the window, and sees it recover; cms1 and cms3 are
// left alone.
func TestDemoRestartsTheLeakingBridge(t *testing.T) {
	d, err := New(Options{Speed: 900, ListenAddress: "127.0.0.1:0", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cfg := d.Config
	pw, _ := os.ReadFile(cfg.SSH.PasswordFile)
	client, err := mmp.NewClient(mmp.Options{KnownHostsFile: cfg.SSH.KnownHosts, MinInterval: -1},
		mmp.Auth{Password: strings.TrimSpace(string(pw))}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	r := &sshRestarter{c: client, targets: map[string]mmp.Target{}}
	for _, wb := range cfg.Inventory.WebBridges {
		r.targets[wb.Name] = mmp.Target{Name: wb.Name, Address: wb.MMP.Address, User: wb.MMP.User, Command: wb.MMP.Command}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { d.Simulate(ctx) })
	wg.Go(func() {
		err := daemon.Run(ctx, daemon.Options{Config: cfg, Listener: d.Listener, Now: d.Now,
			NewRestarter: func(*config.Config) (actuator.Restarter, error) { return r, nil },
			StepInterval: 100 * time.Millisecond, Logger: testLogger(t), OnReady: func(net.Addr) {}})
		if err != nil {
			t.Errorf("daemon: %v", err)
		}
	})

	url := d.URL()
	deadline := time.Now().Add(80 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no restart within the deadline; restarts %v\nmetrics:\n%s", d.Restarts(), harness.Body(t, url+"metrics"))
		}
		if m := harness.Body(t, url+"metrics"); strings.Contains(m, `leakwatch_restarts_total{result="ok",webbridge="cms2"} 1`) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if got := d.Restarts(); len(got) != 1 || got[0] != "cms2" {
		t.Fatalf("fake MMPs were told to restart %v, want only cms2", got)
	}
	// Recovery: the audit log records it within recover_timeout.
	for {
		entries, err := audit.ReadTail(cfg.Audit.File, 200)
		if err != nil {
			t.Fatal(err)
		}
		recovered := false
		for _, e := range entries {
			if e.Event == audit.EventRecovered && e.Bridge == "cms2" {
				recovered = true
			}
			if e.Event == audit.EventBreakerTripped {
				t.Fatalf("breaker tripped: %+v", e)
			}
		}
		if recovered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cms2 did not recover; audit: %+v", entries)
		}
		time.Sleep(250 * time.Millisecond)
	}
	page := harness.Body(t, url)
	for _, want := range []string{"cms1", "cms2", "cms3", "enforce"} {
		if !strings.Contains(strings.ToLower(page), want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if strings.Contains(page, demoPassword) || strings.Contains(harness.Body(t, url+"metrics"), demoPassword) {
		t.Error("the MMP password leaked into the page or the metrics")
	}
}

//go:build unix

package daemon

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/policy"
)

// TestReloadOnSIGHUP reloads a good config, then refuses a bad one and
// keeps running on the last good one, saying why.
func TestReloadOnSIGHUP(t *testing.T) {
	testReload(t, nil, func() { syscall.Kill(os.Getpid(), syscall.SIGHUP) })
}

// TestReloadOnRequest does the same through Options.Reloads, which the
// Windows service's paramchange control feeds (Windows has no SIGHUP).
func TestReloadOnRequest(t *testing.T) {
	reloads := make(chan struct{})
	testReload(t, reloads, func() { reloads <- struct{}{} })
}

func testReload(t *testing.T, reloads chan struct{}, trigger func()) {
	dir := t.TempDir()
	file := filepath.Join(dir, "leakwatch.yaml")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := "state_dir: " + filepath.Join(dir, "state") + "\npolicy:\n  windows: [\"Sat 02:00-04:00\"]\n"
	write(base + "  threshold: 20\n")
	cfg, err := config.Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs harness.Buffer
	d, _ := startDaemon(t, Options{Config: cfg,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Reload:  func() (*config.Config, error) { return config.Load(file, nil) },
		Reloads: reloads})
	harness.Eventually(t, 20*time.Second, "ready", func() bool { return d.ready.Load() })

	write(base + "  threshold: 35\n  mode: enforce\n")
	trigger()
	// enforce without an inventory is refused: the old config stays.
	harness.Eventually(t, 20*time.Second, "refusal", func() bool { return strings.Contains(logs.String(), "config reload refused") })
	if got := d.cfg.Load().Policy.Threshold; got != 20 {
		t.Fatalf("threshold after a bad reload = %d, want the old 20", got)
	}
	if !strings.Contains(logs.String(), "policy.mode: enforce needs inventory.webbridges") {
		t.Errorf("the refusal does not say why:\n%s", logs.String())
	}

	write(base + "  threshold: 35\n")
	trigger()
	harness.Eventually(t, 20*time.Second, "reload", func() bool { return d.cfg.Load().Policy.Threshold == 35 })
	if d.act.Status().Mode != policy.ModeObserve {
		t.Errorf("mode = %s", d.act.Status().Mode)
	}
}

// TestAuditReopenedOnSIGHUP rotates the audit log as logrotate does (rename,
// then SIGHUP) and checks that the entries written after the signal go to
// a new file at the configured path, not on into the rotated one.
func TestAuditReopenedOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "leakwatch.yaml")
	write := func(mode string) {
		s := "state_dir: " + filepath.Join(dir, "state") + `
inventory:
  webbridges:
    - name: wb1
      hosts: [cms1]
      mmp:
        address: 127.0.0.1:1
  callbridges:
    - name: cb1
      hosts: [cms1]
policy:
  mode: ` + mode + `
  windows: ["Sat 02:00-04:00"]
`
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("observe")
	cfg, err := config.Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs harness.Buffer
	d, _ := startDaemon(t, Options{Config: cfg,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Reload: func() (*config.Config, error) { return config.Load(file, nil) }})
	harness.Eventually(t, 20*time.Second, "ready", func() bool { return d.ready.Load() })

	auditFile := cfg.Audit.File
	rotated := auditFile + ".1"
	if err := os.Rename(auditFile, rotated); err != nil {
		t.Fatal(err)
	}
	// The mode change is audited (event "config") by the reload the same
	// signal triggers.
	write("enforce")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	harness.Eventually(t, 20*time.Second, "reload", func() bool { return d.act.Status().Mode == policy.ModeEnforce })

	newEntries, err := audit.ReadTail(auditFile, 100)
	if err != nil {
		t.Fatal(err)
	}
	oldEntries, err := audit.ReadTail(rotated, 100)
	if err != nil {
		t.Fatal(err)
	}
	has := func(es []audit.Entry) bool {
		for _, e := range es {
			if e.Event == audit.EventConfig && e.Mode == string(policy.ModeEnforce) {
				return true
			}
		}
		return false
	}
	if !has(newEntries) {
		t.Errorf("the mode change after the rotation is not in the new %s (%d entries); in the rotated file: %v\nlogs:\n%s",
			filepath.Base(auditFile), len(newEntries), has(oldEntries), logs.String())
	}
	if has(oldEntries) {
		t.Errorf("the mode change after the rotation went on into the rotated %s", filepath.Base(rotated))
	}
}

// TestNeedsRestartNamesEachChangedKey: a reload names every changed key
// that applies only at a restart, by its path in the file, and none that a
// reload applies at once (policy, SSH, the MMPs, the log level).
func TestNeedsRestartNamesEachChangedKey(t *testing.T) {
	dir := t.TempDir()
	base := func() *config.Config {
		cfg := testConfig(dir)
		cfg.Inputs.Files.Paths = []string{"/var/log/cms/*.log"}
		cfg.Inputs.Syslog.Sources = []config.SyslogSource{{Address: "10.0.0.5", Hosts: []string{"cms1"}}}
		cfg.Inventory.WebBridges = []config.WebBridge{{Name: "wb1", Hosts: []string{"cms1"}, MMP: config.MMP{Address: "cms1:22"}}}
		cfg.Inventory.CallBridges = []config.CallBridge{{Name: "cb1", Hosts: []string{"cms1"}}}
		return cfg
	}
	tests := []struct {
		name   string
		change func(*config.Config)
		want   []string
	}{
		{"nothing", func(*config.Config) {}, nil},
		{"applied at once", func(c *config.Config) {
			c.Policy.Threshold++
			c.Log.Level = "debug"
			c.SSH.User = "other"
			c.Inventory.WebBridges[0].MMP.Address = "cms1b:22"
		}, nil},
		{"log format", func(c *config.Config) { c.Log.Format = "json" }, []string{"log.format"}},
		{"followed paths", func(c *config.Config) { c.Inputs.Files.Paths = append(c.Inputs.Files.Paths, "/tmp/x.log") }, []string{"inputs.files.paths"}},
		{"a source's hosts", func(c *config.Config) { c.Inputs.Syslog.Sources[0].Hosts = []string{"cms2"} }, []string{"inputs.syslog.sources"}},
		{"a web bridge's hosts", func(c *config.Config) { c.Inventory.WebBridges[0].Hosts = []string{"cms9"} }, []string{"inventory.webbridges[0].hosts"}},
		{"one more web bridge", func(c *config.Config) {
			c.Inventory.WebBridges = append(c.Inventory.WebBridges, config.WebBridge{Name: "wb2"})
		}, []string{"inventory.webbridges"}},
		{"a call bridge's hosts", func(c *config.Config) { c.Inventory.CallBridges[0].Hosts = []string{"cms2"} }, []string{"inventory.callbridges"}},
		{"model and web", func(c *config.Config) {
			c.Model.PeakWindow += time.Minute
			c.Web.ListenAddresses = []string{"127.0.0.1:1"}
		}, []string{"web.listen_address", "model.peak_window"}},
		{"etcd and the cluster's name", func(c *config.Config) {
			c.HA.Etcd.Endpoints = []string{"http://127.0.0.1:2379"}
			c.CMSCluster = "lab"
		}, []string{"cms_cluster", "ha.etcd.endpoints"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := base(), base()
			tt.change(b)
			if got := needsRestart(a, b); !slices.Equal(got, tt.want) {
				t.Errorf("needsRestart = %q, want %q", got, tt.want)
			}
		})
	}
}

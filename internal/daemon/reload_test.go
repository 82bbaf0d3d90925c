//go:build unix

package daemon

import (
	"log/slog"
	"os"
	"path/filepath"
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

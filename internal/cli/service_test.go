package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/service"
)

// fakeServices is a service control manager that records what it is asked.
type fakeServices struct {
	mu        sync.Mutex
	calls     []string
	installed []service.Spec
	isService bool
	events    *fakeEventLog
	served    chan struct{} // closed when the ServiceFunc called ready
	timeout   time.Duration
	// whileServing, if set, runs once the service serves, with the
	// service's reload channel; the service is stopped when it returns.
	whileServing func(reloads chan<- struct{})
}

func (f *fakeServices) record(c string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

func (f *fakeServices) Install(s service.Spec) error {
	f.record("install " + s.Name)
	f.installed = append(f.installed, s)
	return nil
}
func (f *fakeServices) Uninstall(n string) error { f.record("uninstall " + n); return nil }
func (f *fakeServices) Start(n string, t time.Duration) error {
	f.record("start " + n)
	f.timeout = t
	return nil
}
func (f *fakeServices) Stop(n string, t time.Duration) error {
	f.record("stop " + n)
	f.timeout = t
	return nil
}
func (f *fakeServices) Reload(n string) error    { f.record("reload " + n); return nil }
func (f *fakeServices) IsService() (bool, error) { return f.isService, nil }

// Run serves run as the service control manager would: once run says it
// serves, it runs whileServing, then stops the service (cancels its
// context).
func (f *fakeServices) Run(run service.ServiceFunc) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.served = make(chan struct{})
	reloads := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	defer wg.Wait()
	return run(ctx, "leakwatch-test", func() {
		once.Do(func() {
			close(f.served)
			wg.Go(func() {
				defer cancel()
				if f.whileServing != nil {
					f.whileServing(reloads)
				}
			})
		})
	}, reloads)
}

func (f *fakeServices) OpenEventLog(source string) (service.EventLog, error) {
	f.record("eventlog " + source)
	return f.events, nil
}

type fakeEventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *fakeEventLog) add(kind, msg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, kind+": "+msg)
	return nil
}
func (l *fakeEventLog) Info(_ uint32, m string) error    { return l.add("info", m) }
func (l *fakeEventLog) Warning(_ uint32, m string) error { return l.add("warning", m) }
func (l *fakeEventLog) Error(_ uint32, m string) error   { return l.add("error", m) }
func (l *fakeEventLog) Close() error                     { return nil }
func (l *fakeEventLog) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.events, "\n")
}

func runWith(t *testing.T, sys service.System, exe string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &Env{Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }, Services: sys,
		Executable: func() (string, error) { return exe, nil }})
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "leakwatch.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServiceInstallRunsWithAnAbsoluteConfig(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "policy:\n  mode: observe\n")
	t.Chdir(dir)
	exe := filepath.Join(dir, "leakwatch.exe")
	f := &fakeServices{}
	code, out, errOut := runWith(t, f, exe, "service", "install", "--config", "leakwatch.yaml", "--name", "lw2", "--account", `NT SERVICE\lw2`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if len(f.installed) != 1 {
		t.Fatalf("installed %v", f.installed)
	}
	s := f.installed[0]
	want := []string{"run", "--config", filepath.Join(dir, "leakwatch.yaml")}
	if s.Name != "lw2" || s.Exe != exe || !reflect.DeepEqual(s.Args, want) || s.Account != `NT SERVICE\lw2` {
		t.Errorf("spec %+v, want lw2 running %s %v", s, exe, want)
	}
	if !strings.Contains(out, "leakwatch service start --name lw2") {
		t.Errorf("install does not say how to start it:\n%s", out)
	}
}

func TestServiceInstallRefusesABadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "policy:\n  mode: sometimes\n")
	f := &fakeServices{}
	code, _, errOut := runWith(t, f, filepath.Join(dir, "leakwatch.exe"), "service", "install", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "policy.mode") {
		t.Errorf("exit %d, stderr %q; want 1 naming policy.mode", code, errOut)
	}
	if len(f.calls) != 0 {
		t.Errorf("the service manager was called: %v", f.calls)
	}
}

func TestServiceActions(t *testing.T) {
	tests := []struct {
		args        []string
		code        int
		call        string
		timeout     time.Duration
		errContains string
		outContains string
	}{
		{args: []string{"service", "start"}, call: "start leakwatch", timeout: 2 * time.Minute},
		{args: []string{"service", "stop", "--name", "lw2", "--timeout", "5s"}, call: "stop lw2", timeout: 5 * time.Second},
		{args: []string{"service", "stop"}, call: "stop leakwatch", timeout: service.StopTimeout + 10*time.Second},
		{args: []string{"service", "uninstall", "--name", "lw2"}, call: "uninstall lw2"},
		{args: []string{"service", "reload"}, call: "reload leakwatch"},
		{args: []string{"service"}, code: 2, errContains: "needs an action"},
		{args: []string{"service", "restart"}, code: 2, errContains: `unknown service action "restart"`},
		{args: []string{"service", "start", "extra"}, code: 2, errContains: `unexpected argument "extra"`},
		{args: []string{"service", "uninstall", "--config", "x"}, code: 2, errContains: "unknown flag: --config"},
		{args: []string{"service", "--help"}, code: 0, outContains: "Actions"},
		{args: []string{"service", "stop", "--help"}, code: 0, outContains: "--timeout"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := &fakeServices{}
			code, out, errOut := runWith(t, f, "/x/leakwatch", tt.args...)
			if !strings.Contains(out, tt.outContains) {
				t.Errorf("stdout %q does not contain %q", out, tt.outContains)
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, errOut)
			}
			if tt.call != "" && (len(f.calls) != 1 || f.calls[0] != tt.call) {
				t.Errorf("calls %v, want %q", f.calls, tt.call)
			}
			if tt.call == "" && len(f.calls) != 0 {
				t.Errorf("calls %v, want none", f.calls)
			}
			if tt.timeout != 0 && f.timeout != tt.timeout {
				t.Errorf("timeout %s, want %s", f.timeout, tt.timeout)
			}
			if !strings.Contains(errOut, tt.errContains) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.errContains)
			}
		})
	}
}

func TestServiceOutsideWindowsPointsToSystemd(t *testing.T) {
	if _, ok := service.Native().(service.Unsupported); !ok {
		t.Skip("this system has a service manager")
	}
	code, _, errOut := runWith(t, nil, "/x/leakwatch", "service", "install")
	if code != 1 || !strings.Contains(errOut, "systemd") {
		t.Errorf("exit %d, stderr %q; want 1 pointing to systemd", code, errOut)
	}
}

// TestRunAsServiceLogsToFileAndEventLog runs the real daemon as the
// service control manager would start it.
func TestRunAsServiceLogsToFileAndEventLog(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cfg := writeConfig(t, dir, "web:\n  listen_address: 127.0.0.1:0\n")
	logPath := filepath.Join(state, "leakwatch.log")
	f := &fakeServices{isService: true, events: &fakeEventLog{}}
	// The manager's paramchange reloads the config, as SIGHUP does.
	f.whileServing = func(reloads chan<- struct{}) {
		writeConfig(t, dir, "web:\n  listen_address: 127.0.0.1:0\npolicy:\n  threshold: 35\n")
		reloads <- struct{}{}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if b, _ := os.ReadFile(logPath); strings.Contains(string(b), "config reloaded") {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	code, _, errOut := runWith(t, f, "/x/leakwatch", "run", "--config", cfg, "--state-dir", state)
	if code != 0 {
		t.Fatalf("exit %d: %s\nevents:\n%s", code, errOut, f.events.all())
	}
	select {
	case <-f.served:
	default:
		t.Fatal("the service never reported that it serves")
	}
	if errOut != "" {
		t.Errorf("a service wrote to stderr, which goes nowhere: %q", errOut)
	}
	log, err := os.ReadFile(filepath.Join(state, "leakwatch.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"starting as a Windows service", "service=leakwatch-test", "ready", "config reloaded"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("leakwatch.log lacks %q:\n%s", want, log)
		}
	}
	if ev := f.events.all(); !strings.Contains(ev, "info: msg=\"starting as a Windows service\"") {
		t.Errorf("event log:\n%s", ev)
	}
	if f.calls[0] != "eventlog leakwatch-test" {
		t.Errorf("event log source %v, want the service's own name", f.calls)
	}
}

func TestRunAsServiceReportsABadConfigToTheEventLog(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "policy:\n  mode: sometimes\n")
	f := &fakeServices{isService: true, events: &fakeEventLog{}}
	code, _, _ := runWith(t, f, "/x/leakwatch", "run", "--config", cfg)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if ev := f.events.all(); !strings.Contains(ev, "error: leakwatch did not start") || !strings.Contains(ev, "policy.mode") {
		t.Errorf("event log does not say why it did not start:\n%s", ev)
	}
}

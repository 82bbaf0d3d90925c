package sshfaults

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// Names used in every test's inventory: wb1 logs under cms1, cb1 under cms2.
const (
	bridge     = "wb1"
	threshold  = 10
	leaking    = 60 // sessions fed for wb1: a proven leak of 59 (CMA peak 1)
	recovered  = 3  // sessions below threshold: the leak is gone
	feedPeriod = time.Second
)

// standIn is a real OpenSSH sshd on 127.0.0.1 standing in for one MMP
// (harness.StartMMP), or only an address when mmp is nil.
type standIn struct {
	mmp     *harness.MMP
	addr    string
	user    string
	hostKey ssh.PublicKey
	// keyFile is a private key file whose public key is authorized.
	keyFile string
}

// startStandIn starts the stand-in MMP in mode ("ok", "failure" or
// "hang"). A missing sshd skips the test, or fails it under CI.
func startStandIn(t *testing.T, mode string) *standIn {
	t.Helper()
	m := harness.StartMMP(t, harness.MMPOptions{Mode: mode})
	return &standIn{mmp: m, addr: m.Addrs[0], user: m.User, hostKey: m.HostKey, keyFile: m.ClientKeyFile}
}

// commands returns the commands the stand-in recorded.
func (s *standIn) commands(t *testing.T) []string {
	t.Helper()
	if s.mmp == nil {
		return nil
	}
	return s.mmp.Commands(t)
}

// knownHostsLine is the known_hosts line trusting key for the stand-in.
func (s *standIn) knownHostsLine(key ssh.PublicKey) string {
	return knownhosts.Line([]string{s.addr}, key)
}

// newKeyFile writes a fresh unencrypted ed25519 private key to dir/name and
// returns its public key and the file.
func newKeyFile(t *testing.T, dir, name string) (ssh.PublicKey, string) {
	p := filepath.Join(dir, name)
	return harness.WriteKey(t, p), p
}

func writeFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}

// silentListener accepts TCP connections and never says a word, as a
// firewall that accepts and drops or a hung appliance would. It returns
// its address; connections are closed at the end of the test.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// settings are what a test varies in leakwatch's configuration.
type settings struct {
	mmpAddress string
	mmpUser    string
	keyFile    string
	// knownHosts is the content of ssh.known_hosts.
	knownHosts     string
	dialTimeout    time.Duration
	commandTimeout time.Duration
	recoverTimeout time.Duration
}

// fixture is one leakwatch state directory, its config, the followed log
// file it is fed through, and the `leakwatch run` process of the moment.
type fixture struct {
	t         *testing.T
	dir       string
	cfgPath   string
	logFile   string
	auditFile string

	lw  *harness.Process
	url string

	feeder *harness.Feeder // wb1 is host cms1, cb1 cms2
}

// newFixture writes leakwatch's config: enforce mode, a fast model
// (peak_window 10s), an always-open window, threshold 10, sustain 0s, no
// SSH pacing, and wb1's MMP as s says. Nothing runs yet.
func newFixture(t *testing.T, s settings) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir()}
	f.cfgPath = filepath.Join(f.dir, "leakwatch.yaml")
	f.logFile = filepath.Join(f.dir, "cms.log")
	state := filepath.Join(f.dir, "state")
	f.auditFile = filepath.Join(state, "audit.jsonl")
	knownHosts := filepath.Join(f.dir, "known_hosts")
	writeFile(t, knownHosts, s.knownHosts, 0o600)
	if s.mmpUser == "" {
		s.mmpUser = "admin"
	}
	if s.keyFile == "" {
		_, s.keyFile = newKeyFile(t, f.dir, "unused_key")
	}
	cfg := fmt.Sprintf(`timezone: UTC
state_dir: %q
log:
  level: debug
inputs:
  files:
    paths: [%q]
    poll_interval: 200ms
model:
  peak_window: 10s
  stale_after: 30s
  clock_skew: 0s
  future_tolerance: 1s
inventory:
  webbridges:
    - name: %s
      hosts: [cms1]
      mmp:
        address: %q
        user: %q
  callbridges:
    - name: cb1
      hosts: [cms2]
policy:
  mode: enforce
  threshold: %d
  sustain: 0s
  windows: ["daily 00:00-24:00"]
  max_active_sessions: 5
  cooldown: 1h
  max_per_day: 3
  recover_timeout: %s
ssh:
  key_file: %q
  known_hosts: %q
  dial_timeout: %s
  command_timeout: %s
  min_interval: 0s
`, state, f.logFile, bridge, s.mmpAddress, s.mmpUser, threshold, or(s.recoverTimeout, 20*time.Second),
		s.keyFile, knownHosts, or(s.dialTimeout, 5*time.Second), or(s.commandTimeout, 10*time.Second))
	writeFile(t, f.cfgPath, cfg, 0o600)
	writeFile(t, f.logFile, "", 0o644)
	f.feeder = harness.NewFeeder(t, f.logFile)
	return f
}

func or(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// start runs `leakwatch run` on the fixture's config with a fresh HTTP
// port and waits until it is ready.
func (f *fixture) start() *harness.Process {
	f.t.Helper()
	f.lw, f.url = harness.StartLeakwatch(f.t, nil, "leakwatch", f.cfgPath)
	return f.lw
}

// requireRunning fails the test at once if leakwatch has exited.
func (f *fixture) requireRunning() { f.lw.RequireRunning(f.t, "leakwatch") }

// healthy asserts that leakwatch still runs and answers /-/healthy.
func (f *fixture) healthy() {
	f.t.Helper()
	f.requireRunning()
	if code, _ := harness.Get(f.url + "/-/healthy"); code != 200 {
		f.t.Errorf("/-/healthy answered %d, want 200", code)
	}
}

// audit returns the whole audit log.
func (f *fixture) audit() []audit.Entry {
	f.t.Helper()
	es, err := audit.ReadTail(f.auditFile, 100000)
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

// events returns the audit entries of wb1 with event ev.
func (f *fixture) events(ev audit.Event) []audit.Entry {
	f.t.Helper()
	var out []audit.Entry
	for _, e := range f.audit() {
		if e.Event == ev && e.Bridge == bridge {
			out = append(out, e)
		}
	}
	return out
}

// waitEvent waits for a wb1 audit entry with event ev matching ok (nil: any)
// and returns the first one.
func (f *fixture) waitEvent(timeout time.Duration, ev audit.Event, ok func(audit.Entry) bool) audit.Entry {
	f.t.Helper()
	var found audit.Entry
	harness.Eventually(f.t, timeout, fmt.Sprintf("audit event %s of %s", ev, bridge), func() bool {
		f.requireRunning()
		for _, e := range f.events(ev) {
			if ok == nil || ok(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// metric scrapes /metrics and returns the series' value (false if absent).
func (f *fixture) metric(series string) (float64, bool) {
	f.t.Helper()
	code, body := harness.Get(f.url + "/metrics")
	if code != 200 {
		f.t.Fatalf("/metrics answered %d", code)
	}
	return harness.Metric(body, series)
}

// waitMetric waits until the series has value want.
func (f *fixture) waitMetric(timeout time.Duration, series string, want float64) {
	f.t.Helper()
	harness.Eventually(f.t, timeout, fmt.Sprintf("%s %v on /metrics", series, want), func() bool {
		f.requireRunning()
		v, ok := f.metric(series)
		return ok && v == want
	})
}

// holds checks cond every 100 ms for d and fails the test the first time it
// is false: it shows that something does not happen while leakwatch keeps
// evaluating (its policy steps every second).
func (f *fixture) holds(d time.Duration, what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		f.requireRunning()
		if !cond() {
			f.t.Fatalf("%s no longer holds", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// restartsWith is the series counting wb1's restarts with result.
func restartsWith(result string) string {
	return fmt.Sprintf(`leakwatch_restarts_total{result=%q,webbridge=%q}`, result, bridge)
}

// Series names on /metrics.
var (
	restartsFailed      = restartsWith("failed")
	restartsOK          = restartsWith("ok")
	restartsInterrupted = restartsWith("interrupted")
	breakerTripped      = fmt.Sprintf(`leakwatch_breaker_tripped{webbridge=%q}`, bridge)
	blockedByBreaker    = fmt.Sprintf(`leakwatch_restart_blocked{reason="breaker_tripped",webbridge=%q}`, bridge)
	blockedByCooldown   = fmt.Sprintf(`leakwatch_restart_blocked{reason="cooldown",webbridge=%q}`, bridge)
)

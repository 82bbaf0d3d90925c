package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/control"
	"github.com/leakwatch/leakwatch/internal/daemon"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/policy"
)

// operatorPolicy is a fast model and a policy in observe mode whose only
// blocking guard, for a leaking wb1 fed by feedLeak, is the load guard: 7
// CMA sessions are active, 5 are allowed. So `restart` is refused naming
// it, and `restart --force` lifts it.
const operatorPolicy = `model:
  peak_window: 10s
  stale_after: 30s
  clock_skew: 0s
policy:
  mode: observe
  threshold: 10
  sustain: 0s
  windows: ["daily 00:00-24:00"]
  max_active_sessions: 5
  cooldown: 1h
  max_per_day: 2
  recover_timeout: 1m
`

// feedLeak appends current-time stats lines to the site's log file every
// second until the test ends: wb1 reports 60 sessions; cb1 reports 7 CMA
// sessions now with a peak of 8 over a 10 s period covering wb1's sample,
// so wb1's leak is proven to be at least 52. Each batch carries an older
// cb1 report too, so the model is past its warm-up at once.
func feedLeak(t *testing.T, s *mmpSite) {
	t.Helper()
	write := func() error {
		now := time.Now()
		stamp := func(d time.Duration) string { return now.Add(-d).UTC().Format("Jan _2 15:04:05.000") }
		cb := ` user.info h-cb1 host:server:  INFO : STATS: {"callLegs": "7/8", "CMA": "7/8"}` + "\n"
		lines := stamp(11*time.Second) + cb +
			stamp(2*time.Second) + ` user.info h-wb1 "webbridge": INFO : [DEBUGGING] Stats 60, c:960, d:900` + "\n" +
			stamp(0) + cb
		f, err := os.OpenFile(s.logFile, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		_, err = f.WriteString(lines)
		return errors.Join(err, f.Close())
	}
	if err := write(); err != nil {
		t.Fatalf("feeding %s: %v", s.logFile, err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if err := write(); err != nil {
					t.Errorf("feeding %s: %v", s.logFile, err)
					return
				}
			}
		}
	})
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
}

// tripBreaker records a tripped breaker for bridge in the site's ledger, as
// an earlier failed restart would have left it.
func tripBreaker(t *testing.T, s *mmpSite, bridge string) {
	t.Helper()
	if err := os.MkdirAll(s.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	led, err := ledger.Load(s.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	led.TripBreaker(bridge, policy.TripRestartFailed, "restart command failed: earlier test failure", time.Now().Add(-time.Hour))
	if err := led.Save(); err != nil {
		t.Fatal(err)
	}
}

// breaker reads bridge's breaker from the ledger on disk.
func breaker(t *testing.T, s *mmpSite, bridge string) ledger.Breaker {
	t.Helper()
	led, err := ledger.Load(s.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	return led.Breaker(bridge)
}

// auditEvents returns the site's audit entries of bridge with event ev.
func auditEvents(t *testing.T, s *mmpSite, bridge string, ev audit.Event) []audit.Entry {
	t.Helper()
	es, err := audit.ReadTail(s.auditFile, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range es {
		if e.Event == ev && e.Bridge == bridge {
			out = append(out, e)
		}
	}
	return out
}

// startDaemon runs `leakwatch run`'s daemon in process on the site's
// config, with the same SSH restarter the command builds, until the test
// ends. It returns the base URL of its HTTP server once it is ready.
func startDaemon(t *testing.T, s *mmpSite) string {
	t.Helper()
	cfg, err := config.Load(s.config, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &harness.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := &Env{Stdout: io.Discard, Stderr: logs, Getenv: func(string) string { return "" }}
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		done <- daemon.Run(ctx, daemon.Options{
			Config:       cfg,
			Logger:       logger,
			NewRestarter: func(c *config.Config) (actuator.Restarter, error) { return newRestarter(c, env, logger) },
			Listener:     l,
			StepInterval: 200 * time.Millisecond,
			OnReady:      func(a net.Addr) { ready <- a },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs)
		}
		noSecret(t, logs.String())
	})
	select {
	case a := <-ready:
		return "http://" + a.String()
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("daemon stopped before it was ready: %v\n%s", err, logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("daemon not ready after 20s:\n%s", logs)
	}
	return ""
}

// metric scrapes url/metrics for series (name and labels as exposed) and
// returns its value, false if absent.
func metric(t *testing.T, url, series string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// TestOperatorWithoutDaemon: with no leakwatch running, reset acts on the
// ledger alone and is audited; restart refuses, because only the running
// daemon holds the current stats its guards need.
func TestOperatorWithoutDaemon(t *testing.T) {
	s := newSite(t, siteOptions{bridges: []string{"wb1"}, extra: operatorPolicy})
	tripBreaker(t, s, "wb1")

	for _, args := range [][]string{
		{"restart", "wb1", "--config", s.config},
		{"restart", "wb1", "--config", s.config, "--force"},
	} {
		code, out, errOut := run(t, args...)
		if code != 1 || !strings.Contains(errOut, "needs the running leakwatch") {
			t.Errorf("%v: exit %d, want 1 explaining it needs the running leakwatch\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		noSecret(t, out, errOut)
	}
	s.noCommands(t)
	if br := breaker(t, s, "wb1"); !br.Tripped {
		t.Fatalf("a refused restart changed the breaker: %+v", br)
	}

	code, out, errOut := run(t, "reset", "wb1", "--config", s.config)
	if code != 0 || !strings.Contains(out, "breaker of wb1 reset: automatic action resumes") {
		t.Fatalf("reset: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if br := breaker(t, s, "wb1"); br.Tripped || br.ResetAt.IsZero() {
		t.Errorf("after reset the ledger's breaker is %+v, want cleared with its reset time", br)
	}
	if n := len(auditEvents(t, s, "wb1", audit.EventBreakerReset)); n != 1 {
		t.Errorf("%d breaker_reset audit entries, want 1", n)
	}

	code, out, errOut = run(t, "reset", "wb1", "--config", s.config)
	if code != 0 || !strings.Contains(out, "breaker of wb1 was not tripped") {
		t.Errorf("second reset: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if n := len(auditEvents(t, s, "wb1", audit.EventBreakerReset)); n != 1 {
		t.Errorf("%d breaker_reset audit entries after a reset of an untripped breaker, want 1", n)
	}

	for _, args := range [][]string{
		{"reset", "--config", s.config},
		{"restart", "wb1", "wb2", "--config", s.config},
	} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestOperatorWithDaemon runs the daemon in process and drives it with the
// commands, which hand their requests over through the state directory:
// a forced restart does not lift the breaker; reset clears it; a plain
// restart is refused naming the guard that blocks (load); --force lifts
// that guard, restarts through the MMP and is audited as forced; and a
// recovering bridge refuses even a forced restart.
func TestOperatorWithDaemon(t *testing.T) {
	s := newSite(t, siteOptions{bridges: []string{"wb1"}, extra: operatorPolicy})
	srv := s.servers["wb1"]
	if err := os.MkdirAll(s.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.knownHosts, []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tripBreaker(t, s, "wb1")
	feedLeak(t, s)
	url := startDaemon(t, s)
	harness.Eventually(t, 20*time.Second, "wb1's leak proven on /metrics", func() bool {
		v, ok := metric(t, url, `cms_webbridge_leaked_sessions_lower_bound{webbridge="wb1"}`)
		return ok && v == 52
	})
	breakerSeries := `leakwatch_breaker_tripped{webbridge="wb1"}`
	if v, _ := metric(t, url, breakerSeries); v != 1 {
		t.Fatalf("%s = %v, want 1 from the ledger", breakerSeries, v)
	}

	type step struct {
		args []string
		code int
		// want must appear in stdout (exit 0) or stderr (exit 1).
		want     []string
		commands int // commands the MMP has received after the step
	}
	steps := []step{
		{args: []string{"restart", "wb1", "--force"}, code: 1,
			want: []string{"not restarted: breaker tripped (restart_failed)", "(breaker_tripped)"}},
		{args: []string{"reset", "wb1"}, code: 0,
			want: []string{"breaker of wb1 reset: automatic action resumes"}},
		{args: []string{"restart", "wb1"}, code: 1,
			want: []string{"not restarted: 8 CMA sessions active or at the latest report's peak (max_active_sessions 5) (too_many_active_sessions)"}},
		{args: []string{"restart", "wb1", "--force"}, code: 0,
			want: []string{"MMP output:", "wb1 restarted; waiting for its stats to show the leak gone"}, commands: 1},
		{args: []string{"restart", "wb1", "--force"}, code: 1,
			want: []string{"(recovering)"}, commands: 1},
	}
	for _, st := range steps {
		code, out, errOut := run(t, append(st.args, "--config", s.config)...)
		noSecret(t, out, errOut)
		if !strings.Contains(errOut, "asking the running leakwatch") {
			t.Errorf("%v did not hand its request to the daemon:\n%s", st.args, errOut)
		}
		got := out
		if st.code != 0 {
			got = errOut
		}
		if code != st.code {
			t.Fatalf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", st.args, code, st.code, out, errOut)
		}
		for _, w := range st.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v: output lacks %q\nstdout:\n%s\nstderr:\n%s", st.args, w, out, errOut)
			}
		}
		if cmds := srv.Commands(); len(cmds) != st.commands {
			t.Fatalf("after %v the MMP has received %q, want %d command(s)", st.args, cmds, st.commands)
		}
	}

	if cmds := srv.Commands(); cmds[0] != "webbridge restart" {
		t.Errorf("the MMP received %q, want webbridge restart", cmds[0])
	}
	if v, _ := metric(t, url, breakerSeries); v != 0 {
		t.Errorf("%s = %v after reset, want 0", breakerSeries, v)
	}
	if v, _ := metric(t, url, `leakwatch_restarts_total{result="ok",webbridge="wb1"}`); v != 1 {
		t.Errorf("leakwatch_restarts_total ok = %v, want 1", v)
	}
	if n := len(auditEvents(t, s, "wb1", audit.EventBreakerReset)); n != 1 {
		t.Errorf("%d breaker_reset audit entries, want 1", n)
	}
	// --force refusals are force_refused, plain ones restart_refused.
	refused := auditEvents(t, s, "wb1", audit.EventForceRefused)
	plain := auditEvents(t, s, "wb1", audit.EventRestartRefused)
	if len(refused) != 2 || len(plain) != 1 {
		t.Fatalf("force_refused %+v and restart_refused %+v, want 2 and 1", refused, plain)
	}
	refused = []audit.Entry{refused[0], plain[0], refused[1]}
	wantRefusals := []string{string(policy.ReasonBreakerTripped), string(policy.ReasonTooManyActiveSessions), string(policy.ReasonRecovering)}
	for i, e := range refused {
		if e.Reason != wantRefusals[i] {
			t.Errorf("refusal %d audited with reason %q, want %q", i, e.Reason, wantRefusals[i])
		}
	}
	if !refused[0].Forced || refused[1].Forced {
		t.Errorf("refusals audited with forced %v, %v; want true (--force), false", refused[0].Forced, refused[1].Forced)
	}
	started := auditEvents(t, s, "wb1", audit.EventRestartStarted)
	finished := auditEvents(t, s, "wb1", audit.EventRestartFinished)
	if len(started) != 1 || !started[0].Forced || started[0].Mode != "observe" {
		t.Errorf("restart_started entries %+v, want one, forced, in observe mode", started)
	}
	if len(finished) != 1 || !finished[0].Forced || finished[0].Result != "ok" || finished[0].Output == "" {
		t.Errorf("restart_finished entries %+v, want one, forced, ok, with the MMP's output", finished)
	}
	if br := breaker(t, s, "wb1"); br.Tripped {
		t.Errorf("the ledger on disk still shows the breaker tripped: %+v", br)
	}
}

// TestStaleForcedRestartRequestRefused: a `restart --force` whose command
// was killed leaves its request on disk. A daemon that reads it after its
// deadline must refuse and audit it, not restart with the window and load
// guards lifted for nobody. The same forced restart asked for by a live
// command then goes through, so the refusal was the request's age alone.
func TestStaleForcedRestartRequestRefused(t *testing.T) {
	s := newSite(t, siteOptions{bridges: []string{"wb1"}, extra: operatorPolicy})
	srv := s.servers["wb1"]
	if err := os.MkdirAll(filepath.Join(s.stateDir, "requests"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.knownHosts, []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	feedLeak(t, s)
	url := startDaemon(t, s)
	harness.Eventually(t, 20*time.Second, "wb1's leak proven on /metrics", func() bool {
		v, ok := metric(t, url, `cms_webbridge_leaked_sessions_lower_bound{webbridge="wb1"}`)
		return ok && v == 52
	})

	created := time.Now().Add(-10 * time.Minute)
	stale := control.Request{ID: "0123456789abcdef", Kind: control.KindRestart, Bridge: "wb1", Force: true,
		User: "op", PID: 999999, Time: created, Deadline: created.Add(20 * time.Second)}
	data, err := json.Marshal(stale)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.stateDir, "requests", stale.ID+".request"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	respPath := filepath.Join(s.stateDir, "requests", stale.ID+".response")
	harness.Eventually(t, 20*time.Second, "the daemon's answer to the stale request", func() bool { _, err := os.Stat(respPath); return err == nil })
	var resp control.Response
	if data, err := os.ReadFile(respPath); err != nil || json.Unmarshal(data, &resp) != nil {
		t.Fatalf("reading the answer: %v %s", err, data)
	}
	if resp.OK || !strings.Contains(resp.Message, "refused") || !strings.Contains(resp.Message, "nobody waits") {
		t.Errorf("answer %+v, want a refusal saying nobody waits", resp)
	}
	if cmds := srv.Commands(); len(cmds) != 0 {
		t.Fatalf("the daemon carried out a stale forced request: the MMP received %q", cmds)
	}
	refused := auditEvents(t, s, "wb1", audit.EventRequestRefused)
	if len(refused) != 1 || !refused[0].Forced || refused[0].Reason != "stale_request" ||
		!strings.Contains(refused[0].Detail, stale.ID) || !strings.Contains(refused[0].By, "pid 999999") {
		t.Errorf("request_refused audit entries %+v, want one naming the request and its process", refused)
	}

	code, out, errOut := run(t, "restart", "wb1", "--force", "--config", s.config)
	if code != 0 || len(srv.Commands()) != 1 {
		t.Errorf("a live forced restart: exit %d, MMP commands %q\nstdout:\n%s\nstderr:\n%s", code, srv.Commands(), out, errOut)
	}
}

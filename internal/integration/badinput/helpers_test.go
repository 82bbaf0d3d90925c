//go:build unix

package badinput

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// rssLimit is the resident memory leakwatch may reach while it digests any
// of the hazards: a few times its idle size, far below the size of the
// hostile input (50 MB line, 70 MB of hostnames).
const rssLimit = 60 << 20

// stampLayout is the BSD syslog timestamp the tests write, read in UTC.
const stampLayout = "Jan _2 15:04:05.000"

// wbLine is one Web Bridge 2 Stats line as a syslog server writes it.
func wbLine(at time.Time, host string, sessions, c, d int) string {
	return fmt.Sprintf("%s user.info %s webbridge: INFO : [DEBUGGING] Stats %d, c:%d, d:%d\n",
		at.UTC().Format(stampLayout), host, sessions, c, d)
}

// cbLine is one Call Bridge STATS line.
func cbLine(at time.Time, host string, cma, peak int) string {
	return fmt.Sprintf(`%s user.info %s host:server: INFO : STATS: {"callLegsPS": 0, "callLegs": "%d/%d", "CMA": "%d/%d"}`+"\n",
		at.UTC().Format(stampLayout), host, cma, peak, cma, peak)
}

// daemon is a running `leakwatch run`.
type daemon struct {
	t    *testing.T
	proc *harness.Process
	base string // http://127.0.0.1:PORT
	dir  string
}

// startDaemon writes a config of the settings every test shares plus extra
// (more top-level YAML sections, such as inputs and model), starts
// `leakwatch run` on it and waits until it is ready.
func startDaemon(t *testing.T, extra string) *daemon {
	t.Helper()
	bin := harness.Binary(t)
	dir := t.TempDir()
	port := harness.FreePort(t)
	cfg := fmt.Sprintf(`timezone: UTC
state_dir: %q
log:
  level: info
web:
  listen_address: "127.0.0.1:%d"
policy:
  windows: ["daily 00:00-24:00"]
%s`, filepath.Join(dir, "state"), port, extra)
	path := filepath.Join(dir, "leakwatch.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, dir: dir, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	d.proc = harness.Start(t, nil, bin, "run", "--config", path)
	d.waitFor(30*time.Second, "leakwatch to be ready", func() (bool, string) {
		code, body := harness.Get(d.base + "/-/ready")
		return code == 200, fmt.Sprintf("/-/ready answered %d %q", code, body)
	})
	return d
}

// pid is the process id of leakwatch.
func (d *daemon) pid() int { return d.proc.Cmd.Process.Pid }

// alive fails the test if leakwatch has exited.
func (d *daemon) alive() {
	d.t.Helper()
	select {
	case <-d.proc.Done():
		d.t.Fatalf("leakwatch exited (%v); output:\n%s", d.proc.Cmd.ProcessState, tail(d.proc.Output(), 4000))
	default:
	}
}

// scrape returns the /metrics body; it fails the test unless the scrape
// answers 200.
func (d *daemon) scrape() string {
	d.t.Helper()
	d.alive()
	code, body := harness.Get(d.base + "/metrics")
	if code != 200 {
		d.t.Fatalf("GET /metrics: status %d: %.500s", code, body)
	}
	return body
}

// metric returns the value of series (0 and false when absent).
func (d *daemon) metric(series string) (float64, bool) {
	d.t.Helper()
	return harness.Metric(d.scrape(), series)
}

// waitFor polls cond every 50 ms until it holds, failing the test after
// timeout with cond's last description, or at once if leakwatch exits.
func (d *daemon) waitFor(timeout time.Duration, what string, cond func() (bool, string)) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d.alive()
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMetric waits until series has the value want.
func (d *daemon) waitMetric(timeout time.Duration, series string, want float64) {
	d.t.Helper()
	d.waitFor(timeout, fmt.Sprintf("%s = %g", series, want), func() (bool, string) {
		v, ok := d.metric(series)
		return ok && v == want, fmt.Sprintf("%s = %g (present: %v)", series, v, ok)
	})
}

// stop stops leakwatch with SIGTERM and fails the test unless it exits
// cleanly: a hazard must never leave it unable to shut down.
func (d *daemon) stop() {
	d.t.Helper()
	d.alive()
	if err := d.proc.Stop(15 * time.Second); err != nil {
		d.t.Fatalf("leakwatch did not stop cleanly: %v; output:\n%s", err, tail(d.proc.Output(), 4000))
	}
}

// countLines counts the lines of the process output that contain every
// one of parts.
func countLines(out string, parts ...string) int {
	n := 0
	for line := range strings.Lines(out) {
		all := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				all = false
				break
			}
		}
		if all {
			n++
		}
	}
	return n
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// rssSampler records the largest resident memory of a process, read from
// /proc every few milliseconds until Stop.
type rssSampler struct {
	stopc chan struct{}
	wg    sync.WaitGroup
	max   int64
	n     int
	err   error
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stopc: make(chan struct{})}
	s.wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			rss, err := harness.RSS(pid)
			if err != nil {
				s.err = err
				return
			}
			s.max = max(s.max, rss)
			s.n++
			select {
			case <-s.stopc:
				return
			case <-tick.C:
			}
		}
	})
	return s
}

// Stop ends the sampling and returns the largest RSS seen, in bytes.
func (s *rssSampler) Stop(t *testing.T) int64 {
	t.Helper()
	close(s.stopc)
	s.wg.Wait()
	if s.err != nil {
		t.Fatalf("reading RSS: %v", s.err)
	}
	if s.n == 0 {
		t.Fatal("no RSS sample taken")
	}
	return s.max
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

// writeReplayConfig writes the config replay runs with: log times in UTC.
func writeReplayConfig(t *testing.T, dir, extra string) string {
	t.Helper()
	path := filepath.Join(dir, "replay.yml")
	cfg := "timezone: UTC\nstate_dir: " + strconv.Quote(filepath.Join(dir, "state")) + "\n" + extra
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// cliResult is how a leakwatch command that runs to its end went.
type cliResult struct {
	stdout, stderr string
	code           int   // exit status
	maxRSS         int64 // peak resident memory, bytes
}

// runCLI runs leakwatch with args to its end (at most two minutes).
func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, harness.Binary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("leakwatch %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("leakwatch %v did not finish within two minutes", args)
	}
	r := cliResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss << 10 // kilobytes on Linux
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("leakwatch %v was killed by %v; stderr:\n%s", args, ws.Signal(), tail(r.stderr, 4000))
	}
	return r
}

// udpDrops returns how many datagrams the kernel dropped on the UDP socket
// bound to 127.0.0.1:port (its receive queue was full), from /proc/net/udp.
func udpDrops(t *testing.T, port int) uint64 {
	t.Helper()
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		t.Fatalf("reading UDP socket drops: %v", err)
	}
	defer f.Close()
	want := fmt.Sprintf("0100007F:%04X", port)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 13 || fields[1] != want {
			continue
		}
		n, err := strconv.ParseUint(fields[len(fields)-1], 10, 64)
		if err != nil {
			t.Fatalf("/proc/net/udp: drops column %q: %v", fields[len(fields)-1], err)
		}
		return n
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading /proc/net/udp: %v", err)
	}
	t.Fatalf("/proc/net/udp has no socket bound to 127.0.0.1:%d", port)
	return 0
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// Package harness helps integration tests run leakwatch as a real process
// next to real components (rsyslogd, sshd, prometheus) on loopback.
//
// Tests that need an external program call Need: it skips the test when the
// program is missing, except under CI (CI set), where it fails it.
package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/promtext"
)

// Need returns the path of program, searching PATH and the sbin folders.
// A missing program skips the test, or fails it under CI.
func Need(t testing.TB, program string) string {
	t.Helper()
	if p, err := exec.LookPath(program); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, program)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; .ci/run installs it", program)
	}
	t.Skipf("%s is not installed (CI would fail here)", program)
	return ""
}

// RepoRoot returns the repository root (the folder holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above " + file)
		}
		dir = parent
	}
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds cmd/leakwatch once per test process and returns its path.
//
// go test caches a passing package by the files the test itself opened
// or stat'ed; the go build it runs is invisible to it. So Binary stats
// every source file of the module first: changing any of them reruns the
// integration tests instead of replaying a stale pass.
func Binary(t testing.TB) string {
	t.Helper()
	statSources(t)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "leakwatch-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "leakwatch")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/leakwatch")
		cmd.Dir = RepoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

func statSources(t testing.TB) {
	root := RepoRoot(t)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".html") || d.Name() == "go.mod" || d.Name() == "go.sum" {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("reading the module's sources: %v", err)
	}
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Process is a running program whose output is kept for the test's log.
type Process struct {
	Cmd  *exec.Cmd
	out  Buffer
	done chan struct{}
	err  error
}

// Start starts program with args and env (added to the environment). It is
// killed at the end of the test if still running; its output is logged
// when the test fails.
func Start(t testing.TB, env []string, program string, args ...string) *Process {
	t.Helper()
	p := &Process{done: make(chan struct{})}
	p.Cmd = exec.Command(program, args...)
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Stdout = &p.out
	p.Cmd.Stderr = &p.out
	inOwnGroup(p.Cmd)
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", program, err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("output of %s %v:\n%s", filepath.Base(program), args, p.Output())
		}
	})
	return p
}

// Output returns what the process printed so far.
func (p *Process) Output() string { return p.out.String() }

// Signal sends sig to the process group.
func (p *Process) Signal(sig syscall.Signal) {
	if p.Cmd.Process != nil {
		signalGroup(p.Cmd.Process.Pid, sig)
	}
}

// Pause stops the process group (SIGSTOP): its connections stay open and
// nothing answers.
func (p *Process) Pause() {
	if p.Cmd.Process != nil {
		pauseGroup(p.Cmd.Process.Pid)
	}
}

// Resume continues a paused process group (SIGCONT).
func (p *Process) Resume() {
	if p.Cmd.Process != nil {
		resumeGroup(p.Cmd.Process.Pid)
	}
}

// Kill kills the process group with SIGKILL and waits for the process.
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits up to timeout for a graceful exit, then
// kills. It returns the exit error (nil for a clean exit).
func (p *Process) Stop(timeout time.Duration) error {
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("did not stop within %s; killed", timeout)
	}
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Eventually polls cond every 50 ms until it holds or timeout passes, then
// fails the test naming what it waited for.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Get fetches url and returns the status code and body ("" and 0 when the
// request fails, e.g. while the server starts).
func Get(url string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Body fetches url and returns its body; a failed request fails the test.
func Body(t testing.TB, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", url, err)
	}
	return string(b)
}

// Metric returns the value of the sample whose name and labels (as they
// appear in the exposition, e.g. `leakwatch_lines_total{source="files"}`)
// match series exactly, from a /metrics body.
func Metric(body, series string) (float64, bool) { return promtext.Value(body, series) }

var rssRe = regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`)

// RSS returns the resident memory of pid in bytes, from /proc.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := rssRe.FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no VmRSS for %d", pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10, nil
}

// Main runs a test package's tests and then removes the binary Binary
// built. Integration packages call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if buildPath != "" {
		os.RemoveAll(filepath.Dir(buildPath))
	}
	return code
}

package follow

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitTimeout bounds every wait in these tests. It is generous because the
// tests share two cores with other work; a passing run waits milliseconds.
const waitTimeout = 30 * time.Second

// testLogger logs through t, so that a failing test shows what the follower did.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// collector keeps a copy of every line delivered.
type collector struct {
	mu     sync.Mutex
	lines  []Line
	notify chan struct{}
	// hook, if set, runs in the handler after the line is recorded.
	hook func(Line)
}

func newCollector() *collector { return &collector{notify: make(chan struct{}, 1)} }

func (c *collector) handle(l Line) {
	c.mu.Lock()
	c.lines = append(c.lines, Line{Path: l.Path, Data: bytes.Clone(l.Data)})
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
	if c.hook != nil {
		c.hook(l)
	}
}

func (c *collector) snapshot() []Line {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Line(nil), c.lines...)
}

// waitFor waits until cond holds for the lines collected so far.
func (c *collector) waitFor(t testing.TB, what string, cond func([]Line) bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		if cond(c.snapshot()) {
			return
		}
		select {
		case <-c.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline.C:
			lines := c.snapshot()
			t.Fatalf("timed out waiting for %s; %d lines collected, last: %q", what, len(lines), lastData(lines))
		}
	}
}

// waitUntil is waitFor for a writer goroutine: it returns an error instead
// of failing the test.
func (c *collector) waitUntil(cond func([]Line) bool) error {
	deadline := time.Now().Add(waitTimeout)
	for !cond(c.snapshot()) {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %d lines", len(c.snapshot()))
		}
		select {
		case <-c.notify:
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// waitCond waits, from any goroutine, until cond holds.
func waitCond(cond func() bool) error { return waitCondFor(cond, waitTimeout) }

// waitCondFor waits up to d until cond holds.
func waitCondFor(cond func() bool, d time.Duration) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("condition not met within %s", d)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// waitLine waits for a line equal to data.
func (c *collector) waitLine(t testing.TB, data string) {
	t.Helper()
	c.waitFor(t, fmt.Sprintf("line %q", data), func(ls []Line) bool {
		for _, l := range ls {
			if string(l.Data) == data {
				return true
			}
		}
		return false
	})
}

// waitCount waits until n lines carrying tag have been collected.
func (c *collector) waitCount(t testing.TB, tag string, n int) {
	t.Helper()
	c.waitFor(t, fmt.Sprintf("%d lines tagged %q", n, tag), func(ls []Line) bool {
		return countTag(ls, tag) >= n
	})
}

func countTag(lines []Line, tag string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(string(l.Data), tag+" ") {
			n++
		}
	}
	return n
}

func lastData(lines []Line) string {
	if len(lines) == 0 {
		return ""
	}
	return string(lines[len(lines)-1].Data)
}

// seqLine is line n of the stream tag, without its newline.
func seqLine(tag string, n int) string { return fmt.Sprintf("%s %06d", tag, n) }

// endLine marks the end of a stream; once it is read, every line before it
// in the same file has been read.
func endLine(tag string) string { return tag + " END" }

// checkSequence asserts that the lines of stream tag are exactly 0..n-1,
// each once, and, if ordered, in that order.
func checkSequence(t testing.TB, lines []Line, tag string, n int, ordered bool) {
	t.Helper()
	seen := make([]int, n)
	var got []int
	for _, l := range lines {
		s := string(l.Data)
		if !strings.HasPrefix(s, tag+" ") || s == endLine(tag) {
			continue
		}
		num, err := strconv.Atoi(strings.TrimPrefix(s, tag+" "))
		if err != nil || num < 0 || num >= n || len(s) != len(seqLine(tag, 0)) {
			t.Errorf("unexpected line %q", s)
			continue
		}
		seen[num]++
		got = append(got, num)
	}
	bad := 0
	for i, c := range seen {
		if c != 1 {
			if bad < 10 {
				t.Errorf("line %s read %d times, want exactly once", seqLine(tag, i), c)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d lines of %q not read exactly once; %d lines delivered", bad, n, tag, len(got))
	}
	if ordered {
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Errorf("line %d delivered after line %d: out of order", got[i], got[i-1])
				break
			}
		}
	}
}

// run is a Follower running in its own goroutine.
type run struct {
	f      *Follower
	c      *collector
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start runs a Follower for cfg, stopped at the latest when the test ends.
func start(t testing.TB, cfg Config, c *collector, setup ...func(*Follower)) *run {
	t.Helper()
	f, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, s := range setup {
		s(f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{f: f, c: c, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- f.Run(ctx, c.handle) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the run and waits for Run to return.
func (r *run) stop(t testing.TB) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(waitTimeout):
			t.Fatalf("Run did not return after cancel")
		}
		if r.err != nil {
			t.Errorf("Run: %v", r.err)
		}
	})
}

// waitCaughtUp waits for CaughtUp.
func (r *run) waitCaughtUp(t testing.TB) {
	t.Helper()
	select {
	case <-r.f.CaughtUp():
	case <-time.After(waitTimeout):
		t.Fatal("CaughtUp not closed")
	}
}

// waitStats waits until cond holds for the follower's Stats.
func (r *run) waitStats(t testing.TB, what string, cond func(Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond(r.f.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stats %+v", what, r.f.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// modes are the two ways of noticing changes; hazard tests run in both.
var modes = []struct {
	name string
	poll bool
}{
	{"inotify", false},
	{"poll", true},
}

// testConfig is a config for patterns with short intervals, so that polling
// tests run fast.
func testConfig(poll bool, patterns ...string) Config {
	return Config{
		Patterns:     patterns,
		PollInterval: 20 * time.Millisecond,
		SaveInterval: 20 * time.Millisecond,
		RotateWait:   200 * time.Millisecond,
		Poll:         poll,
	}
}

// writer writes a numbered stream to a file, as a logging daemon would.
// It is used from one goroutine, the writer's.
type writer struct {
	path string
	tag  string
	f    *os.File
	next int
}

func newWriter(path, tag string) *writer { return &writer{path: path, tag: tag} }

// openWriter returns a writer of path with the file open (created if
// missing); it is closed at the end of the test.
func openWriter(t testing.TB, path, tag string) *writer {
	t.Helper()
	w := newWriter(path, tag)
	if err := w.reopen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.close() })
	return w
}

// reopen opens the path anew (creating it), closing the old file.
func (w *writer) reopen() error {
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	w.f = f
	return nil
}

// write writes the next n lines, one write call each.
func (w *writer) write(n int) error {
	for range n {
		if _, err := w.f.WriteString(seqLine(w.tag, w.next) + "\n"); err != nil {
			return err
		}
		w.next++
	}
	return nil
}

// end writes the end marker.
func (w *writer) end() error {
	_, err := w.f.WriteString(endLine(w.tag) + "\n")
	return err
}

func (w *writer) close() error {
	if w.f == nil {
		return nil
	}
	return w.f.Close()
}

// goWrite runs fn concurrently with the follower; the returned function
// waits for it and fails the test on its error.
func goWrite(t testing.TB, fn func() error) (wait func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	return func() {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("writer: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Fatal("writer did not finish")
		}
	}
}

// renameAway renames path to path.1, as logrotate does.
func renameAway(path string) error { return os.Rename(path, path+".1") }

// mustWriteFile writes content to path or fails the test.
func mustWriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

package follow

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// denyOpen makes the follower's open fail with EACCES while deny is set.
// The tests run as root, for whom chmod denies nothing, so the failure is
// injected at the one place the follower opens files; the reaction to it
// (count, log once, retry, never exit) is the real code path.
func denyOpen(deny *atomic.Bool) func(*Follower) {
	return func(f *Follower) {
		f.open = func(name string) (*os.File, error) {
			if deny.Load() {
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
			}
			return openFile(name)
		}
	}
}

// TestPermissionDenied follows a file that cannot be opened while a writer
// writes to it: the follower counts the failure, stays up, reports itself
// caught up (the file does not hold readiness back) and, once the file can
// be opened, reads every line once.
func TestPermissionDenied(t *testing.T) {
	const total = 1000
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			w := openWriter(t, path, "p")
			if err := w.write(total / 2); err != nil {
				t.Fatal(err)
			}
			var deny atomic.Bool
			deny.Store(true)
			c := newCollector()
			r := start(t, testConfig(m.poll, path), c, denyOpen(&deny))
			r.waitCaughtUp(t)

			wait := goWrite(t, func() error { return w.write(total / 2) })
			r.waitStats(t, "permission errors", func(s Stats) bool { return s.Errors[ReasonPermissionDenied] >= 3 })
			wait()
			if s := r.f.Stats(); s.Up || s.OpenFiles != 0 {
				t.Errorf("Stats Up=%v OpenFiles=%d while the only file is denied", s.Up, s.OpenFiles)
			}
			if n := len(c.snapshot()); n != 0 {
				t.Fatalf("%d lines delivered from a denied file", n)
			}

			deny.Store(false)
			if err := w.end(); err != nil {
				t.Fatal(err)
			}
			c.waitLine(t, endLine("p"))
			r.stop(t)
			checkSequence(t, c.snapshot(), "p", total, true)
		})
	}
}

// TestPermissionDeniedResume: a file known from the offsets file but denied
// at restart keeps its saved offset, so that when it becomes readable the
// follower resumes there instead of reading it again from 0.
func TestPermissionDeniedResume(t *testing.T) {
	const half = 500
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := testConfig(false, path)
	cfg.StateDir = filepath.Join(dir, "state")
	w := openWriter(t, path, "q")
	if err := w.write(half); err != nil {
		t.Fatal(err)
	}

	first := newCollector()
	r1 := start(t, cfg, first)
	first.waitCount(t, "q", half)
	r1.stop(t)

	// Second run: denied throughout; its shutdown save must keep the entry.
	var deny atomic.Bool
	deny.Store(true)
	second := newCollector()
	r2 := start(t, cfg, second, denyOpen(&deny))
	wait := goWrite(t, func() error { return w.write(half) })
	r2.waitStats(t, "permission errors", func(s Stats) bool { return s.Errors[ReasonPermissionDenied] >= 2 })
	wait()
	r2.stop(t)

	// Third run: denied at start, allowed later in the run.
	third := newCollector()
	r3 := start(t, cfg, third, denyOpen(&deny))
	r3.waitStats(t, "permission errors", func(s Stats) bool { return s.Errors[ReasonPermissionDenied] >= 2 })
	deny.Store(false)
	if err := w.end(); err != nil {
		t.Fatal(err)
	}
	third.waitLine(t, endLine("q"))
	r3.stop(t)
	all := append(append(first.snapshot(), second.snapshot()...), third.snapshot()...)
	checkSequence(t, all, "q", 2*half, true)
}

// TestPermissionDeniedChmod is the real thing for a non-root user.
func TestPermissionDeniedChmod(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file modes; TestPermissionDenied injects the failure instead")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	mustWriteFile(t, path, seqLine("c", 0)+"\n")
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	r := start(t, testConfig(false, path), c)
	r.waitStats(t, "permission errors", func(s Stats) bool { return s.Errors[ReasonPermissionDenied] >= 2 })
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	c.waitLine(t, seqLine("c", 0))
	r.stop(t)
	checkSequence(t, c.snapshot(), "c", 1, true)
}

package follow

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/fsnotify/fsnotify"
)

// TestPoll follows with Poll set, as on NFS: inotify is never used, and a
// writer's lines, across a rename rotation, all arrive once. The other
// hazard tests run in this mode too.
func TestPoll(t *testing.T) {
	const total = 1000
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := openWriter(t, path, "o")
	c := newCollector()
	watchers := 0
	r := start(t, testConfig(true, path), c, func(f *Follower) {
		f.newWatcher = func() (*fsnotify.Watcher, error) {
			watchers++
			return fsnotify.NewWatcher()
		}
	})
	r.waitCaughtUp(t)
	wait := goWrite(t, func() error {
		if err := w.write(total / 2); err != nil {
			return err
		}
		if err := c.waitUntil(func(ls []Line) bool { return len(ls) > 0 }); err != nil {
			return err
		}
		if err := renameAway(path); err != nil {
			return err
		}
		if err := w.reopen(); err != nil {
			return err
		}
		if err := w.write(total / 2); err != nil {
			return err
		}
		return w.end()
	})
	wait()
	c.waitLine(t, endLine("o"))
	s := r.f.Stats()
	r.stop(t)
	if watchers != 0 || s.Watching {
		t.Errorf("inotify used with Poll: %d watchers, Stats.Watching=%v", watchers, s.Watching)
	}
	checkSequence(t, c.snapshot(), "o", total, true)
}

// TestWatcherUnavailable: when inotify cannot be set up (instance limit
// reached, unsupported filesystem), the follower counts it, polls, and keeps
// trying to set it up.
func TestWatcherUnavailable(t *testing.T) {
	const total = 500
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := openWriter(t, path, "a")
	c := newCollector()
	r := start(t, testConfig(false, path), c, func(f *Follower) {
		f.newWatcher = func() (*fsnotify.Watcher, error) { return nil, errors.New("too many open files") }
	})
	r.waitCaughtUp(t)
	wait := goWrite(t, func() error {
		if err := w.write(total); err != nil {
			return err
		}
		return w.end()
	})
	wait()
	c.waitLine(t, endLine("a"))
	r.waitStats(t, "retries to set up inotify", func(s Stats) bool { return s.Errors[ReasonWatch] >= 2 })
	if r.f.Stats().Watching {
		t.Error("Stats.Watching true without a watcher")
	}
	r.stop(t)
	checkSequence(t, c.snapshot(), "a", total, true)
}

package follow

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchErrorLogEvery limits how often inotify errors (queue overflows under
// load) are logged; each one is counted.
const watchErrorLogEvery = time.Minute

// patternLevels describes where a pattern's files may appear: static is its
// deepest directory without wildcards, levels are the glob patterns of the
// directories below it (a/*, a/*/b, ...), and pattern itself.
type patternLevels struct {
	pattern string
	static  string
	levels  []string
}

func splitPatterns(patterns []string) []patternLevels {
	out := make([]patternLevels, 0, len(patterns))
	for _, p := range patterns {
		dir := filepath.Dir(p)
		static := dir
		for hasMeta(static) {
			static = filepath.Dir(static)
		}
		pl := patternLevels{pattern: p, static: static}
		if rel, err := filepath.Rel(static, dir); err == nil && rel != "." {
			level := static
			for _, part := range strings.Split(rel, string(filepath.Separator)) {
				level = filepath.Join(level, part)
				pl.levels = append(pl.levels, level)
			}
		}
		out = append(out, pl)
	}
	return out
}

func hasMeta(path string) bool { return strings.ContainsAny(path, `*?[\`) }

// watchDirs returns the directories whose events matter: for each pattern the
// nearest existing directory at or above its static part (so that a missing
// folder is noticed when it is created) and every existing directory matching
// its wildcard levels.
func (f *Follower) watchDirs() []string {
	var dirs []string
	for _, pl := range f.levels {
		anc := pl.static
		for !isDir(anc) {
			parent := filepath.Dir(anc)
			if parent == anc {
				break
			}
			anc = parent
		}
		dirs = append(dirs, anc)
		if anc != pl.static {
			continue // nothing below exists yet
		}
		for _, level := range pl.levels {
			matches, _ := filepath.Glob(level)
			for _, m := range matches {
				if isDir(m) {
					dirs = append(dirs, m)
				}
			}
		}
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// relevant reports whether an event on name can change what the patterns
// match: name matches a pattern or one of its directory levels, or lies on
// the way to its static directory.
func (f *Follower) relevant(name string) bool {
	for _, pl := range f.levels {
		if ok, _ := filepath.Match(pl.pattern, name); ok {
			return true
		}
		if name == pl.static || strings.HasPrefix(pl.static, name+string(filepath.Separator)) {
			return true
		}
		for _, level := range pl.levels {
			if ok, _ := filepath.Match(level, name); ok {
				return true
			}
		}
	}
	return false
}

// startWatcher sets up inotify; on failure the follower polls.
func (f *Follower) startWatcher() {
	w, err := f.newWatcher()
	if err != nil {
		f.stats.addError(ReasonWatch)
		if !f.watchDown {
			f.log.Warn("inotify unavailable; polling only", "poll_interval", f.cfg.PollInterval, "err", err)
			f.watchDown = true
		}
		return
	}
	if f.watchDown {
		f.log.Info("inotify available again")
		f.watchDown = false
	}
	f.watcher = w
	f.stats.setWatching(true)
}

// stopWatcher closes inotify. A non-nil cause is logged: polling takes over.
func (f *Follower) stopWatcher(cause error) {
	if f.watcher == nil {
		return
	}
	if cause != nil {
		f.stats.addError(ReasonWatch)
		f.log.Warn("inotify stopped; polling only", "poll_interval", f.cfg.PollInterval, "err", cause)
		f.watchDown = true
	}
	if err := f.watcher.Close(); err != nil {
		f.log.Debug("closing inotify", "err", err)
	}
	f.watcher = nil
	f.stats.setWatching(false)
}

// updateWatches makes the watched directories those of watchDirs. It
// reports whether a directory was added, whose files may predate the watch.
func (f *Follower) updateWatches() (added bool) {
	if f.watcher == nil {
		return false
	}
	want := f.watchDirs()
	have := f.watcher.WatchList()
	for _, d := range want {
		if slices.Contains(have, d) {
			continue
		}
		key := "watch:" + d
		if err := f.watcher.Add(d); err != nil {
			f.stats.addError(ReasonWatch)
			if f.failing[key] == "" {
				f.failing[key] = ReasonWatch
				f.log.Warn("cannot watch directory; polling covers it", "dir", d, "err", err)
			}
			continue
		}
		delete(f.failing, key)
		added = true
	}
	for _, d := range have {
		if !slices.Contains(want, d) {
			_ = f.watcher.Remove(d) // it may be gone already
		}
	}
	return added
}

// rescanAndWatch rescans, then watches any new directory and rescans again,
// since files may have appeared there before the watch existed.
func (f *Follower) rescanAndWatch() {
	for range 3 {
		f.rescan()
		if !f.updateWatches() {
			return
		}
	}
}

// onEvent reacts to one inotify event.
func (f *Follower) onEvent(ev fsnotify.Event) {
	if t := f.at[ev.Name]; t != nil {
		if ev.Op == fsnotify.Write {
			f.readFile(t, readBudget)
			return
		}
		f.rescanAndWatch()
		return
	}
	if ev.Has(fsnotify.Write) && f.hasRotated() {
		// A rotated file, under its new name, may be what is written.
		f.readRotated()
	}
	if !f.relevant(ev.Name) {
		return
	}
	if ev.Op == fsnotify.Write && f.failing[ev.Name] != "" {
		return // a file we cannot open: retried at the next poll, not per write
	}
	f.rescanAndWatch()
}

func (f *Follower) hasRotated() bool {
	return len(f.files) > len(f.at)
}

// onWatchError handles an inotify error, such as a queue overflow: events
// may have been lost, so everything is looked at again.
func (f *Follower) onWatchError(err error) {
	f.stats.addError(ReasonWatch)
	if now := f.now(); now.Sub(f.lastWatchLog) >= watchErrorLogEvery {
		f.lastWatchLog = now
		f.log.Warn("inotify error; rescanning", "err", err)
	}
	f.rescanAndWatch()
	for _, t := range f.at {
		f.readFile(t, readBudget)
	}
	f.readRotated()
}

package follow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// readBudget bounds how much of one file is read before the follower looks at
// its other files and events again.
const readBudget = 4 << 20

// Line is one line read from a followed file.
type Line struct {
	// Path is the path the file had when it was found. Lines read from a
	// file after it was rotated away keep that path.
	Path string
	// Data is the line without its newline. It is valid only during the
	// handler call: the handler must copy what it keeps.
	Data []byte
}

// Follower follows the files matching a set of glob patterns, like tail -F,
// across rotation, truncation and restarts. Create it with New.
type Follower struct {
	cfg      Config
	log      *slog.Logger
	levels   []patternLevels
	stats    *counters
	caughtUp chan struct{}
	started  atomic.Bool

	// Seams for tests.
	open       func(name string) (*os.File, error)
	newWatcher func() (*fsnotify.Watcher, error)
	now        func() time.Time

	// Owned by the Run goroutine.
	handle         func(Line)
	watcher        *fsnotify.Watcher
	watchDown      bool                     // logged that inotify is unavailable
	files          map[fileID]*tailedFile   // every open file
	at             map[string]*tailedFile   // the followed file at each matching path
	backlog        map[*tailedFile]struct{} // files left with unread data
	resume         map[fileID]stateEntry    // saved offsets not yet applied
	former         []former                 // content read that no file holds any more
	packed         map[fileID]*packed       // compressed files matching the patterns
	failing        map[string]string        // path (or "watch:"+dir) -> reason last logged
	startAtEnd     bool                     // during the first scan of a first start
	inFirstScan    bool
	firstScanDone  bool
	initialLeft    int // files present at start not yet read to their end
	caughtUpClosed bool
	saved          []byte // content of the offsets file last written
	saveFailing    bool
	saveNow        bool // a file was placed: save without waiting for the ticker
	lastWatchLog   time.Time
	lastCutLog     time.Time
	seq            uint64 // the last tailedFile.seq given
	readingOlder   bool   // in readOlder: no nested catch-up
}

// cutLogEvery limits how often lines cut at MaxLineBytes are logged; the
// truncated_line error count has every one.
const cutLogEvery = time.Minute

// New returns a Follower for cfg. It checks cfg but touches no file: Run does.
// A nil logger discards logs.
func New(cfg Config, logger *slog.Logger) (*Follower, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("follow config: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("follow config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Follower{
		cfg:        cfg,
		log:        logger,
		levels:     splitPatterns(cfg.Patterns),
		stats:      newCounters(),
		caughtUp:   make(chan struct{}),
		open:       openFile,
		newWatcher: fsnotify.NewWatcher,
		now:        time.Now,
		files:      map[fileID]*tailedFile{},
		at:         map[string]*tailedFile{},
		backlog:    map[*tailedFile]struct{}{},
		resume:     map[fileID]stateEntry{},
		packed:     map[fileID]*packed{},
		failing:    map[string]string{},
	}, nil
}

// CaughtUp returns a channel closed once every file present when Run started
// has been read to its end once. A file that could not be opened then (for
// example for lack of permission) does not hold it back: it is reported in
// Stats instead.
func (f *Follower) CaughtUp() <-chan struct{} { return f.caughtUp }

// Stats returns a snapshot of the counters. It is safe to call at any time
// from any goroutine.
func (f *Follower) Stats() Stats { return f.stats.snapshot() }

// Run follows the files until ctx is done, calling handle for every complete
// line, in order within each file, from this one goroutine. No failure of a
// file, a directory, inotify or the offsets file ends Run: each is logged,
// counted in Stats and retried. On return the offsets are saved; the error
// returned is that of this last save, if any. Run may be called only once.
func (f *Follower) Run(ctx context.Context, handle func(Line)) error {
	if handle == nil {
		return errors.New("follow: nil handler")
	}
	if !f.started.CompareAndSwap(false, true) {
		return errors.New("follow: Run called twice")
	}
	f.handle = handle
	f.stats.setRunning(true)
	defer f.stats.setRunning(false)
	defer f.closeAll()

	if !f.cfg.Poll {
		f.startWatcher()
		f.updateWatches()
	}
	f.firstScan()
	f.rescanAndWatch()
	f.updateCaughtUp()
	f.saveIfPlaced()

	poll := time.NewTicker(f.cfg.PollInterval)
	defer poll.Stop()
	save := time.NewTicker(f.cfg.SaveInterval)
	defer save.Stop()
	ready := make(chan struct{})
	close(ready)

	for {
		var events <-chan fsnotify.Event
		var errs <-chan error
		if f.watcher != nil {
			events, errs = f.watcher.Events, f.watcher.Errors
		}
		var more <-chan struct{}
		if len(f.backlog) > 0 {
			more = ready
		}
		select {
		case <-ctx.Done():
			if err := f.save(); err != nil {
				return fmt.Errorf("follow: saving offsets at shutdown: %w", err)
			}
			return nil
		case ev, ok := <-events:
			if !ok {
				f.stopWatcher(errors.New("event channel closed"))
				continue
			}
			f.onEvent(ev)
		case err, ok := <-errs:
			if !ok {
				f.stopWatcher(errors.New("error channel closed"))
				continue
			}
			f.onWatchError(err)
		case <-poll.C:
			f.poll()
		case <-save.C:
			_ = f.save() // logged and counted by save; retried next tick
		case <-more:
			for t := range f.backlog {
				f.readFile(t, readBudget)
			}
		}
		f.updateCaughtUp()
		f.saveIfPlaced()
	}
}

// saveIfPlaced saves the offsets at once when a file was placed (opened at
// its saved offset, or its start decided) since the last save. Offsets
// alone wait for SaveInterval, but a file missing from the offsets file is
// unknown after a crash: if it were then rotated and compressed, nothing
// would say which part of it was read, and its unread end would be lost.
func (f *Follower) saveIfPlaced() {
	if f.saveNow {
		f.saveNow = false
		_ = f.save() // logged and counted by save; retried at the next tick
	}
}

// poll is the safety net run every PollInterval, and the only reader with Poll.
func (f *Follower) poll() {
	if !f.cfg.Poll && f.watcher == nil {
		f.startWatcher()
	}
	f.rescanAndWatch()
	for _, t := range f.at {
		f.readFile(t, readBudget)
	}
	f.finishRotated()
}

// readFile reads t up to its end, or up to budget bytes if budget > 0, and
// delivers its complete lines. It returns whether data is left.
func (f *Follower) readFile(t *tailedFile, budget int64) (more bool) {
	f.readOlder(t)
	if (t.pending && !f.decide(t)) || (t.copyOf != nil && f.stillCopy(t)) {
		// Nothing to read yet, or all of it read from the original: it
		// holds nothing back.
		f.doneInitial(t)
		delete(f.backlog, t)
		return false
	}
	var total int64
	for {
		n, eof, truncated, err := t.readChunk(t.deliver)
		if err != nil {
			f.stats.addError(ReasonRead)
			if !t.failing {
				f.log.Warn("reading a followed file failed; retrying", "path", t.path, "err", err)
				t.failing = true
			}
			break
		}
		if t.failing {
			f.log.Info("reading a followed file works again", "path", t.path)
			t.failing = false
		}
		if truncated {
			f.log.Info("file truncated; reading it again from the start", "path", t.path, "offset", t.off)
			if len(t.copies) > 0 {
				// copytruncate: the copy holds the incomplete last line
				// whole, and the lines not read yet; it goes first.
				f.handOver(t)
			} else {
				t.flushPartial(t.deliver)
			}
			f.rememberFormer(former{path: t.path, id: t.id, head: t.head, off: t.committed()})
			t.restart()
			continue
		}
		total += int64(n)
		if eof || n == 0 {
			f.doneInitial(t)
			break
		}
		if budget > 0 && total >= budget {
			more = true
			break
		}
	}
	if total > 0 {
		t.lastGrowth = f.now()
	}
	if now := f.now(); t.cutLines > 0 && now.Sub(f.lastCutLog) >= cutLogEvery {
		f.lastCutLog = now
		f.log.Warn("line longer than max_line_bytes cut: its head was read, the rest up to its newline dropped",
			"path", t.path, "max_line_bytes", f.cfg.MaxLineBytes)
	}
	f.stats.flush(t)
	if more {
		f.backlog[t] = struct{}{}
	} else {
		delete(f.backlog, t)
	}
	return more
}

// readOlder reads, before t, every file opened before it (up to the read
// budget each). A
// file rotated away was opened before the one that took its path; the
// writer may still append to it after the rename, before it opens the new
// file. Events and map order would otherwise let the new file's lines
// overtake the rotated file's last ones, so a bridge's samples would arrive
// out of order. A file with nothing new costs one read that returns none.
func (f *Follower) readOlder(t *tailedFile) {
	if f.readingOlder || t.copyOf != nil || len(t.copies) > 0 {
		// copytruncate's pair orders itself: the copy takes over from
		// the original's offset when the original is truncated.
		return
	}
	f.readingOlder = true
	defer func() { f.readingOlder = false }()
	var older []*tailedFile
	for _, u := range f.files {
		if u.seq < t.seq && !u.pending && u.copyOf == nil && len(u.copies) == 0 {
			older = append(older, u)
		}
	}
	slices.SortFunc(older, func(a, b *tailedFile) int { return cmp.Compare(a.seq, b.seq) })
	for _, u := range older {
		f.readFile(u, readBudget)
	}
}

// doneInitial notes that a file present at start was read to its end.
func (f *Follower) doneInitial(t *tailedFile) {
	if t.initial {
		t.initial = false
		f.initialLeft--
	}
}

// finishRotated reads every file that left its path, and closes those that
// have not grown for RotateWait, delivering their incomplete last line.
func (f *Follower) finishRotated() {
	now := f.now()
	for _, t := range f.files {
		if !t.draining {
			continue
		}
		f.readFile(t, 0)
		if now.Sub(t.lastGrowth) >= f.cfg.RotateWait {
			f.log.Info("finished rotated file", "path", t.path)
			f.closeFile(t, true)
		}
	}
}

// readRotated reads every file that left its path.
func (f *Follower) readRotated() {
	for _, t := range f.files {
		if t.draining {
			f.readFile(t, 0)
		}
	}
}

// closeFile stops following t. With flush its incomplete last line, which
// can no longer be completed, is delivered first.
func (f *Follower) closeFile(t *tailedFile, flush bool) {
	if flush {
		t.flushPartial(t.deliver)
		f.handOver(t)
		f.rememberFormer(former{path: t.path, id: t.id, head: t.head, off: t.committed()})
	}
	t.unlinkCopy()
	f.stats.flush(t)
	if err := t.f.Close(); err != nil {
		f.log.Debug("closing a followed file", "path", t.path, "err", err)
	}
	delete(f.files, t.id)
	if f.at[t.at] == t {
		delete(f.at, t.at)
	}
	delete(f.backlog, t)
	f.doneInitial(t)
	f.stats.setFiles(len(f.files), len(f.at))
}

// closeAll releases every file and the watcher when Run returns. Incomplete
// lines are not delivered: the saved offsets make the next run read them.
func (f *Follower) closeAll() {
	f.stopWatcher(nil)
	for _, t := range f.files {
		f.closeFile(t, false)
	}
}

func (f *Follower) updateCaughtUp() {
	if !f.caughtUpClosed && f.firstScanDone && f.initialLeft <= 0 {
		close(f.caughtUp)
		f.caughtUpClosed = true
		f.log.Debug("caught up with the files present at start")
	}
}

// save writes the offsets when they changed since the last write.
func (f *Follower) save() error {
	if f.cfg.StateDir == "" {
		return nil
	}
	entries := make([]stateEntry, 0, len(f.files)+len(f.resume)+len(f.former)+len(f.packed))
	for _, t := range f.files {
		if t.pending {
			continue // nothing read: a new file at the next start too
		}
		e := stateEntry{Path: t.path, Dev: t.id.Dev, Ino: t.id.Ino, Head: t.head}
		switch {
		case t.copyOf != nil:
			e.Offset, e.Copy = max(t.off, t.copyOf.committed()), true
		case t.adopted:
			e.Offset, e.Copy = t.off, true
		default:
			e.Offset, e.Fingerprint, e.Discarding = t.committed(), t.committedFingerprint(), t.discarding
		}
		entries = append(entries, e)
	}
	for _, p := range f.former {
		entries = append(entries, stateEntry{Path: p.path, Dev: p.id.Dev, Ino: p.id.Ino, Head: p.head, Offset: p.off, Former: true})
	}
	for id, p := range f.packed {
		if p.started || p.done {
			entries = append(entries, stateEntry{Path: p.path, Dev: id.Dev, Ino: id.Ino, Offset: p.off,
				Compressed: p.kind, Done: p.done, Size: max(p.size, p.doneSize)})
		}
	}
	for _, e := range f.resume {
		// A file seen but not opened yet (permission denied): keep its offset.
		entries = append(entries, e)
	}
	content, err := encodeState(entries)
	if err == nil && string(content) == string(f.saved) {
		return nil
	}
	if err == nil {
		err = writeState(f.cfg.StateDir, content)
	}
	if err != nil {
		f.stats.addError(ReasonStateSave)
		if !f.saveFailing {
			f.log.Error("saving offsets failed; retrying", "dir", f.cfg.StateDir, "err", err)
			f.saveFailing = true
		}
		return err
	}
	if f.saveFailing {
		f.log.Info("saving offsets works again", "dir", f.cfg.StateDir)
		f.saveFailing = false
	}
	f.saved = content
	return nil
}

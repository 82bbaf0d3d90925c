package follow

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// candidate is a regular file found at a path matching a pattern.
type candidate struct {
	path string
	id   fileID
}

// glob returns the regular files matching the patterns, one per identity
// (a hard link or symlink to a followed file is not followed twice), in
// path order.
func (f *Follower) glob() []candidate {
	var paths []string
	for _, p := range f.cfg.Patterns {
		m, _ := filepath.Glob(p) // only ErrBadPattern, ruled out by New
		paths = append(paths, m...)
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)

	for p, reason := range f.failing {
		if reason != ReasonWatch && !slices.Contains(paths, p) {
			delete(f.failing, p) // gone: a new failure there will be logged
		}
	}
	seen := make(map[fileID]bool, len(paths))
	out := make([]candidate, 0, len(paths))
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // gone since the glob, or a dangling symlink
				f.pathFailed(p, reasonFor(err, ReasonStat), err)
			}
			continue
		}
		if !st.Mode().IsRegular() {
			continue
		}
		id, ok := pathIdentity(p, st)
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, candidate{path: p, id: id})
	}
	return out
}

// reasonFor maps err to the permission reason or to def.
func reasonFor(err error, def string) string {
	if errors.Is(err, fs.ErrPermission) {
		return ReasonPermissionDenied
	}
	return def
}

// pathFailed counts a failure on path and logs it when it is new, so that a
// file denied for days gives one log line, not one a second.
func (f *Follower) pathFailed(path, reason string, err error) {
	f.stats.addError(reason)
	if f.failing[path] == reason {
		return
	}
	f.failing[path] = reason
	f.log.Warn("cannot follow file; retrying every poll interval", "path", path, "reason", reason, "err", err)
}

// pathOK notes that path works again.
func (f *Follower) pathOK(path string) {
	if _, ok := f.failing[path]; ok {
		delete(f.failing, path)
		f.log.Info("file can be followed again", "path", path)
	}
}

// rescan matches the patterns again and reconciles the open files with what
// it finds. Files that left their path are read to their end before any new
// file is opened, so that across a rotation the old lines come first.
func (f *Follower) rescan() {
	cands := f.glob()
	where := make(map[fileID]string, len(cands))
	for _, c := range cands {
		where[c.id] = c.path
	}
	for _, t := range f.files {
		p, found := where[t.id]
		switch {
		case found && p == t.at:
		case found:
			// Moved to another matching path (x.log -> x.log.1 with x.log*),
			// or back to one: keep reading it where we are, and finish what
			// it holds before a new file at its old path is read.
			if !t.draining {
				f.log.Info("file renamed; still following it", "path", t.path, "now_at", p)
				f.stats.addRotation(t.path)
			}
			f.setAt(t, p)
			t.draining = false
			f.readFile(t, 0)
		case !t.draining:
			f.log.Info("file rotated or removed; finishing it", "path", t.path)
			f.stats.addRotation(t.path)
			if f.at[t.at] == t {
				delete(f.at, t.at)
			}
			t.at = ""
			t.draining = true
			t.lastGrowth = f.now()
			f.readFile(t, 0)
		default:
			// Rotated earlier: what its writer added since comes before the
			// lines of any file opened below.
			f.readFile(t, 0)
		}
	}

	f.stats.setFiles(len(f.files), len(f.at))

	var fresh []candidate
	for id := range f.packed {
		if _, ok := where[id]; !ok {
			delete(f.packed, id) // gone, or no longer matching
		}
	}
	for _, c := range cands {
		if p := f.packed[c.id]; p != nil && !f.packReused(c, p) {
			p.path = c.path
			f.readPacked(c.id, p, true)
			continue
		}
		if f.files[c.id] == nil {
			fresh = append(fresh, c)
		}
	}
	// After a restart, a file with a saved offset is older than one without.
	slices.SortStableFunc(fresh, func(a, b candidate) int {
		_, ra := f.resume[a.id]
		_, rb := f.resume[b.id]
		return cmp.Compare(boolRank(ra), boolRank(rb))
	})
	for _, c := range fresh {
		if t := f.openCandidate(c.path, c.path); t != nil {
			f.setAt(t, c.path)
			f.stats.setFiles(len(f.files), len(f.at))
			f.readFile(t, readBudget)
		}
	}
	f.stats.setFiles(len(f.files), len(f.at))
}

func boolRank(first bool) int {
	if first {
		return 0
	}
	return 1
}

// setAt records that t sits at the matching path p.
func (f *Follower) setAt(t *tailedFile, p string) {
	if t.at != "" && f.at[t.at] == t {
		delete(f.at, t.at)
	}
	f.at[p] = t
	t.at = p
}

// openCandidate opens the file at path and positions it: at its saved
// offset, at its end on a first start with StartAt "end", else at 0. Lines
// are reported under logical. It returns nil when the file cannot be opened
// or is already followed.
func (f *Follower) openCandidate(path, logical string) *tailedFile {
	fh, err := f.open(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			f.pathFailed(path, reasonFor(err, ReasonOpen), err)
		}
		return nil
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		f.pathFailed(path, ReasonStat, err)
		return nil
	}
	id, ok := openIdentity(fh, st)
	if !ok || !st.Mode().IsRegular() || f.files[id] != nil {
		// Replaced between the glob and the open: the next scan sees it.
		fh.Close()
		return nil
	}
	f.pathOK(path)
	t := newTailedFile(logical, id, fh, f.cfg.MaxLineBytes)
	f.seq++
	t.seq = f.seq
	t.deliver = func(b []byte) { f.handle(Line{Path: t.path, Data: b}) }
	t.lastGrowth = f.now()
	if e, ok := f.resume[id]; ok {
		delete(f.resume, id)
		f.resumeAt(t, e, path)
	} else if f.startAtEnd {
		if err := t.seekEnd(); err != nil {
			f.log.Warn("cannot find the end of a file; reading it from the start", "path", path, "err", err)
			f.stats.addError(ReasonRead)
			t.off, t.fpN, t.discarding, t.skipping = 0, 0, false, false
		}
		t.head = readHead(fh)
	} else {
		t.pending = true
	}
	if f.inFirstScan {
		t.initial = true
		f.initialLeft++
	}
	f.files[id] = t
	f.saveNow = true
	f.log.Info("following file", "path", path, "offset", t.off)
	return t
}

// resumeAt positions t, opened at path, by its saved entry e. This is the
// rule of the package comment's table: the same content before the saved
// offset resumes there; anything else means the saved content is gone
// from this file, and its head decides (decide): a copy of content read
// before continues from where that was read to, other content (the same
// file truncated, or a stranger with no known head) is read from 0.
func (f *Follower) resumeAt(t *tailedFile, e stateEntry, path string) {
	if e.Copy {
		t.pending = true
		t.copyHead, t.copyOff = e.Head, e.Offset
		return
	}
	t.off = e.Offset
	t.fpN = copy(t.fp[:], e.Fingerprint)
	t.discarding = e.Discarding
	if same, err := t.unchangedBefore(t.off); err == nil && same {
		t.head = readHead(t.f)
		return
	}
	f.log.Info("file changed while stopped (truncated, or its inode number reused); its first bytes decide where to read it from",
		"path", e.Path, "now_at", path, "saved_offset", e.Offset)
	f.rememberFormer(former{path: e.Path, id: t.id, head: e.Head, off: e.Offset})
	t.off, t.fpN, t.discarding = 0, 0, false
	t.truncations++
	t.pending = true
}

// firstScan loads the saved offsets and finishes the files that were rotated
// away while the follower was stopped, before anything else is read. The
// scan that follows opens the files at the matching paths.
func (f *Follower) firstScan() {
	f.inFirstScan = true
	defer func() { f.inFirstScan, f.startAtEnd, f.firstScanDone = false, false, true }()

	var entries []stateEntry
	found := false
	if f.cfg.StateDir != "" {
		var err error
		entries, found, err = loadState(f.cfg.StateDir)
		if err != nil {
			f.stats.addError(ReasonStateLoad)
			f.log.Error("offsets unusable; starting as on a first start", "start_at", f.cfg.StartAt, "err", err)
		}
	}
	f.startAtEnd = !found && f.cfg.StartAt == StartEnd
	live := entries[:0:0]
	for _, e := range entries {
		switch {
		case e.Former:
			f.rememberFormer(former{path: e.Path, id: e.id(), head: e.Head, off: e.Offset})
		case e.Compressed != "":
			f.packed[e.id()] = &packed{path: e.Path, kind: e.Compressed, size: -1, off: e.Offset,
				started: true, done: e.Done, doneSize: e.Size}
		default:
			f.resume[e.id()] = e
			live = append(live, e)
		}
	}
	entries = live
	where := make(map[fileID]string)
	for _, c := range f.glob() {
		where[c.id] = c.path
	}
	slices.SortFunc(entries, func(a, b stateEntry) int { return cmp.Compare(a.Path, b.Path) })
	// Content saved that no file holds now may have been compressed:
	// findPacked looks for it in the folders of such files.
	var lost []former
	var lostDirs []string
	for _, e := range entries {
		if p, ok := where[e.id()]; ok {
			// The rescan resumes it at its matching path.
			if !e.Copy && !sameContent(p, e) {
				lost = append(lost, former{path: e.Path, id: e.id(), head: e.Head, off: e.Offset})
				lostDirs = append(lostDirs, filepath.Dir(e.Path))
			}
			continue
		}
		rotated := findByID(filepath.Dir(e.Path), e.id())
		if rotated == "" {
			delete(f.resume, e.id())
			f.log.Warn("a file in the offsets is gone; unless a compressed copy of it is found, lines written to it after the last save are lost", "path", e.Path)
			p := former{path: e.Path, id: e.id(), head: e.Head, off: e.Offset}
			f.rememberFormer(p)
			lost = append(lost, p)
			lostDirs = append(lostDirs, filepath.Dir(e.Path))
			continue
		}
		if !e.Copy && !sameContent(rotated, e) {
			lost = append(lost, former{path: e.Path, id: e.id(), head: e.Head, off: e.Offset})
			lostDirs = append(lostDirs, filepath.Dir(e.Path))
		}
		// The inode number may have been freed and given to another file
		// (ext4 reuses them at once): resumeAt reads it from the saved
		// offset only if the content before it is unchanged.
		t := f.openCandidate(rotated, e.Path)
		if t == nil {
			delete(f.resume, e.id())
			continue
		}
		f.log.Info("finishing a file rotated while stopped", "path", e.Path, "now_at", rotated)
		t.at = ""
		t.draining = true
		f.readFile(t, 0)
	}
	slices.Sort(lostDirs)
	f.findPacked(slices.Compact(lostDirs), lost)
	f.rescan()
}

// sameContent reports whether the file at path still holds, before the
// offset saved in e, the bytes saved with it.
func sameContent(path string, e stateEntry) bool {
	fh, err := os.Open(path)
	if err != nil {
		return true // the open in the rescan reports it
	}
	defer fh.Close()
	t := &tailedFile{path: path, f: fh}
	t.fpN = copy(t.fp[:], e.Fingerprint)
	same, err := t.unchangedBefore(e.Offset)
	return err != nil || same
}

// findByID returns the path in dir of the regular file with identity id, or "".
func findByID(dir string, id fileID) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, de := range entries {
		if !de.Type().IsRegular() {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue
		}
		if got, ok := pathIdentity(filepath.Join(dir, de.Name()), info); ok && got == id {
			return filepath.Join(dir, de.Name())
		}
	}
	return ""
}

package follow

import (
	"bytes"
	"io"
)

// headLen is how many bytes of a file's start identify its content. A copy
// (copytruncate's x.log.1, a compressed x.log.1.gz once decompressed)
// starts with the same bytes as its original; a new file, whose first
// line carries a later timestamp, does not.
const headLen = 256

// maxFormer bounds the remembered heads of content that is gone (files
// truncated, closed or vanished): about two months of daily rotations.
const maxFormer = 64

// former is content the follower read that no file holds any more at that
// identity: a file truncated (its old content may live on in a copy), or
// closed after its rotation, or gone while leakwatch was stopped. A copy
// found later continues from off instead of being read again.
type former struct {
	path string
	id   fileID // the file it was read from; its own new content is no copy
	head []byte
	off  int64
}

// headsMatch reports whether a file starting with h (its first headLen
// bytes, or all of it if shorter) holds the same content as one whose head
// is known. Both must start with the same headLen bytes, or h must start
// with all of a shorter known head (which was then all of its file) and
// that must hold a whole line. maybe reports that h is a strict prefix of
// known: a copy that has only begun, or a new file too short to tell.
func headsMatch(h, known []byte) (match, maybe bool) {
	m := min(len(h), len(known))
	if m == 0 || !bytes.Equal(h[:m], known[:m]) {
		return false, false
	}
	switch {
	case m == headLen:
		return true, false
	case len(h) < len(known):
		return false, true
	}
	return bytes.IndexByte(known, '\n') >= 0, false
}

// copyMatch compares head h, of the file with identity self, with every
// content already read: the open files, the saved offsets not yet applied,
// and former content. off is the furthest any matching content was read
// to; live is an open file it matches (the original of a copy still being
// made), nil if none. undecided means h could still grow into a match.
func (f *Follower) copyMatch(self fileID, h []byte) (off int64, live *tailedFile, matched, undecided bool) {
	consider := func(known []byte, at int64) bool {
		ok, maybe := headsMatch(h, known)
		undecided = undecided || maybe
		if ok {
			matched = true
			off = max(off, at)
		}
		return ok
	}
	for id, t := range f.files {
		if id == self || t.pending || t.copyOf != nil {
			continue
		}
		if consider(t.head, t.committed()) && (live == nil || t.committed() > live.committed()) {
			live = t
		}
	}
	for id, e := range f.resume {
		if id != self && !e.Copy {
			consider(e.Head, e.Offset)
		}
	}
	for _, p := range f.former {
		if p.id != self {
			consider(p.head, p.off)
		}
	}
	if matched {
		undecided = false
	}
	return off, live, matched, undecided
}

// remember keeps content that no file holds any more under its identity,
// so that a copy of it found later is not read again.
func (f *Follower) rememberFormer(p former) {
	if len(p.head) == 0 || p.off == 0 {
		return
	}
	for i, q := range f.former {
		if bytes.Equal(q.head, p.head) {
			f.former[i].off = max(q.off, p.off)
			return
		}
	}
	f.former = append(f.former, p)
	if len(f.former) > maxFormer {
		f.former = f.former[len(f.former)-maxFormer:]
	}
}

// decide places a pending file by its head. It returns false while the
// file cannot be read yet: empty, a compressed file (handed over to
// readPacked), or a start too short to tell a copy from a new file.
func (f *Follower) decide(t *tailedFile) bool {
	h := readHead(t.f)
	if len(h) == 0 {
		return false
	}
	if kind := sniff(h); kind != "" {
		f.closeFile(t, false)
		f.packFound(t.at, t.id, kind, t.at != "")
		return false
	}
	off, live, matched, undecided := f.copyMatch(t.id, h)
	if ok, _ := headsMatch(h, t.copyHead); ok {
		// Still the copy it was when saved.
		off, matched, undecided = max(off, t.copyOff), true, false
	}
	if undecided {
		return false
	}
	t.copyHead = nil
	t.pending = false
	f.saveNow = true
	t.head = h
	if !matched {
		return true
	}
	// A copy holds content older than any file now being written: its
	// lines go before theirs (see readOlder).
	t.seq = 0
	if off > 0 {
		t.off, t.fpN, t.adopted = off, 0, true
	}
	if live != nil {
		// The original is still being read: its lines come from it; this
		// copy takes over where it stops (truncated or closed).
		t.copyOf = live
		live.copies = append(live.copies, t)
		f.log.Info("file is a copy of a followed file (copytruncate); reading it only past what the original gives",
			"path", t.path, "original", live.path)
		return false
	}
	f.log.Info("file is a copy of content already read; reading it from there", "path", t.path, "offset", off)
	return true
}

// handOver ends the copies of t at the moment t stops holding their
// content (t truncated or closed): each goes on from where t was read to.
func (f *Follower) handOver(t *tailedFile) {
	for _, c := range t.copies {
		if c.copyOf != t {
			continue
		}
		c.copyOf = nil
		if off := t.committed(); off > c.off {
			c.off, c.fpN, c.adopted = off, 0, true
		}
		f.readFile(c, 0)
	}
	t.copies = nil
}

// unlinkCopy forgets that t is a copy, when t is closed.
func (t *tailedFile) unlinkCopy() {
	if o := t.copyOf; o != nil {
		for i, c := range o.copies {
			if c == t {
				o.copies = append(o.copies[:i], o.copies[i+1:]...)
				break
			}
		}
		t.copyOf = nil
	}
}

// stillCopy checks a copy against its original: the original is read
// first (a truncation hands the copy over), then a copy grown larger than
// its original is not one (two files that began alike): it is read from
// the start of the line where they differ.
func (f *Follower) stillCopy(t *tailedFile) bool {
	o := t.copyOf
	f.readFile(o, 0)
	if t.copyOf == nil {
		return false
	}
	ts, err1 := t.f.Stat()
	ostat, err2 := o.f.Stat()
	if err1 != nil || err2 != nil || ts.Size() <= ostat.Size() {
		return true
	}
	d := lineStartOfDifference(t.f, o.f, ostat.Size())
	t.unlinkCopy()
	t.off, t.fpN, t.adopted = d, 0, false
	f.log.Warn("file taken for a copy differs from its original; reading it from where they differ",
		"path", t.path, "original", o.path, "offset", d)
	return false
}

// lineStartOfDifference returns the offset of the line in which a and b
// first differ, looking at their first limit bytes.
func lineStartOfDifference(a, b io.ReaderAt, limit int64) int64 {
	ba, bb := make([]byte, 32<<10), make([]byte, 32<<10)
	var lineStart int64
	for off := int64(0); off < limit; {
		n := int(min(int64(len(ba)), limit-off))
		na, _ := a.ReadAt(ba[:n], off)
		nb, _ := b.ReadAt(bb[:n], off)
		m := min(na, nb)
		i := 0
		for i < m && ba[i] == bb[i] {
			if ba[i] == '\n' {
				lineStart = off + int64(i) + 1
			}
			i++
		}
		if i < n {
			return lineStart
		}
		off += int64(n)
	}
	return lineStart
}

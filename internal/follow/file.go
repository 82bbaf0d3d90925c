package follow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// fpLen is how many bytes before the read offset are remembered to notice a
// file that was truncated and rewritten past that offset between two reads.
const fpLen = 64

// minBufBytes is the smallest read buffer of a followed file.
const minBufBytes = 64 << 10

// fileID identifies a file independently of its name: device and inode on
// Unix, volume serial number and file index on Windows (fileid_*.go).
type fileID struct {
	Dev, Ino uint64
}

// tailedFile is one open file being followed. It is owned by the Run
// goroutine.
type tailedFile struct {
	id   fileID
	path string // where it was found; the Path of its lines
	at   string // the matching path it sits at now; "" once it left
	f    *os.File
	// deliver hands one line to the handler.
	deliver func([]byte)

	off        int64 // offset of the next byte to read
	buf        []byte
	start, end int  // buf[start:end] is the incomplete last line
	maxLine    int  // Config.MaxLineBytes
	discarding bool // dropping the rest of an over-long line
	cutCounted bool // the line being dropped was counted as truncated
	skipping   bool // dropping a line begun before a start at the end: not counted
	fp         [fpLen]byte
	fpN        int // fp[:fpN] are the bytes just before off

	// head is the start of the file's current content, up to headLen
	// bytes: what tells a copy of it (copytruncate, compress) from a new file.
	head []byte
	// pending: a new file whose first offset waits on its head (decide):
	// 0 for a new file, or where the file it is a copy of was read to.
	pending bool
	// adopted: off was taken from the file this one copies. Until data is
	// read there, a file shorter than off is still being copied, not
	// truncated.
	adopted bool
	// copyHead and copyOff are a copy's own saved head and offset, at a
	// restart: it goes on from there, even if the content it copies has
	// left the remembered heads since.
	copyHead []byte
	copyOff  int64
	// copyOf is the live file this one is a copy of (copytruncate's copy
	// while the original is not truncated yet): it is not read, since
	// everything it holds is read from copyOf. copies is the other side.
	copyOf *tailedFile
	copies []*tailedFile

	// seq orders files by the age of their content: by when the follower
	// opened them, since a file rotated away was opened before the one now
	// at its path; 0 for copytruncate's copy, whose content is older than
	// any live file's (see Follower.readOlder).
	seq uint64

	draining   bool      // left its path; read until quiet for RotateWait
	lastGrowth time.Time // when a read last returned data
	initial    bool      // present at start and not yet read to its end
	failing    bool      // the last read failed

	// Counters since the last flush into Stats.
	lines, bytes, cutLines, cutBytes, truncations uint64
}

func newTailedFile(path string, id fileID, f *os.File, maxLine int) *tailedFile {
	return &tailedFile{
		id:      id,
		path:    path,
		f:       f,
		buf:     make([]byte, max(maxLine, minBufBytes)),
		maxLine: maxLine,
	}
}

// committed returns the offset up to which every line has been delivered
// (or, for an over-long line, cut): what may be saved.
func (t *tailedFile) committed() int64 {
	return t.off - int64(t.end-t.start)
}

// readChunk reads what fits in the buffer from off, checks that the file was
// not truncated under it, and delivers the complete lines. eof reports that
// the end of the file was reached; truncated that the bytes before off
// changed, in which case nothing was consumed.
func (t *tailedFile) readChunk(deliver func([]byte)) (n int, eof, truncated bool, err error) {
	if t.start > 0 {
		t.end = copy(t.buf, t.buf[t.start:t.end])
		t.start = 0
	}
	base := t.off
	n, err = t.f.ReadAt(t.buf[t.end:], base)
	switch {
	case errors.Is(err, io.EOF):
		eof = true
	case err != nil:
		// Read again from base next time.
		return 0, false, false, fmt.Errorf("reading %s at offset %d: %w", t.path, base, err)
	}
	// Checking after the read covers a truncation before or during it: the
	// bytes read are used only if the bytes before base are still ours.
	same, err := t.unchangedBefore(base)
	if err != nil {
		return 0, false, false, err
	}
	if !same {
		return 0, false, true, nil
	}
	if n > 0 {
		t.adopted = false
		data := t.buf[t.end : t.end+n]
		t.remember(data)
		t.end += n
		t.off += int64(n)
		t.bytes += uint64(n)
		t.split(deliver)
		if len(t.head) < headLen {
			t.head = readHead(t.f)
		}
	}
	return n, eof, false, nil
}

// unchangedBefore reports whether the file still holds, just before off,
// the bytes that were read there. A file shorter than off was truncated.
func (t *tailedFile) unchangedBefore(off int64) (bool, error) {
	if off == 0 {
		return true, nil
	}
	k := min(int64(t.fpN), off)
	if k == 0 {
		// No fingerprint (an old offsets file): only the size can be checked.
		k = 1
	}
	var b [fpLen]byte
	m, err := t.f.ReadAt(b[:k], off-k)
	if int64(m) < k {
		if err == nil || errors.Is(err, io.EOF) {
			// An adopted offset beyond the end: the copy is not complete yet.
			return t.adopted, nil
		}
		return false, fmt.Errorf("checking %s at offset %d: %w", t.path, off-k, err)
	}
	if t.fpN == 0 {
		return true, nil
	}
	return bytes.Equal(b[:k], t.fp[int64(t.fpN)-k:t.fpN]), nil
}

// remember keeps the last fpLen bytes read, data being the latest read.
func (t *tailedFile) remember(data []byte) {
	if len(data) >= fpLen {
		t.fpN = copy(t.fp[:], data[len(data)-fpLen:])
		return
	}
	keep := min(t.fpN, fpLen-len(data))
	copy(t.fp[:keep], t.fp[t.fpN-keep:t.fpN])
	t.fpN = keep + copy(t.fp[keep:], data)
}

// split delivers every complete line in buf[start:end] and cuts the
// incomplete one if it reached maxLine.
func (t *tailedFile) split(deliver func([]byte)) {
	if t.discarding {
		rest := t.buf[t.start:t.end]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			t.drop(len(rest))
			t.start, t.end = 0, 0
			return
		}
		t.drop(i)
		t.start += i + 1
		t.discarding = false
		t.skipping = false
	}
	for {
		i := bytes.IndexByte(t.buf[t.start:t.end], '\n')
		if i < 0 {
			break
		}
		line := t.buf[t.start : t.start+i]
		t.start += i + 1
		if len(line) > t.maxLine {
			t.cutCounted = false
			t.drop(len(line) - t.maxLine)
			line = line[:t.maxLine]
		}
		t.lines++
		deliver(line)
	}
	if t.end-t.start >= t.maxLine {
		// The line is already as long as allowed: hand over its head now and
		// drop the rest up to the next newline, so memory stays bounded.
		line := t.buf[t.start : t.start+t.maxLine]
		t.cutCounted = false
		t.drop(t.end - t.start - t.maxLine)
		t.discarding = true
		t.lines++
		deliver(line)
		t.start, t.end = 0, 0
	}
	if t.start == t.end {
		t.start, t.end = 0, 0
	}
}

// drop counts n bytes of an over-long line as cut; the line is counted once,
// when its first byte is dropped.
func (t *tailedFile) drop(n int) {
	if n <= 0 || t.skipping {
		return
	}
	if !t.cutCounted {
		t.cutLines++
		t.cutCounted = true
	}
	t.cutBytes += uint64(n)
}

// flushPartial delivers the incomplete last line, if any. It is used when
// the line can no longer be completed: the file was rotated away and went
// quiet, or was truncated.
func (t *tailedFile) flushPartial(deliver func([]byte)) {
	if t.end > t.start && !t.discarding {
		t.lines++
		deliver(t.buf[t.start:t.end])
	}
	t.start, t.end = 0, 0
}

// restart makes the next read start at offset 0, as after a truncation.
func (t *tailedFile) restart() {
	t.off = 0
	t.start, t.end = 0, 0
	t.fpN = 0
	t.discarding = false
	t.skipping = false
	t.adopted = false
	t.head = nil
	t.truncations++
}

// readHead returns the first headLen bytes of f, or fewer if it is shorter.
func readHead(f io.ReaderAt) []byte {
	b := make([]byte, headLen)
	n, _ := f.ReadAt(b, 0)
	return b[:n]
}

// seekEnd makes the next read start at the end of the file. A last line that
// has no newline yet was written before us: it is skipped.
func (t *tailedFile) seekEnd() error {
	st, err := t.f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", t.path, err)
	}
	size := st.Size()
	k := min(int64(fpLen), size)
	m, err := t.f.ReadAt(t.fp[:k], size-k)
	if int64(m) < k {
		return fmt.Errorf("reading the end of %s: %w", t.path, err)
	}
	t.fpN = int(k)
	t.off = size
	t.discarding = k > 0 && t.fp[k-1] != '\n'
	t.skipping = t.discarding
	return nil
}

// committedFingerprint returns the bytes just before committed(), for the
// offsets file.
func (t *tailedFile) committedFingerprint() []byte {
	if t.end == t.start {
		return append([]byte(nil), t.fp[:t.fpN]...)
	}
	c := t.committed()
	k := min(int64(fpLen), c)
	b := make([]byte, k)
	if m, _ := t.f.ReadAt(b, c-k); int64(m) < k {
		// The file shrank: without a fingerprint a resume checks the size only.
		return nil
	}
	return b
}

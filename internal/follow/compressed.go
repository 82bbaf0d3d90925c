package follow

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Compression formats, recognised by their magic bytes, never by names.
const (
	kindGzip  = "gzip"
	kindBzip2 = "bzip2"
	kindZstd  = "zstd"
	kindXz    = "xz"
	kindLz4   = "lz4"
	// kindMaybe: the first bytes could still become a magic number.
	kindMaybe = "?"
)

// magics are the formats logrotate's compresscmd usually makes. Only gzip
// and bzip2 are read (the standard library's decoders); the others are
// recognised so that they are skipped, not read as text.
var magics = []struct {
	kind  string
	magic []byte
}{
	{kindGzip, []byte{0x1f, 0x8b}},
	{kindZstd, []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{kindXz, []byte{0xfd, '7', 'z', 'X', 'Z', 0}},
	{kindLz4, []byte{0x04, 0x22, 0x4d, 0x18}},
}

// sniff returns the compression format that head starts with, kindMaybe
// when head is too short to tell, or "" for text.
func sniff(head []byte) string {
	for _, m := range magics {
		if bytes.HasPrefix(head, m.magic) {
			return m.kind
		}
		if len(head) < len(m.magic) && bytes.HasPrefix(m.magic, head) {
			return kindMaybe
		}
	}
	// bzip2: "BZh", the block size '1'-'9', then a block or the end of
	// stream, so that a text line starting with "BZh" stays text.
	const bz = "BZh"
	switch {
	case len(head) >= 5 && string(head[:3]) == bz && head[3] >= '1' && head[3] <= '9' && (head[4] == 0x31 || head[4] == 0x17):
		return kindBzip2
	case len(head) < 5 && bytes.HasPrefix([]byte(bz+"9\x31"), head[:min(len(head), 3)]) && (len(head) < 4 || head[3] >= '1' && head[3] <= '9'):
		return kindMaybe
	}
	return ""
}

// packed is a compressed file matching the patterns.
type packed struct {
	path    string
	kind    string
	size    int64 // compressed size when last tried: it is tried again only when that changed
	off     int64 // decompressed bytes delivered or already read elsewhere
	started bool  // off is decided
	done    bool  // read to its end, or skipped
	// doneSize is the saved size of a file done before a restart, until
	// packReused has checked that the file at that identity still has it.
	doneSize int64
}

// packReused reports whether the compressed file saved as done at c's
// identity was replaced, while leakwatch was stopped, by another file that
// got its inode number; it is then forgotten, to be looked at afresh.
func (f *Follower) packReused(c candidate, p *packed) bool {
	if p.doneSize == 0 {
		return false
	}
	st, err := os.Stat(c.path)
	if err != nil {
		return false
	}
	if st.Size() != p.doneSize {
		delete(f.packed, c.id)
		return true
	}
	p.size, p.doneSize = st.Size(), 0
	return false
}

// packFound starts dealing with a compressed file found at path. byPattern
// says whether the patterns match it: a skip is then logged and counted.
func (f *Follower) packFound(path string, id fileID, kind string, byPattern bool) {
	if kind == kindMaybe {
		return // too short to tell yet: looked at again when it grows
	}
	p := &packed{path: path, kind: kind, size: -1}
	f.packed[id] = p
	f.readPacked(id, p, byPattern)
}

// decompressor returns a reader of the decompressed content of r.
func decompressor(kind string, r io.Reader) (io.Reader, error) {
	switch kind {
	case kindGzip:
		return gzip.NewReader(r)
	case kindBzip2:
		return bzip2.NewReader(r), nil
	}
	return nil, fmt.Errorf("leakwatch cannot decompress %s", kind)
}

// readPacked reads a compressed file if it is a rotation of content read
// before (its decompressed head matches one, see copyMatch) from the
// offset that content was read to, and skips it otherwise. A file still
// being written (its stream ends early) is read up to its last complete
// line and tried again when its size changes.
func (f *Follower) readPacked(id fileID, p *packed, byPattern bool) {
	if p.done {
		return
	}
	fh, err := f.open(p.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			delete(f.packed, id)
		} else {
			f.pathFailed(p.path, reasonFor(err, ReasonOpen), err)
		}
		return
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		f.pathFailed(p.path, ReasonStat, err)
		return
	}
	if got, ok := openIdentity(fh, st); !ok || got != id {
		return // replaced since the scan: the next one sees it
	}
	if st.Size() == p.size {
		return
	}
	p.size = st.Size()
	zr, err := decompressor(p.kind, bufio.NewReaderSize(fh, minBufBytes))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return // the header is not written yet
		}
		f.skipPacked(p, byPattern, err.Error())
		return
	}
	head := make([]byte, headLen)
	n, err := io.ReadFull(zr, head)
	head = head[:n]
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		f.skipPacked(p, byPattern, "corrupt: "+err.Error())
		return
	}
	if !p.started {
		// An original still open may hold lines not read yet, or have
		// been truncated since its last read: read it first, so that its
		// offset is final and its old content, if truncated, is former.
		for _, t := range f.files {
			if ok, _ := headsMatch(head, t.head); ok && !t.pending && t.copyOf == nil {
				f.readFile(t, 0)
			}
		}
		off, _, matched, undecided := f.copyMatch(id, head)
		switch {
		case undecided || len(head) == 0:
			return // too short to tell: tried again when it grows
		case !matched:
			f.skipPacked(p, byPattern, "not a rotation of a followed file with unread lines")
			return
		}
		p.off, p.started = off, true
	}
	var from io.Reader = zr
	if p.off < int64(len(head)) {
		from = io.MultiReader(bytes.NewReader(head[p.off:]), zr)
	} else if _, err := io.CopyN(io.Discard, zr, p.off-int64(len(head))); err != nil {
		f.endPacked(p, err, 0)
		return
	}
	lines, consumed, err := f.splitStream(from, p.path)
	p.off += consumed
	f.endPacked(p, err, lines)
}

// endPacked records how reading a compressed file ended.
func (f *Follower) endPacked(p *packed, err error, lines uint64) {
	switch {
	case err == nil || errors.Is(err, io.EOF):
		p.done = true
		f.log.Info("read a compressed rotation of a followed file", "path", p.path, "format", p.kind, "lines", lines)
	case errors.Is(err, io.ErrUnexpectedEOF):
		f.log.Debug("compressed file ends early; waiting for the rest", "path", p.path, "lines", lines)
	default:
		f.skipPacked(p, true, "corrupt: "+err.Error())
	}
}

// skipPacked gives up on a compressed file, with one log line and a count
// when the patterns match it.
func (f *Follower) skipPacked(p *packed, byPattern bool, why string) {
	p.done = true
	if !byPattern {
		return
	}
	f.stats.addError(ReasonCompressedSkipped)
	f.log.Info("compressed file skipped", "path", p.path, "format", p.kind, "why", why)
}

// splitStream delivers the lines of r, the last one even without its
// newline if r ends cleanly, cutting lines at MaxLineBytes. consumed
// counts the bytes of the lines delivered (and dropped).
func (f *Follower) splitStream(r io.Reader, path string) (lines uint64, consumed int64, err error) {
	br := bufio.NewReaderSize(r, max(f.cfg.MaxLineBytes, minBufBytes)+1)
	var nbytes, cutLines, cutBytes uint64
	defer func() { f.stats.addLines(path, lines, nbytes, cutLines, cutBytes) }()
	deliver := func(b []byte) {
		lines++
		f.handle(Line{Path: path, Data: b})
	}
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			consumed += int64(len(line))
			nbytes += uint64(len(line))
			data := line[:len(line)-1]
			if len(data) > f.cfg.MaxLineBytes {
				cutLines++
				cutBytes += uint64(len(data) - f.cfg.MaxLineBytes)
				data = data[:f.cfg.MaxLineBytes]
			}
			deliver(data)
		case errors.Is(err, bufio.ErrBufferFull):
			n := int64(len(line))
			deliver(line[:f.cfg.MaxLineBytes])
			cutLines++
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				n += int64(len(line))
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return lines, consumed, err
			}
			consumed += n
			nbytes += uint64(n)
			cutBytes += uint64(n) - uint64(f.cfg.MaxLineBytes)
		case errors.Is(err, io.EOF):
			if len(line) > 0 {
				consumed += int64(len(line))
				nbytes += uint64(len(line))
				deliver(line[:min(len(line), f.cfg.MaxLineBytes)])
			}
			return lines, consumed, io.EOF
		default:
			return lines, consumed, err
		}
	}
}

// findPacked looks, at a restart, in the folders of files whose saved
// content is gone (vanished, or truncated, while leakwatch was stopped)
// for compressed files it does not know yet: one whose decompressed head
// is that of lost content is read from its saved offset.
func (f *Follower) findPacked(dirs []string, lost []former) {
	if len(lost) == 0 {
		return
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, de := range entries {
			if !de.Type().IsRegular() {
				continue
			}
			path := filepath.Join(dir, de.Name())
			info, err := de.Info()
			if err != nil {
				continue
			}
			id, ok := pathIdentity(path, info)
			if !ok || f.files[id] != nil || f.packed[id] != nil {
				continue
			}
			if _, ok := f.resume[id]; ok {
				continue
			}
			fh, err := f.open(path)
			if err != nil {
				continue
			}
			kind, head := packedHead(fh)
			fh.Close()
			if kind == "" || kind == kindMaybe {
				continue
			}
			for _, p := range lost {
				if ok, _ := headsMatch(head, p.head); ok {
					f.packFound(path, id, kind, f.matches(path))
					break
				}
			}
		}
	}
}

// matches reports whether path matches one of the patterns.
func (f *Follower) matches(path string) bool {
	for _, p := range f.cfg.Patterns {
		if ok, _ := filepath.Match(p, path); ok {
			return true
		}
	}
	return false
}

// packedHead returns the compression format of r and, if it can be read,
// the head of its decompressed content.
func packedHead(r io.ReaderAt) (kind string, head []byte) {
	var magic [8]byte
	n, _ := r.ReadAt(magic[:], 0)
	kind = sniff(magic[:n])
	if kind == "" || kind == kindMaybe {
		return kind, nil
	}
	zr, err := decompressor(kind, io.NewSectionReader(r, 0, 1<<62))
	if err != nil {
		return kind, nil
	}
	head = make([]byte, headLen)
	n, _ = io.ReadFull(zr, head)
	return kind, head[:n]
}

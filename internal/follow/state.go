package follow

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/leakwatch/leakwatch/internal/atomicfile"
)

// stateVersion is the format version of offsets.json.
const stateVersion = 1

// stateFile is the content of offsets.json.
type stateFile struct {
	Version int          `json:"version"`
	Files   []stateEntry `json:"files"`
}

// stateEntry is the saved position in one file. Offset covers only lines
// already handed to the handler. Fingerprint holds the bytes just before
// Offset, to notice at restart a file truncated and rewritten meanwhile.
type stateEntry struct {
	Path        string `json:"path"`
	Dev         uint64 `json:"dev"`
	Ino         uint64 `json:"ino"`
	Offset      int64  `json:"offset"`
	Fingerprint []byte `json:"fingerprint,omitempty"`
	// Discarding means Offset is inside an over-long line whose head was
	// delivered: the rest up to the next newline is dropped.
	Discarding bool `json:"discarding,omitempty"`
	// Head is the start of the file (up to headLen bytes), to know a copy
	// of it (copytruncate's, or compressed) from a new file.
	Head []byte `json:"head,omitempty"`
	// Copy: the file is a copy of another one whose lines were being read
	// from the original; at restart its head decides again where it starts.
	Copy bool `json:"copy,omitempty"`
	// Former: content read from a file that no longer holds it (truncated,
	// closed, vanished); Dev and Ino name the file it was read from.
	Former bool `json:"former,omitempty"`
	// Compressed is the format of a compressed file dealt with (Offset
	// counts decompressed bytes); Done that it was read or skipped whole;
	// Size is its compressed size then, to know it from a later file that
	// got its inode number.
	Compressed string `json:"compressed,omitempty"`
	Done       bool   `json:"done,omitempty"`
	Size       int64  `json:"size,omitempty"`
}

func (e stateEntry) id() fileID { return fileID{Dev: e.Dev, Ino: e.Ino} }

// loadState reads the offsets file in dir. found is false when there is none,
// which makes this a first start.
func loadState(dir string) (entries []stateEntry, found bool, err error) {
	path := filepath.Join(dir, stateFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading offsets %s: %w", path, err)
	}
	var st stateFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, true, fmt.Errorf("parsing offsets %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, true, fmt.Errorf("offsets %s: unsupported version %d", path, st.Version)
	}
	for _, e := range st.Files {
		if e.Offset < 0 || len(e.Fingerprint) > fpLen || len(e.Head) > headLen || !filepath.IsAbs(e.Path) {
			return nil, true, fmt.Errorf("offsets %s: invalid entry for %q", path, e.Path)
		}
	}
	return st.Files, true, nil
}

// encodeState renders entries in a stable order, so that unchanged offsets
// give identical bytes and need no write.
func encodeState(entries []stateEntry) ([]byte, error) {
	slices.SortFunc(entries, func(a, b stateEntry) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Dev, b.Dev); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Ino, b.Ino); c != 0 {
			return c
		}
		return bytes.Compare(a.Head, b.Head)
	})
	if entries == nil {
		entries = []stateEntry{}
	}
	b, err := json.MarshalIndent(stateFile{Version: stateVersion, Files: entries}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding offsets: %w", err)
	}
	return append(b, '\n'), nil
}

// writeState replaces the offsets file in dir atomically: a crash leaves
// either the old or the new content, never a mix.
func writeState(dir string, content []byte) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, stateFileName), content, 0o600); err != nil {
		return fmt.Errorf("saving offsets: %w", err)
	}
	return nil
}

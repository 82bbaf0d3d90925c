package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/leakwatch/leakwatch/internal/audit"
)

// The status page shows the newest auditEntries entries, found in at most
// the last auditTailBytes of the file. An entry is a few hundred bytes (a
// restart's output is capped at 4 KiB), so the window holds far more than
// needed, and a page that refreshes every 10 seconds reads a bounded amount
// however large the audit log grows.
const (
	auditEntries   = 20
	auditTailBytes = 256 << 10
)

// readAuditTail returns up to n entries from the end of the audit log at
// path, newest first, reading at most maxBytes. A missing file has no
// entries. Lines that do not parse (torn by a crash, or cut by the window)
// are skipped.
func readAuditTail(path string, n int, maxBytes int64) ([]audit.Entry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening audit log: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading audit log %s: %w", path, err)
	}
	off := max(0, info.Size()-maxBytes)
	buf := make([]byte, info.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading audit log %s: %w", path, err)
	}
	if off > 0 {
		// The window starts mid-line: drop the partial line.
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return nil, nil
		}
		buf = buf[i+1:]
	}
	var out []audit.Entry
	for len(buf) > 0 && len(out) < n {
		line := buf
		if i := bytes.LastIndexByte(bytes.TrimRight(buf, "\n"), '\n'); i >= 0 {
			line, buf = buf[i+1:], buf[:i+1]
		} else {
			buf = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var e audit.Entry
		if json.Unmarshal(line, &e) == nil {
			out = append(out, e)
		}
	}
	return slices.Clip(out), nil
}

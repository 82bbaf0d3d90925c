package mmp

import (
	"bytes"
	"sync"
)

// failureMarker is what MMP configuration commands print when they fail.
const failureMarker = "FAILURE"

// outputBuffer collects a command's stdout and stderr (written from two
// goroutines) up to max bytes. It keeps reading past the cap so that the
// remote side never blocks, and it scans the whole stream for
// failureMarker, including the part it does not keep.
type outputBuffer struct {
	mu        sync.Mutex
	max       int
	buf       []byte
	total     int64
	truncated bool
	failure   bool
	// tail holds the last len(failureMarker)-1 bytes seen, to find a marker
	// split across two writes.
	tail []byte
}

func newOutputBuffer(max int) *outputBuffer { return &outputBuffer{max: max} }

// Write implements io.Writer and never fails.
func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total += int64(len(p))
	if room := b.max - len(b.buf); room > 0 {
		keep := min(room, len(p))
		b.buf = append(b.buf, p[:keep]...)
		if keep < len(p) {
			b.truncated = true
		}
	} else if len(p) > 0 {
		b.truncated = true
	}
	if !b.failure {
		window := append(b.tail, p...)
		b.failure = bytes.Contains(window, []byte(failureMarker))
		n := min(len(window), len(failureMarker)-1)
		b.tail = append(b.tail[:0:0], window[len(window)-n:]...)
	}
	return len(p), nil
}

// snapshot returns the kept output, whether some was dropped, and whether
// the stream contained failureMarker.
func (b *outputBuffer) snapshot() (out string, truncated, failure bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf), b.truncated, b.failure
}

// failureLine returns the first line of s that contains failureMarker,
// trimmed and capped, for an error message an operator can act on.
func failureLine(s string) string {
	for line := range bytes.Lines([]byte(s)) {
		if bytes.Contains(line, []byte(failureMarker)) {
			l := string(bytes.TrimSpace(line))
			if len(l) > 200 {
				l = l[:200] + "..."
			}
			return l
		}
	}
	return ""
}

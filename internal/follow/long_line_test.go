package follow

import (
	"bytes"
	"path/filepath"
	"runtime"
	"testing"
)

// TestLongLine writes a 50 MB line without a newline, in pieces, then its
// newline and ordinary lines. The follower must deliver the first
// MaxLineBytes of it, count the rest as truncated, resync at the newline,
// and never hold more than its fixed buffer.
func TestLongLine(t *testing.T) {
	const (
		long  = 50 << 20
		chunk = 1 << 20
		after = 100
		// What may be allocated while the line is read: the collector's copy
		// of the cut line, logs, and slack. Buffering the line would take 50 MB.
		allocBudget = 8 << 20
	)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			w := openWriter(t, path, "l")
			c := newCollector()
			r := start(t, testConfig(m.poll, path), c)
			r.waitCaughtUp(t)

			piece := bytes.Repeat([]byte{'x'}, chunk)
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			wait := goWrite(t, func() error {
				if err := w.write(after); err != nil {
					return err
				}
				for range long / chunk {
					if _, err := w.f.Write(piece); err != nil {
						return err
					}
				}
				if _, err := w.f.WriteString("\n"); err != nil {
					return err
				}
				if err := w.write(after); err != nil {
					return err
				}
				return w.end()
			})
			wait()
			c.waitLine(t, endLine("l"))
			var afterStats runtime.MemStats
			runtime.ReadMemStats(&afterStats)
			r.stop(t)

			if got := afterStats.TotalAlloc - before.TotalAlloc; got > allocBudget {
				t.Errorf("allocated %d bytes while following a %d-byte line, want at most %d", got, long, allocBudget)
			}
			lines := c.snapshot()
			checkSequence(t, lines, "l", 2*after, true)
			var cut []Line
			for _, l := range lines {
				if len(l.Data) > 0 && l.Data[0] == 'x' {
					cut = append(cut, l)
				}
			}
			if len(cut) != 1 || len(cut[0].Data) != DefaultMaxLineBytes {
				t.Fatalf("got %d cut lines (first %d bytes), want 1 of %d bytes", len(cut), lenFirst(cut), DefaultMaxLineBytes)
			}
			s := r.f.Stats()
			if got := s.Errors[ReasonTruncatedLine]; got != 1 {
				t.Errorf("Stats truncated_line errors = %d, want 1", got)
			}
			if got, want := s.Files[path].TruncatedBytes, uint64(long-DefaultMaxLineBytes); got != want {
				t.Errorf("Stats truncated bytes = %d, want %d", got, want)
			}
		})
	}
}

func lenFirst(ls []Line) int {
	if len(ls) == 0 {
		return 0
	}
	return len(ls[0].Data)
}

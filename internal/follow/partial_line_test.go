package follow

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPartialLine has a writer emit its lines in random fragments, with
// pauses inside lines: no fragment may be delivered as a line, every line
// arrives once and whole.
func TestPartialLine(t *testing.T) {
	const total = 2000
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			c := newCollector()
			r := start(t, testConfig(m.poll, path), c)
			r.waitCaughtUp(t)

			var all strings.Builder
			for i := range total {
				all.WriteString(seqLine("f", i) + "\n")
			}
			all.WriteString(endLine("f") + "\n")
			rng := rand.New(rand.NewPCG(1, 2))
			wait := goWrite(t, func() error {
				s := all.String()
				for i := 0; len(s) > 0; i++ {
					n := min(len(s), 1+rng.IntN(23))
					if _, err := f.WriteString(s[:n]); err != nil {
						return err
					}
					s = s[n:]
					if i%200 == 0 && !strings.HasPrefix(s, "f") {
						// Mid-line: wait until the follower has looked, so
						// that an early delivery would show.
						seen := len(c.snapshot())
						_ = waitCondFor(func() bool { return len(c.snapshot()) > seen }, time.Duration(pollWait(m.poll))*50*time.Millisecond)
					}
				}
				return nil
			})
			wait()
			c.waitLine(t, endLine("f"))
			r.stop(t)
			checkSequence(t, c.snapshot(), "f", total, true)
		})
	}
}

// TestPartialLineAtRotation: an old file that ends in an incomplete line is
// rotated away. The line is held while the old file may still grow, then,
// once it has been quiet for RotateWait, delivered as it is, exactly once.
func TestPartialLineAtRotation(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			w := openWriter(t, path, "z")
			c := newCollector()
			r := start(t, testConfig(m.poll, path), c)
			r.waitCaughtUp(t)

			wait := goWrite(t, func() error {
				if err := w.write(100); err != nil {
					return err
				}
				if _, err := w.f.WriteString("partial of z"); err != nil {
					return err
				}
				if err := c.waitUntil(func(ls []Line) bool { return countTag(ls, "z") >= 100 }); err != nil {
					return err
				}
				if err := os.Rename(path, path+".1"); err != nil {
					return err
				}
				if err := w.reopen(); err != nil {
					return err
				}
				if err := w.write(100); err != nil {
					return err
				}
				return w.end()
			})
			wait()
			c.waitLine(t, endLine("z"))
			c.waitLine(t, "partial of z")
			r.stop(t)
			lines := c.snapshot()
			checkSequence(t, lines, "z", 200, false)
			partials := 0
			for _, l := range lines {
				if string(l.Data) == "partial of z" {
					partials++
				}
			}
			if partials != 1 {
				t.Errorf("incomplete last line delivered %d times, want once", partials)
			}
		})
	}
}

// TestPartialLineAtShutdown: an incomplete line is not delivered at
// shutdown, and the next run delivers it once completed.
func TestPartialLineAtShutdown(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := testConfig(false, path)
	cfg.StateDir = filepath.Join(dir, "state")
	mustWriteFile(t, path, seqLine("s", 0)+"\ns 0000")

	first := newCollector()
	r1 := start(t, cfg, first)
	first.waitLine(t, seqLine("s", 0))
	r1.stop(t)

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("01\n" + endLine("s") + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	second := newCollector()
	r2 := start(t, cfg, second)
	second.waitLine(t, endLine("s"))
	r2.stop(t)
	checkSequence(t, append(first.snapshot(), second.snapshot()...), "s", 2, true)
}

func pollWait(poll bool) int {
	if poll {
		return 4
	}
	return 1
}

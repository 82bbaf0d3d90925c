package follow

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyTruncate does what logrotate's copytruncate does: copy the file aside,
// then truncate it in place while the writer keeps its descriptor.
func copyTruncate(path string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(path + ".1")
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return os.Truncate(path, 0)
}

// TestRotationCopytruncate truncates the followed file under a writer that
// appends. Lines written between the follower's last read and the truncation
// exist only in the copy, which copytruncate loses by design, so the writer
// waits for the follower before each truncation; every line after it must be
// read once, from offset 0.
func TestRotationCopytruncate(t *testing.T) {
	const total, every = 3000, 500
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			w := openWriter(t, path, "t")
			c := newCollector()
			r := start(t, testConfig(m.poll, filepath.Join(dir, "*.log")), c)
			r.waitCaughtUp(t)

			wait := goWrite(t, func() error {
				for w.next < total {
					if err := w.write(every); err != nil {
						return err
					}
					n := w.next
					if err := c.waitUntil(func(ls []Line) bool { return countTag(ls, "t") >= n }); err != nil {
						return err
					}
					if err := copyTruncate(path); err != nil {
						return err
					}
				}
				return w.end()
			})
			wait()
			c.waitLine(t, endLine("t"))
			r.stop(t)
			checkSequence(t, c.snapshot(), "t", total, true)
			if got := r.f.Stats().Files[path].Truncations; got == 0 {
				t.Errorf("Stats truncations = 0, want > 0")
			}
		})
	}
}

// TestRotationCopytruncateGrownBack truncates the file and writes more than
// its old size before the follower looks again: the size alone shows no
// shrink, only the bytes before the offset tell. The handler is held on the
// last line before the truncation to make the race certain.
func TestRotationCopytruncateGrownBack(t *testing.T) {
	const before, after = 100, 300 // after > before: the file grows past its old size
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			w := openWriter(t, path, "g")
			held := make(chan struct{})
			release := make(chan struct{})
			c := newCollector()
			c.hook = func(l Line) {
				if string(l.Data) == seqLine("g", before-1) {
					close(held)
					<-release
				}
			}
			r := start(t, testConfig(m.poll, path), c)
			r.waitCaughtUp(t)

			wait := goWrite(t, func() error {
				if err := w.write(before); err != nil {
					return err
				}
				<-held // the follower is inside the handler, at the old end
				if err := copyTruncate(path); err != nil {
					return err
				}
				if err := w.write(after); err != nil {
					return err
				}
				close(release)
				return w.end()
			})
			wait()
			c.waitLine(t, endLine("g"))
			r.stop(t)
			checkSequence(t, c.snapshot(), "g", before+after, true)
			if got := r.f.Stats().Files[path].Truncations; got != 1 {
				t.Errorf("Stats truncations = %d, want 1", got)
			}
		})
	}
}

// TestRotationCopytruncatePartial checks that an incomplete last line cut by
// a truncation is delivered, once, before the new content.
func TestRotationCopytruncatePartial(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	mustWriteFile(t, path, "p 000000\np 0000")
	c := newCollector()
	r := start(t, testConfig(false, path), c)
	c.waitLine(t, "p 000000")
	wait := goWrite(t, func() error {
		if err := os.Truncate(path, 0); err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteString(strings.Repeat("p 000001\n", 1) + endLine("p") + "\n")
		return err
	})
	wait()
	c.waitLine(t, endLine("p"))
	r.stop(t)
	var got []string
	for _, l := range c.snapshot() {
		got = append(got, string(l.Data))
	}
	want := []string{"p 000000", "p 0000", "p 000001", endLine("p")}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

package follow

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRotationRename rotates the followed file the way logrotate without
// copytruncate does, while a writer keeps writing: rename, more writes to the
// old file (the daemon has not reopened yet), create the new file, reopen.
// Every line must arrive once and in order, the old file's before the new.
func TestRotationRename(t *testing.T) {
	const (
		total      = 3000
		every      = 500 // lines between rotations
		lateWrites = 20  // lines written to the old file after its rename
	)
	patterns := []struct {
		name    string
		pattern string // relative to the test directory
	}{
		{"rotated name not matched", "*.log"},
		{"rotated name matched too", "app.log*"},
	}
	for _, m := range modes {
		for _, p := range patterns {
			t.Run(m.name+"/"+p.name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "app.log")
				w := newWriter(path, "r")
				if err := w.reopen(); err != nil {
					t.Fatal(err)
				}
				c := newCollector()
				r := start(t, testConfig(m.poll, filepath.Join(dir, p.pattern)), c)
				r.waitCaughtUp(t)

				wait := goWrite(t, func() error {
					for w.next < total {
						first := w.next
						if err := w.write(every - lateWrites); err != nil {
							return err
						}
						// A file renamed away before the follower ever saw it
						// at a matching path cannot be found (see doc.go):
						// real log files live far longer than this.
						if err := c.waitUntil(func(ls []Line) bool { return countTag(ls, "r") > first }); err != nil {
							return err
						}
						if err := os.Rename(path, path+".1"); err != nil {
							return err
						}
						if err := w.write(lateWrites); err != nil {
							return err
						}
						if err := w.reopen(); err != nil {
							return err
						}
					}
					return w.end()
				})
				wait()
				c.waitLine(t, endLine("r"))
				r.stop(t)
				checkSequence(t, c.snapshot(), "r", total, true)
				for _, l := range c.snapshot() {
					if l.Path != path {
						t.Fatalf("line %q reported under %q, want %q", l.Data, l.Path, path)
					}
				}
				if got := r.f.Stats().Files[path].Rotations; got == 0 {
					t.Errorf("Stats rotations = 0, want > 0")
				}
				_ = w.close()
			})
		}
	}
}

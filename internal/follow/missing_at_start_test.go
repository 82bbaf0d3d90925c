package follow

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMissingAtStart starts the follower before the file, or the folders
// above it, exist. They are created while the follower runs and a writer
// writes at once: every line must be read, from the file's first byte.
func TestMissingAtStart(t *testing.T) {
	const total = 1000
	cases := []struct {
		name    string
		pattern string // relative to the test directory
		file    string // the file the writer creates, relative too
	}{
		{"file", "*.log", "app.log"},
		{"folder", "cms/*.log", "cms/app.log"},
		{"nested folders", "var/log/cms/*.log", "var/log/cms/app.log"},
		{"wildcard folder", "hosts/*/app.log", "hosts/cms01/app.log"},
	}
	for _, m := range modes {
		for _, tc := range cases {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, tc.file)
				c := newCollector()
				r := start(t, testConfig(m.poll, filepath.Join(dir, tc.pattern)), c)
				r.waitCaughtUp(t) // nothing to read: caught up at once
				if r.f.Stats().Up {
					t.Error("Stats.Up with no file to follow")
				}

				w := newWriter(path, "m")
				wait := goWrite(t, func() error {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						return err
					}
					if err := w.reopen(); err != nil {
						return err
					}
					if err := w.write(total); err != nil {
						return err
					}
					return w.end()
				})
				wait()
				defer w.close()
				c.waitLine(t, endLine("m"))
				if !r.f.Stats().Up {
					t.Error("Stats.Up false while following a file")
				}
				r.stop(t)
				checkSequence(t, c.snapshot(), "m", total, true)
			})
		}
	}
}

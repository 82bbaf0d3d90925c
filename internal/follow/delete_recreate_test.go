package follow

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDeleteRecreate deletes the followed file and creates it again, with
// and without a pause between the two, while a writer keeps writing. Before
// each delete the writer waits until the follower has opened the file: a
// file created and deleted before the follower ever saw it cannot be read.
func TestDeleteRecreate(t *testing.T) {
	const total, every = 2000, 400
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			w := openWriter(t, path, "d")
			c := newCollector()
			r := start(t, testConfig(m.poll, filepath.Join(dir, "*.log")), c)
			r.waitCaughtUp(t)

			wait := goWrite(t, func() error {
				for round := 0; w.next < total; round++ {
					first := w.next
					if err := w.write(every); err != nil {
						return err
					}
					if err := c.waitUntil(func(ls []Line) bool { return countTag(ls, "d") > first }); err != nil {
						return err
					}
					n := r.f.Stats().Files[path].Rotations
					if err := os.Remove(path); err != nil {
						return err
					}
					if round%2 == 1 {
						// Let the follower see the path missing for a while.
						if err := waitCond(func() bool { return r.f.Stats().Files[path].Rotations > n }); err != nil {
							return err
						}
					}
					if err := w.reopen(); err != nil {
						return err
					}
				}
				return w.end()
			})
			wait()
			c.waitLine(t, endLine("d"))
			r.stop(t)
			checkSequence(t, c.snapshot(), "d", total, true)
		})
	}
}

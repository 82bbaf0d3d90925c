package follow

import (
	"os"
	"path/filepath"
	"testing"
)

// stateConfig is testConfig with offsets kept in dir/state.
func stateConfig(dir string, poll bool, patterns ...string) Config {
	cfg := testConfig(poll, patterns...)
	cfg.StateDir = filepath.Join(dir, "state")
	return cfg
}

// TestResumeMidStream stops the follower while a writer is writing and
// starts a new one on the same state directory: together they read every
// line once, in order.
func TestResumeMidStream(t *testing.T) {
	const total = 5000
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			cfg := stateConfig(dir, m.poll, path)
			w := openWriter(t, path, "u")
			first := newCollector()
			r1 := start(t, cfg, first)
			r1.waitCaughtUp(t)
			stopped := make(chan struct{})
			wait := goWrite(t, func() error {
				for w.next < total {
					if err := w.write(10); err != nil {
						return err
					}
					if w.next == total/2 {
						<-stopped // make sure lines are written while no follower runs
					}
				}
				return w.end()
			})
			first.waitCount(t, "u", total/4)
			r1.stop(t)
			close(stopped)

			second := newCollector()
			start(t, cfg, second)
			wait()
			second.waitLine(t, endLine("u"))
			if len(second.snapshot()) == 0 || len(first.snapshot()) == 0 {
				t.Fatal("one of the runs read nothing: the test did not stop mid-stream")
			}
			checkSequence(t, append(first.snapshot(), second.snapshot()...), "u", total, true)
		})
	}
}

// TestResumeRotatedWhileStopped rotates the file while no follower runs. The
// next run finds the old file under its new name, finishes it from the saved
// offset, then reads the new file.
func TestResumeRotatedWhileStopped(t *testing.T) {
	patterns := []struct{ name, pattern string }{
		{"rotated name not matched", "*.log"},
		{"rotated name matched too", "app.log*"},
	}
	for _, p := range patterns {
		t.Run(p.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			cfg := stateConfig(dir, false, filepath.Join(dir, p.pattern))
			w := openWriter(t, path, "v")
			first := newCollector()
			r1 := start(t, cfg, first)
			wait := goWrite(t, func() error { return w.write(300) })
			wait()
			first.waitCount(t, "v", 300)
			r1.stop(t)

			// While stopped: more lines, rotation, more lines in the new file.
			if err := w.write(100); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
			if err := w.reopen(); err != nil {
				t.Fatal(err)
			}
			if err := w.write(100); err != nil {
				t.Fatal(err)
			}

			second := newCollector()
			r2 := start(t, cfg, second)
			r2.waitCaughtUp(t)
			wait = goWrite(t, func() error {
				if err := w.write(100); err != nil {
					return err
				}
				return w.end()
			})
			wait()
			second.waitLine(t, endLine("v"))
			r2.stop(t)
			checkSequence(t, append(first.snapshot(), second.snapshot()...), "v", 600, true)
		})
	}
}

// TestResumeTruncatedWhileStopped truncates the file while no follower runs
// and writes it past its old size: the saved fingerprint no longer matches,
// so the next run reads it from 0.
func TestResumeTruncatedWhileStopped(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := stateConfig(dir, false, path)
	w := openWriter(t, path, "k")
	first := newCollector()
	r1 := start(t, cfg, first)
	if err := w.write(100); err != nil {
		t.Fatal(err)
	}
	first.waitCount(t, "k", 100)
	r1.stop(t)

	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.write(300); err != nil {
		t.Fatal(err)
	}
	second := newCollector()
	r2 := start(t, cfg, second)
	wait := goWrite(t, func() error {
		if err := w.write(100); err != nil {
			return err
		}
		return w.end()
	})
	wait()
	second.waitLine(t, endLine("k"))
	r2.stop(t)
	checkSequence(t, append(first.snapshot(), second.snapshot()...), "k", 500, true)
}

// TestResumeAfterCrash simulates a crash: the offsets file is put back to a
// copy taken mid-run, as if the process had died then. The next run may
// repeat lines delivered after that save, never lose one.
func TestResumeAfterCrash(t *testing.T) {
	const total = 2000
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := stateConfig(dir, false, path)
	statePath := filepath.Join(cfg.StateDir, stateFileName)
	w := openWriter(t, path, "x")
	first := newCollector()
	r1 := start(t, cfg, first)
	if err := w.write(total / 2); err != nil {
		t.Fatal(err)
	}
	first.waitCount(t, "x", total/2)
	var snapshot []byte
	if err := waitCond(func() bool {
		b, err := os.ReadFile(statePath)
		snapshot = b
		return err == nil
	}); err != nil {
		t.Fatal(err)
	}
	wait := goWrite(t, func() error { return w.write(total / 2) })
	wait()
	first.waitCount(t, "x", total)
	r1.stop(t)
	if err := os.WriteFile(statePath, snapshot, 0o600); err != nil {
		t.Fatal(err)
	}

	second := newCollector()
	r2 := start(t, cfg, second)
	if err := w.end(); err != nil {
		t.Fatal(err)
	}
	second.waitLine(t, endLine("x"))
	r2.stop(t)
	// The second run repeats a tail of the first: together, minus that
	// overlap, they are the whole stream once.
	firstLines, secondLines := first.snapshot(), second.snapshot()
	if len(secondLines) < 2 {
		t.Fatal("the second run repeated nothing: the offsets were not rolled back")
	}
	overlap := len(secondLines) - 1 // all but the end marker
	checkSequence(t, append(firstLines[:len(firstLines)-overlap], secondLines...), "x", total, true)
}

// TestStartAtEnd: on a first start with StartAt "end", what the file holds
// is skipped (an incomplete last line too); new lines and files that appear
// later are read. With offsets saved, StartAt no longer applies.
func TestStartAtEnd(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := stateConfig(dir, false, filepath.Join(dir, "*.log"))
	cfg.StartAt = StartEnd
	mustWriteFile(t, path, "old 1\nold 2\nold incomplete")
	first := newCollector()
	r1 := start(t, cfg, first)
	r1.waitCaughtUp(t)
	w := newWriter(path, "e")
	wait := goWrite(t, func() error {
		if err := w.reopen(); err != nil {
			return err
		}
		if _, err := w.f.WriteString(" end of old\n"); err != nil {
			return err
		}
		return w.write(100)
	})
	wait()
	defer w.close()
	first.waitCount(t, "e", 100)
	later := filepath.Join(dir, "later.log")
	mustWriteFile(t, later, seqLine("n", 0)+"\n")
	first.waitLine(t, seqLine("n", 0))
	r1.stop(t)

	// A file that appeared while stopped is read from its beginning.
	mustWriteFile(t, filepath.Join(dir, "new.log"), seqLine("o", 0)+"\n")
	if err := w.end(); err != nil {
		t.Fatal(err)
	}
	second := newCollector()
	r2 := start(t, cfg, second)
	second.waitLine(t, endLine("e"))
	second.waitLine(t, seqLine("o", 0))
	r2.stop(t)
	all := append(first.snapshot(), second.snapshot()...)
	for _, l := range all {
		if s := string(l.Data); len(s) >= 3 && s[:3] == "old" || s == " end of old" {
			t.Errorf("line %q present before the first start was delivered", s)
		}
	}
	checkSequence(t, all, "e", 100, true)
	checkSequence(t, all, "n", 1, true)
	checkSequence(t, all, "o", 1, true)
}

// TestStateCorrupt: an unreadable offsets file is reported and the start is
// treated as a first start; the next save replaces it.
func TestStateCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := stateConfig(dir, false, path)
	mustWriteFile(t, filepath.Join(cfg.StateDir, stateFileName), "{not json")
	mustWriteFile(t, path, seqLine("c", 0)+"\n")
	c := newCollector()
	r := start(t, cfg, c)
	c.waitLine(t, seqLine("c", 0))
	r.stop(t)
	if got := r.f.Stats().Errors[ReasonStateLoad]; got != 1 {
		t.Errorf("state_load errors = %d, want 1", got)
	}
	entries, found, err := loadState(cfg.StateDir)
	if err != nil || !found || len(entries) != 1 || entries[0].Offset != int64(len(seqLine("c", 0))+1) {
		t.Errorf("offsets after the run: %+v found=%v err=%v", entries, found, err)
	}
}

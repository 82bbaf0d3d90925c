package follow

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gzipFile compresses src into dst, as logrotate's compress does, and
// removes src.
func gzipFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
}

// TestRotationCopytruncateGlob: with a pattern that also matches the copy
// (app.log*), copytruncate's app.log.1 holds lines already read. Each must
// be read once: the copy continues from the original's offset, so that
// the lines the original had not given yet when it was truncated are read
// from the copy, and none twice. The writer does not wait for the follower
// here: every line written before a copy is in that copy.
func TestRotationCopytruncateGlob(t *testing.T) {
	const total, every = 3000, 500
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			w := openWriter(t, path, "g")
			c := newCollector()
			r := start(t, testConfig(m.poll, filepath.Join(dir, "app.log*")), c)
			r.waitCaughtUp(t)
			wait := goWrite(t, func() error {
				for w.next < total {
					if err := w.write(every); err != nil {
						return err
					}
					// Older copies move along, as logrotate's do (no rotate
					// count here: a copy deleted before it was seen is lost).
					for i := total / every; i >= 1; i-- {
						old := path + "." + string(rune('0'+i))
						if _, err := os.Stat(old); err == nil {
							if err := os.Rename(old, path+"."+string(rune('0'+i+1))); err != nil {
								return err
							}
						}
					}
					if err := copyTruncate(path); err != nil {
						return err
					}
				}
				return w.end()
			})
			wait()
			c.waitLine(t, endLine("g"))
			r.stop(t)
			checkSequence(t, c.snapshot(), "g", total, false)
		})
	}
}

// TestRotationCompressGlob: with app.log* and logrotate's compress, every
// rotated file ends up as app.log.N.gz. The gzip bytes must never be read
// as lines; each line is read once.
func TestRotationCompressGlob(t *testing.T) {
	const total, every = 2000, 400
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := openWriter(t, path, "z")
	c := newCollector()
	r := start(t, testConfig(false, filepath.Join(dir, "app.log*")), c)
	r.waitCaughtUp(t)
	n := 0
	for w.next < total {
		if err := w.write(every); err != nil {
			t.Fatal(err)
		}
		// A file rotated and compressed before the follower saw it at all
		// is unknown content (see the package comment's limits): wait for
		// its first line, not for the rest.
		c.waitLine(t, seqLine("z", w.next-every))
		// delaycompress: app.log.1 of the last rotation is compressed now.
		if _, err := os.Stat(path + ".1"); err == nil {
			n++
			gzipFile(t, path+".1", path+".2."+string(rune('a'+n))+".gz")
		}
		if err := renameAway(path); err != nil {
			t.Fatal(err)
		}
		if err := w.reopen(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.end(); err != nil {
		t.Fatal(err)
	}
	gzipFile(t, path+".1", path+".2.last.gz")
	c.waitLine(t, endLine("z"))
	r.waitStats(t, "every file looked at", func(s Stats) bool { return s.OpenFiles <= 2 })
	r.stop(t)
	lines := c.snapshot()
	checkSequence(t, lines, "z", total, false)
	if len(lines) != total+1 {
		t.Errorf("%d lines delivered, want %d: gzip bytes read as text?", len(lines), total+1)
	}
	if got := r.f.Stats().Errors[ReasonCompressedSkipped]; got != 0 {
		t.Errorf("compressed_skipped = %d, want 0: every .gz is a rotation of a file read whole", got)
	}
}

// TestCompressedStranger: compressed files that are no rotation of a
// followed file are skipped with a count, whatever their name: a gzip
// file called .log, a bzip2 file, a zstd one (which leakwatch cannot read).
func TestCompressedStranger(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(seqLine("s", 0) + "\n"))
	zw.Close()
	mustWriteFile(t, filepath.Join(dir, "old.log"), gz.String())
	// "hello\n" compressed by bzip2 -9.
	bz := []byte("BZh91AY&SY\xc1\xc0\x80\xe2\x00\x00\x01\x41\x00\x00\x10\x02\x44\xa0\x00\x30\xcd\x00\xc3\x46\x29\x97\x17\x72\x45\x38\x50\x90\xc1\xc0\x80\xe2")
	mustWriteFile(t, filepath.Join(dir, "b.log"), string(bz))
	mustWriteFile(t, filepath.Join(dir, "c.log"), "\x28\xb5\x2f\xfd\x00\x58\x31\x00\x00hello\n")
	mustWriteFile(t, filepath.Join(dir, "live.log"), seqLine("s", 1)+"\n")
	c := newCollector()
	r := start(t, testConfig(false, filepath.Join(dir, "*.log")), c)
	r.waitCaughtUp(t)
	c.waitLine(t, seqLine("s", 1))
	r.waitStats(t, "three skips", func(s Stats) bool { return s.Errors[ReasonCompressedSkipped] >= 3 })
	r.stop(t)
	if got := c.snapshot(); len(got) != 1 {
		t.Errorf("delivered %q, want only the live file's line", got)
	}
	if got := r.f.Stats().Errors[ReasonCompressedSkipped]; got != 3 {
		t.Errorf("compressed_skipped = %d, want 3 (one per file, once)", got)
	}
}

// TestResumeRotatedCompressedWhileStopped: the file is rotated and
// compressed while no follower runs, with lines it had not read. The next
// run finds the compressed file by its decompressed head and reads the
// unread end from the saved offset.
func TestResumeRotatedCompressedWhileStopped(t *testing.T) {
	for _, pattern := range []string{"app.log", "app.log*"} {
		t.Run(pattern, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			cfg := stateConfig(dir, false, filepath.Join(dir, pattern))
			w := openWriter(t, path, "q")
			first := newCollector()
			r1 := start(t, cfg, first)
			if err := w.write(300); err != nil {
				t.Fatal(err)
			}
			first.waitCount(t, "q", 300)
			r1.stop(t)

			if err := w.write(200); err != nil { // unread when it is rotated
				t.Fatal(err)
			}
			if err := renameAway(path); err != nil {
				t.Fatal(err)
			}
			gzipFile(t, path+".1", path+".1.gz")
			if err := w.reopen(); err != nil {
				t.Fatal(err)
			}
			if err := w.write(100); err != nil {
				t.Fatal(err)
			}
			if err := w.end(); err != nil {
				t.Fatal(err)
			}
			second := newCollector()
			r2 := start(t, cfg, second)
			second.waitLine(t, endLine("q"))
			r2.stop(t)
			checkSequence(t, append(first.snapshot(), second.snapshot()...), "q", 600, true)
		})
	}
}

// TestTruncatedThenRenamedWhileStopped is issue 10's case: while no
// follower runs, the file is copytruncated, written to, renamed to
// app.log.1 and a new app.log is written. app.log.1 has the saved inode
// but less than the saved offset: it is the same file, truncated, and its
// new lines are read, whatever its name now is.
func TestTruncatedThenRenamedWhileStopped(t *testing.T) {
	for _, pattern := range []string{"app.log", "*.log", "app.log*"} {
		t.Run(pattern, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			cfg := stateConfig(dir, false, filepath.Join(dir, pattern))
			w := openWriter(t, path, "r")
			first := newCollector()
			r1 := start(t, cfg, first)
			if err := w.write(1000); err != nil {
				t.Fatal(err)
			}
			first.waitCount(t, "r", 1000)
			r1.stop(t)

			// copytruncate, to a name no pattern matches.
			if err := copyTruncate(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(path+".1", filepath.Join(dir, "copy.old")); err != nil {
				t.Fatal(err)
			}
			if err := w.write(500); err != nil {
				t.Fatal(err)
			}
			if err := renameAway(path); err != nil {
				t.Fatal(err)
			}
			if err := w.reopen(); err != nil {
				t.Fatal(err)
			}
			if err := w.write(10); err != nil {
				t.Fatal(err)
			}
			if err := w.end(); err != nil {
				t.Fatal(err)
			}
			second := newCollector()
			r2 := start(t, cfg, second)
			second.waitLine(t, endLine("r"))
			r2.stop(t)
			if got := countTag(second.snapshot(), "r"); got != 511 {
				t.Errorf("second run read %d lines, want 510 and the end marker", got)
			}
			checkSequence(t, append(first.snapshot(), second.snapshot()...), "r", 1510, true)
		})
	}
}

// TestSameHeadNotACopy: a second file that starts like a followed one (a
// stream written to two files) is first taken for its copy, but once it
// holds more than the first, what it holds past their common lines is
// read: a match on heads never hides lines of their own.
func TestSameHeadNotACopy(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	var common strings.Builder
	for i := range 10 {
		common.WriteString(seqLine("c", i) + "\n")
	}
	mustWriteFile(t, a, common.String())
	c := newCollector()
	r := start(t, testConfig(false, filepath.Join(dir, "*.log")), c)
	r.waitCaughtUp(t)
	c.waitCount(t, "c", 10)
	mustWriteFile(t, b, common.String())
	r.waitStats(t, "b.log open", func(s Stats) bool { return s.OpenFiles == 2 })
	f, err := os.OpenFile(b, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		f.WriteString(seqLine("b", i) + "\n")
	}
	f.WriteString(endLine("b") + "\n")
	f.Close()
	c.waitLine(t, endLine("b"))
	r.stop(t)
	checkSequence(t, c.snapshot(), "c", 10, true)
	checkSequence(t, c.snapshot(), "b", 5, true)
}

// TestCompressedWrittenSlowly: a compressed rotation seen while it is
// still being written (its stream ends early) is neither skipped nor read
// as text: it is looked at again when it grows, and the unread end of the
// file it holds is read from the saved offset once, when complete.
func TestCompressedWrittenSlowly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := stateConfig(dir, false, filepath.Join(dir, "app.log*"))
	w := openWriter(t, path, "w")
	first := newCollector()
	r1 := start(t, cfg, first)
	if err := w.write(200); err != nil {
		t.Fatal(err)
	}
	first.waitCount(t, "w", 200)
	r1.stop(t)
	// While stopped: 300 more lines, rotated; the new file gets one line.
	if err := w.write(300); err != nil {
		t.Fatal(err)
	}
	if err := renameAway(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path + ".1")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(b)
	zw.Close()
	// Only the first half of the compressed file exists when the follower
	// starts; app.log.1 is gone (gzip removes it when done, here before).
	if err := os.Remove(path + ".1"); err != nil {
		t.Fatal(err)
	}
	half := gz.Len() / 2
	mustWriteFile(t, path+".1.gz", string(gz.Bytes()[:half]))
	if err := w.reopen(); err != nil {
		t.Fatal(err)
	}
	if err := w.end(); err != nil {
		t.Fatal(err)
	}
	second := newCollector()
	r2 := start(t, cfg, second)
	second.waitLine(t, endLine("w"))
	time.Sleep(3 * cfg.PollInterval) // polls that find the .gz unchanged
	f, err := os.OpenFile(path+".1.gz", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(gz.Bytes()[half:])
	f.Close()
	second.waitCount(t, "w", 300)
	r2.waitStats(t, "a few more polls", func(Stats) bool { return true })
	time.Sleep(3 * cfg.PollInterval)
	r2.stop(t)
	checkSequence(t, append(first.snapshot(), second.snapshot()...), "w", 500, false)
	if got := r2.f.Stats().Errors[ReasonCompressedSkipped]; got != 0 {
		t.Errorf("compressed_skipped = %d, want 0", got)
	}
}

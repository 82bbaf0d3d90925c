//go:build unix

package rotation

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// inode returns the inode number of path.
func inode(t testing.TB, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// savedInodes returns the inode numbers of the files in offsets.json.
func savedInodes(t testing.TB, stateDir string) map[uint64]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stateDir, "offsets.json"))
	if err != nil {
		t.Fatalf("reading the offsets leakwatch saved: %v", err)
	}
	var st struct {
		Files []struct {
			Ino uint64 `json:"ino"`
		} `json:"files"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("parsing offsets.json: %v", err)
	}
	out := map[uint64]bool{}
	for _, f := range st.Files {
		out[f.Ino] = true
	}
	return out
}

// createWithInode creates files in dir until the filesystem hands out
// inode number ino again (ext4 reuses a freed inode at once), renames that
// file to path and removes the others. It skips the test when the
// filesystem does not reuse the number (tmpfs never does).
func createWithInode(t testing.TB, dir string, ino uint64, path string) *os.File {
	t.Helper()
	var spares []string
	defer func() {
		for _, s := range spares {
			os.Remove(s)
		}
	}()
	for i := range 200 {
		p := filepath.Join(dir, fmt.Sprintf("spare-%d", i))
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if inode(t, p) == ino {
			if err := os.Rename(p, path); err != nil {
				t.Fatal(err)
			}
			return f
		}
		f.Close()
		spares = append(spares, p)
	}
	t.Skipf("the filesystem of %s did not reuse inode %d in 200 creations; the case cannot be set up here", dir, ino)
	return nil
}

// TestRotatedFileInodeReusedWhileStopped: leakwatch stops while it is
// still finishing a file rotated away by renaming (within RotateWait of
// the rotation), so that file's identity (device, inode) is in
// offsets.json. While it is stopped, logrotate deletes that file and
// copytruncates the live one, and the filesystem gives the freed inode
// number to the copy, a file the patterns do not match. At start leakwatch
// must not take the copy for the file it saved: the copy holds only lines
// already read. The saved fingerprint does not match the copy, which proves
// it is another file; reading it from its start as "truncated while down"
// counts every line again.
func TestRotatedFileInodeReusedWhileStopped(t *testing.T) {
	in := newInstance(t)
	live := filepath.Join(in.logs, "cms.log")
	rotated := live + ".1"
	w := newLogWriter(t, live, 1000, 5)
	w.write(1000)
	p := in.start(t)
	in.waitLines(t, 1000, "the first file")

	if err := os.Rename(live, rotated); err != nil {
		t.Fatal(err)
	}
	w.reopen()
	w.write(1000)
	in.waitLines(t, 2000, "after the rename rotation")
	oldIno := inode(t, rotated)
	if err := p.Stop(20 * time.Second); err != nil {
		t.Fatalf("leakwatch did not stop cleanly: %v", err)
	}
	if !savedInodes(t, in.state)[oldIno] {
		// It finished the rotated file before it stopped: there is no
		// saved identity for a reused inode number to be mistaken for.
		t.Skipf("leakwatch had finished the rotated file (inode %d) before it stopped, so offsets.json holds no identity to reuse; the case cannot be set up this run", oldIno)
	}

	// logrotate, while leakwatch is down: drop the old rotated file, copy
	// the live file to cms.log.1 and truncate it in place.
	if err := os.Remove(rotated); err != nil {
		t.Fatal(err)
	}
	dst := createWithInode(t, in.logs, oldIno, rotated)
	src, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	src.Close()
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(live, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("the copy %s has inode %d, as the rotated file leakwatch saved had", filepath.Base(rotated), oldIno)

	in.start(t)
	s := in.mustGet(t)
	if s.lines != 0 {
		t.Errorf("after the restart leakwatch read %d lines, want 0: it took %s, a new file given the inode number of a rotated file deleted while it was stopped, for that file, and read it from the start (duplicates)",
			s.lines, filepath.Base(rotated))
	}
}

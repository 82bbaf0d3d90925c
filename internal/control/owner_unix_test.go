//go:build unix

package control

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The packages run the daemon as the leakwatch user and operators type
// `sudo leakwatch reset`. A request root leaves (0600) in a requests folder
// root made (0700) is unreadable to the daemon: the command waited its
// whole timeout, then blamed a stuck daemon, and every later request was
// lost too. Root now hands both to the state directory's owner.
func TestRootRequestIsHandedToTheStateDirOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to hand files to another user")
	}
	const uid, gid = 65534, 65534
	dir := t.TempDir()
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	// A requests folder an earlier root command made, owned by root.
	if err := os.Mkdir(requestsDir(dir), 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id, err := submit(dir, Request{Kind: KindReset, Bridge: "wb1", Time: now, Deadline: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{requestsDir(dir), filepath.Join(requestsDir(dir), id+".request")} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		if st.Uid != uid || st.Gid != gid {
			t.Errorf("%s is owned by %d:%d, want the state directory's owner %d:%d", p, st.Uid, st.Gid, uid, gid)
		}
	}
	if got := Pending(dir, discard); len(got) != 1 || got[0].ID != id {
		t.Errorf("Pending = %+v, want request %s", got, id)
	}
}

// Without root nothing changes hands, and a state directory owned by root
// keeps its files root's.
func TestRequestKeepsItsOwnerWhenNotHandedOver(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	id, err := submit(dir, Request{Kind: KindReset, Bridge: "wb1", Time: now, Deadline: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(requestsDir(dir), id+".request"))
	if err != nil {
		t.Fatal(err)
	}
	if st := info.Sys().(*syscall.Stat_t); int(st.Uid) != os.Geteuid() {
		t.Errorf("request owned by %d, want %d", st.Uid, os.Geteuid())
	}
	if m, _ := filepath.Glob(filepath.Join(requestsDir(dir), "*.new")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

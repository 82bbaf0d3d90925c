//go:build unix

package control

import (
	"fmt"
	"os"
	"syscall"
)

// handOver gives path to the owner of the state directory dir when this
// process runs as root and the directory belongs to another user. The
// packages run the daemon as the leakwatch user, and an operator runs
// `sudo leakwatch restart`: without this the request (0600) and a
// requests folder made by root (0700) are unreadable to the daemon, which
// then never sees this request or any later one.
func handOver(path, dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	info, err := os.Stat(dir)
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	if err := os.Lchown(path, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("giving %s to the state directory's owner (uid %d): %w", path, st.Uid, err)
	}
	return nil
}

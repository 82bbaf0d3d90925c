//go:build unix

package follow

import (
	"os"
	"syscall"
)

// pathIdentity returns the identity of the file at path, whose os.Stat is
// st: on Unix its device and inode numbers, which Stat already holds.
func pathIdentity(_ string, st os.FileInfo) (fileID, bool) {
	return statIdentity(st)
}

// openIdentity returns the identity of the open file f, whose Stat is st.
func openIdentity(_ *os.File, st os.FileInfo) (fileID, bool) {
	return statIdentity(st)
}

func statIdentity(st os.FileInfo) (fileID, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{Dev: uint64(sys.Dev), Ino: uint64(sys.Ino)}, true //nolint:unconvert // Dev is not uint64 on every platform.
}

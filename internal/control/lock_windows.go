//go:build windows

package control

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// The lock covers the largest range Windows allows, from offset 0, so it
// does not depend on the file's size.
const lockBytes = ^uint32(0)

func tryLock(f *os.File) error {
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY,
		0, lockBytes, lockBytes, new(windows.Overlapped))
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errWouldBlock
	}
	return err
}

func unlock(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, lockBytes, lockBytes, new(windows.Overlapped))
}

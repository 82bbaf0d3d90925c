package control

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrLocked means another leakwatch holds the state directory.
var ErrLocked = errors.New("another leakwatch is running on this state_dir")

// errWouldBlock is what tryLock returns when another process holds the
// lock: the one fact the portable code needs from the platform's lock call.
var errWouldBlock = errors.New("lock held elsewhere")

// The platform's lock is two calls, in lock_unix.go (flock) and
// lock_windows.go (LockFileEx):
//
//	tryLock(f *os.File) error // exclusive, without waiting; errWouldBlock if held
//	unlock(f *os.File) error
//
// Both locks belong to the open file, so the operating system drops them
// when the holder dies, however it dies: a stale lock file never blocks a
// restarted leakwatch.

// Lock is the state directory's lock.
type Lock struct{ f *os.File }

// LockFile is the name of the lock file inside the state directory.
const LockFile = "leakwatch.lock"

// Acquire takes the state directory's lock without waiting. It returns
// ErrLocked (wrapped) when a running leakwatch holds it.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Release lets the lock go.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		_ = unlock(l.f)
		l.f.Close()
		l.f = nil
	}
}

//go:build windows

package atomicfile

import "golang.org/x/sys/windows"

// replace renames from over to with MoveFileEx and MOVEFILE_WRITE_THROUGH,
// which returns only once the move is on disk. Windows has no folder fsync:
// FlushFileBuffers on a folder's handle fails with "Access is denied", so
// the Unix way would fail every state write.
func replace(from, to string) error {
	f, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return err
	}
	t, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return err
	}
	return windows.MoveFileEx(f, t, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH)
}

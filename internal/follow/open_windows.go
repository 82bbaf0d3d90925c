package follow

import (
	"os"

	"golang.org/x/sys/windows"
)

// shareAll lets other programs read, write, rename and delete a file that
// the follower holds open. Without FILE_SHARE_DELETE (which os.Open does
// not ask for) a Windows syslog server could not rotate the file.
const shareAll = windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE

// openFile opens name for reading, sharing it with every other program.
func openFile(name string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ, shareAll, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(h), name), nil
}

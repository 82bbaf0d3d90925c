package follow

import (
	"os"

	"golang.org/x/sys/windows"
)

// pathIdentity returns the identity of the file at path: on Windows the
// serial number of its volume and its file index, which only an open
// handle gives. The handle shares everything, so that it never stands in
// the way of a writer renaming or deleting the file.
func pathIdentity(path string, _ os.FileInfo) (fileID, bool) {
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return fileID{}, false
	}
	h, err := windows.CreateFile(name, windows.FILE_READ_ATTRIBUTES, shareAll, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return fileID{}, false
	}
	defer windows.CloseHandle(h)
	return handleIdentity(h)
}

// openIdentity returns the identity of the open file f.
func openIdentity(f *os.File, _ os.FileInfo) (fileID, bool) {
	return handleIdentity(windows.Handle(f.Fd()))
}

// handleIdentity reads the volume serial number and the 64-bit file index.
// ReFS has 128-bit file IDs, of which this index is the low half: two files
// there could share it, as two inode numbers never can on one device.
func handleIdentity(h windows.Handle) (fileID, bool) {
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &info); err != nil {
		return fileID{}, false
	}
	return fileID{
		Dev: uint64(info.VolumeSerialNumber),
		Ino: uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow),
	}, true
}

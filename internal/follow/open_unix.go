//go:build unix

package follow

import (
	"os"
	"syscall"
)

// openFile opens name for reading. O_NONBLOCK keeps a path replaced by a FIFO
// from blocking the follower; it changes nothing for regular files.
func openFile(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

//go:build unix

package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// replace renames from over to, then syncs the folder so that the rename
// itself survives a power loss.
func replace(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	dir := filepath.Dir(to)
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	return nil
}

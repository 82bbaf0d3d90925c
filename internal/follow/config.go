package follow

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Defaults applied by New to zero-valued Config fields.
const (
	DefaultPollInterval = time.Second
	DefaultSaveInterval = time.Second
	DefaultRotateWait   = 5 * time.Second
	DefaultMaxLineBytes = 64 << 10
)

// Values of Config.StartAt.
const (
	StartBeginning = "beginning"
	StartEnd       = "end"
)

// stateFileName is the name of the offsets file inside Config.StateDir.
const stateFileName = "offsets.json"

// Config says what to follow and how.
type Config struct {
	// Patterns are shell glob patterns (filepath.Match syntax) of the files
	// to follow, such as /var/log/cms/*.log. Relative patterns are made
	// absolute against the working directory at New. A pattern may match
	// rotated files too (x.log*): a copy made by copytruncate continues
	// from its original's offset, and a compressed rotation is read only
	// for the lines it holds that were not read (see the package comment).
	Patterns []string
	// StateDir is where offsets are saved, in the file offsets.json.
	// Empty means offsets are not persisted and every start is a first start.
	StateDir string
	// StartAt is where to start, at the first start (no offsets file), in a
	// file that exists at that moment: "beginning" (the default) or "end".
	// Files that appear later are always read from their beginning.
	StartAt string
	// PollInterval is the cadence of the polling safety net: re-glob the
	// patterns, look for rotation and truncation, and read every file.
	// With Poll it is the only way data is noticed. Default 1s.
	PollInterval time.Duration
	// SaveInterval is how often, at most, offsets are written when they
	// changed. They are also written when Run returns. Default 1s.
	SaveInterval time.Duration
	// RotateWait is how long a file that left its path (renamed away or
	// deleted) is still read after it last grew, so that a writer that
	// has not reopened yet loses nothing. Default 5s.
	RotateWait time.Duration
	// MaxLineBytes caps a line: longer lines are cut, their first
	// MaxLineBytes delivered and the rest dropped up to the next newline.
	// Default 64 KiB.
	MaxLineBytes int
	// Poll disables inotify: files are only read every PollInterval. Use it
	// on filesystems that do not report changes (NFS, some FUSE mounts).
	Poll bool
}

// withDefaults returns c with every zero value replaced by its default and
// patterns made absolute.
func (c Config) withDefaults() (Config, error) {
	if c.StartAt == "" {
		c.StartAt = StartBeginning
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.SaveInterval == 0 {
		c.SaveInterval = DefaultSaveInterval
	}
	if c.RotateWait == 0 {
		c.RotateWait = DefaultRotateWait
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	patterns := make([]string, 0, len(c.Patterns))
	for _, p := range c.Patterns {
		abs, err := filepath.Abs(p)
		if err != nil {
			return c, fmt.Errorf("patterns: %q: %w", p, err)
		}
		patterns = append(patterns, abs)
	}
	c.Patterns = patterns
	if c.StateDir != "" {
		abs, err := filepath.Abs(c.StateDir)
		if err != nil {
			return c, fmt.Errorf("state_dir: %q: %w", c.StateDir, err)
		}
		c.StateDir = abs
	}
	return c, nil
}

// validate reports the first invalid field of a defaulted config, naming it.
func (c Config) validate() error {
	if len(c.Patterns) == 0 {
		return errors.New("patterns: at least one pattern is required")
	}
	for _, p := range c.Patterns {
		if _, err := filepath.Match(p, ""); err != nil {
			return fmt.Errorf("patterns: %q: %w", p, err)
		}
	}
	switch c.StartAt {
	case StartBeginning, StartEnd:
	default:
		return fmt.Errorf("start_at: %q: must be %q or %q", c.StartAt, StartBeginning, StartEnd)
	}
	if c.PollInterval < 0 {
		return fmt.Errorf("poll_interval: %s: must be positive", c.PollInterval)
	}
	if c.SaveInterval < 0 {
		return fmt.Errorf("save_interval: %s: must be positive", c.SaveInterval)
	}
	if c.RotateWait < 0 {
		return fmt.Errorf("rotate_wait: %s: must be positive", c.RotateWait)
	}
	if c.MaxLineBytes < 0 {
		return fmt.Errorf("max_line_bytes: %d: must be positive", c.MaxLineBytes)
	}
	return nil
}

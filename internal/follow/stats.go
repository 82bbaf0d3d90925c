package follow

import (
	"maps"
	"sync"
)

// Error reasons counted in Stats.Errors.
const (
	// ReasonPermissionDenied: a file or directory could not be opened or
	// listed for lack of permission. It is retried every PollInterval.
	ReasonPermissionDenied = "permission_denied"
	// ReasonStat: a matching path could not be examined.
	ReasonStat = "stat"
	// ReasonOpen: a file could not be opened for a reason other than permission.
	ReasonOpen = "open"
	// ReasonRead: reading an open file failed; it is retried.
	ReasonRead = "read"
	// ReasonWatch: inotify could not be set up or reported an error (such as
	// a queue overflow); polling covers the gap.
	ReasonWatch = "watch"
	// ReasonTruncatedLine: a line longer than MaxLineBytes was cut.
	ReasonTruncatedLine = "truncated_line"
	// ReasonStateLoad: the offsets file could not be read or parsed.
	ReasonStateLoad = "state_load"
	// ReasonStateSave: the offsets file could not be written.
	ReasonStateSave = "state_save"
	// ReasonCompressedSkipped: a compressed file matching the patterns was
	// skipped: it is not a rotation of a file with unread lines, or its
	// format cannot be read (only gzip and bzip2 can), or it is corrupt.
	ReasonCompressedSkipped = "compressed_skipped"
)

// Reasons lists every error reason, so that metrics can start at zero.
var Reasons = []string{
	ReasonPermissionDenied, ReasonStat, ReasonOpen, ReasonRead, ReasonWatch,
	ReasonTruncatedLine, ReasonStateLoad, ReasonStateSave, ReasonCompressedSkipped,
}

// Stats is a snapshot of the follower's counters. Counters only grow.
type Stats struct {
	// Files holds the counters of every path lines were read from, keyed by
	// the path the file had when it was found (a rotated file keeps it).
	Files map[string]FileStats
	// Errors counts failures by reason (see the Reason constants).
	Errors map[string]uint64
	// OpenFiles is the number of files held open, rotated ones included.
	OpenFiles int
	// Up is true while Run is running and at least one file matching the
	// patterns is open.
	Up bool
	// Watching is true while inotify is in use; false means polling only.
	Watching bool
}

// FileStats are the counters of one path.
type FileStats struct {
	Lines          uint64 // lines handed to the handler
	Bytes          uint64 // bytes read, newlines and cut bytes included
	TruncatedBytes uint64 // bytes dropped from over-long lines
	Rotations      uint64 // times the file at this path was replaced or removed
	Truncations    uint64 // times the file was found truncated and reread from 0
}

// counters is the shared, locked side of Stats.
type counters struct {
	mu       sync.Mutex
	files    map[string]FileStats
	errors   map[string]uint64
	open     int
	current  int
	running  bool
	watching bool
}

func newCounters() *counters {
	c := &counters{files: map[string]FileStats{}, errors: map[string]uint64{}}
	for _, r := range Reasons {
		c.errors[r] = 0
	}
	return c
}

func (c *counters) addError(reason string) {
	c.mu.Lock()
	c.errors[reason]++
	c.mu.Unlock()
}

func (c *counters) addRotation(path string) {
	c.mu.Lock()
	fs := c.files[path]
	fs.Rotations++
	c.files[path] = fs
	c.mu.Unlock()
}

// flush moves t's pending counters into c.
func (c *counters) flush(t *tailedFile) {
	if t.lines == 0 && t.bytes == 0 && t.cutBytes == 0 && t.cutLines == 0 && t.truncations == 0 {
		return
	}
	c.mu.Lock()
	fs := c.files[t.path]
	fs.Lines += t.lines
	fs.Bytes += t.bytes
	fs.TruncatedBytes += t.cutBytes
	fs.Truncations += t.truncations
	c.files[t.path] = fs
	c.errors[ReasonTruncatedLine] += t.cutLines
	c.mu.Unlock()
	t.lines, t.bytes, t.cutBytes, t.cutLines, t.truncations = 0, 0, 0, 0, 0
}

// addLines counts lines read from a compressed file.
func (c *counters) addLines(path string, lines, bytes, cutLines, cutBytes uint64) {
	if lines == 0 && bytes == 0 {
		return
	}
	c.mu.Lock()
	fs := c.files[path]
	fs.Lines += lines
	fs.Bytes += bytes
	fs.TruncatedBytes += cutBytes
	c.files[path] = fs
	c.errors[ReasonTruncatedLine] += cutLines
	c.mu.Unlock()
}

func (c *counters) setFiles(open, current int) {
	c.mu.Lock()
	c.open, c.current = open, current
	c.mu.Unlock()
}

func (c *counters) setRunning(running bool) {
	c.mu.Lock()
	c.running = running
	c.mu.Unlock()
}

func (c *counters) setWatching(watching bool) {
	c.mu.Lock()
	c.watching = watching
	c.mu.Unlock()
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{
		Files:     maps.Clone(c.files),
		Errors:    maps.Clone(c.errors),
		OpenFiles: c.open,
		Up:        c.running && c.current > 0,
		Watching:  c.watching,
	}
}

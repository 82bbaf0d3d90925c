// Package audit writes the restart audit log: one JSON object per line,
// appended and synced per entry, so an operator can reconstruct every
// decision change and every action after the fact.
//
// Entries carry no secret: Entry has no field for one, and callers pass only
// decisions, ledger entries and command output.
package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/policy"
)

// Event is what an entry records.
type Event string

// The events.
const (
	// EventDecision: a bridge's decision changed (reason or restart verdict).
	EventDecision Event = "decision"
	// EventRestartStarted: a restart was recorded in flight and is being sent.
	EventRestartStarted Event = "restart_started"
	// EventRestartFinished: the restart command returned (see Result, Error).
	EventRestartFinished Event = "restart_finished"
	// EventRestartInterrupted: a restart found in flight at start-up.
	EventRestartInterrupted Event = "restart_interrupted"
	// EventRecovered: a restarted bridge showed its leak gone.
	EventRecovered Event = "recovered"
	// EventBreakerTripped: automatic action on a bridge stopped.
	EventBreakerTripped Event = "breaker_tripped"
	// EventBreakerReset: an operator reset a breaker.
	EventBreakerReset Event = "breaker_reset"
	// EventForceRefused: a forced restart was refused by a guard.
	EventForceRefused Event = "force_refused"
	// EventRestartRefused is a `leakwatch restart` (without --force) that
	// a guard refused.
	EventRestartRefused Event = "restart_refused"
	// EventRequestRefused: a `leakwatch reset` or `leakwatch restart`
	// request was refused unread because it was past its deadline (or
	// its times cannot be trusted); Reason is stale_request, Detail says
	// which request and why.
	EventRequestRefused Event = "request_refused"
	// EventConfig: the policy configuration (mode) changed.
	EventConfig Event = "config"
	// EventDeparted: a discovered component left the cluster sums; Bridge
	// is its name, Reason forget_after (silent longer than
	// model.forget_after) or operator (leakwatch forget).
	EventDeparted Event = "departed"
	// EventForget: an operator ran `leakwatch forget HOST`; Detail names
	// the host, the user and what was forgotten.
	EventForget Event = "forget"
)

// Entry is one audit line.
type Entry struct {
	Time   time.Time `json:"time"`
	Event  Event     `json:"event"`
	Bridge string    `json:"bridge,omitempty"`
	Mode   string    `json:"mode,omitempty"`
	// Decision is the verdict of decision events: "restart",
	// "would_restart", "hold" or "blocked" (policy.Verdict).
	Decision  string `json:"decision,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Detail    string `json:"detail,omitempty"`
	Forced    bool   `json:"forced,omitempty"`
	Emergency bool   `json:"emergency,omitempty"`
	// By is who asked, for a restart an operator requested: the account
	// and pid the request names. Empty for leakwatch's own decisions.
	By     string         `json:"by,omitempty"`
	Inputs *policy.Inputs `json:"inputs,omitempty"`
	// Result is the restart result (ok, failed, interrupted).
	Result string `json:"result,omitempty"`
	// Output is what the restart command printed.
	Output string `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Writer is what the actuator writes entries to; *Log implements it.
type Writer interface {
	Write(Entry) error
}

// Discard is a Writer that drops every entry (for what-if replays).
var Discard Writer = discard{}

type discard struct{}

func (discard) Write(Entry) error { return nil }

// Log is an append-only JSON-lines audit file. It is safe for concurrent use.
type Log struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

// Open opens (creating, mode 0640) the audit log at path for appending.
func Open(path string) (*Log, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	return &Log{path: path, f: f}, nil
}

func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("opening audit log %s: %w", path, err)
	}
	// A crash mid-write leaves a torn last line; end it so the next entry
	// starts on a line of its own.
	if info, err := f.Stat(); err == nil && info.Size() > 0 {
		last := make([]byte, 1)
		if r, err := os.Open(path); err == nil {
			_, rerr := r.ReadAt(last, info.Size()-1)
			r.Close()
			if rerr == nil && last[0] != '\n' {
				if _, err := f.Write([]byte{'\n'}); err != nil {
					f.Close()
					return nil, fmt.Errorf("ending torn line in audit log %s: %w", path, err)
				}
			}
		}
	}
	return f, nil
}

// Path returns the log's file path.
func (l *Log) Path() string { return l.path }

// Write appends e as one line and syncs it to disk.
func (l *Log) Write(e Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding audit entry: %w", err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("writing audit log %s: log is closed", l.path)
	}
	if _, err := l.f.Write(line); err != nil {
		return fmt.Errorf("writing audit log %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("syncing audit log %s: %w", l.path, err)
	}
	return nil
}

// Reopen closes and reopens the file, for log rotation (on SIGHUP).
func (l *Log) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := openAppend(l.path)
	if err != nil {
		return err
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f = f
	return nil
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("closing audit log %s: %w", l.path, err)
	}
	return nil
}

// tailChunk is how much ReadTail reads from the end at a time.
const tailChunk = 64 << 10

// TailMaxBytes bounds what ReadTail reads from the end of the file. An
// entry is a few hundred bytes (a restart's output is capped at 4 KiB), so
// this holds far more than a page shows, and a page that refreshes every
// few seconds reads a bounded amount however large the log grows.
const TailMaxBytes = 256 << 10

// ReadTail returns the last n entries of the audit log at path, oldest first,
// found within its last TailMaxBytes. A missing file gives no entries and no
// error (nothing audited yet). Lines that do not parse (a line torn by a
// crash, or cut by the bound) are skipped.
func ReadTail(path string, n int) ([]Entry, error) {
	if n <= 0 {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening audit log %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading audit log %s: %w", path, err)
	}
	// Read backwards in chunks until the buffer holds n+1 newlines (one
	// more than needed, so the first kept line is whole) or the file start.
	size := info.Size()
	off := size
	var buf []byte
	for off > 0 && size-off < TailMaxBytes && bytes.Count(buf, []byte{'\n'}) <= n {
		step := min(int64(tailChunk), off)
		off -= step
		chunk := make([]byte, step)
		if _, err := f.ReadAt(chunk, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading audit log %s: %w", path, err)
		}
		buf = append(chunk, buf...)
	}
	if off > 0 {
		// Drop the partial line at the front of the buffer.
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	var out []Entry
	sc := bufio.NewScanner(bytes.NewReader(buf))
	sc.Buffer(make([]byte, 0, 64<<10), len(buf)+1)
	for sc.Scan() {
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}

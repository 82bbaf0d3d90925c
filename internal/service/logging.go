package service

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// EventWriter is the Windows event log as golang.org/x/sys/windows/svc/eventlog
// offers it: one call per event, with its type and event ID.
type EventWriter interface {
	Info(eid uint32, msg string) error
	Warning(eid uint32, msg string) error
	Error(eid uint32, msg string) error
}

// Event IDs of leakwatch's events, one per level, so an event log filter or
// a monitoring rule can select warnings and errors by ID.
const (
	EventInfo    uint32 = 1
	EventWarning uint32 = 2
	EventError   uint32 = 3
)

// NewLogger returns the logger of `leakwatch run` as a service: every
// record at or above level goes to file in format ("text" or "json"), and
// the same records, but never below info, go to the event log (debug
// records would flood it; they stay in the file).
func NewLogger(file io.Writer, events EventWriter, format string, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var fh slog.Handler = slog.NewTextHandler(file, opts)
	if format == "json" {
		fh = slog.NewJSONHandler(file, opts)
	}
	eh := NewEventHandler(events, atLeast{level, slog.LevelInfo})
	return slog.New(slog.NewMultiHandler(fh, eh))
}

// atLeast is the higher of two levels; the first may change (a LevelVar
// set by SIGHUP's reload).
type atLeast struct {
	l   slog.Leveler
	min slog.Level
}

func (a atLeast) Level() slog.Level { return max(a.l.Level(), a.min) }

// NewEventHandler returns a slog.Handler that writes each record at or
// above level to w as one event: error and above as an error event,
// warn as a warning, the rest as information. The message is the record in
// slog's text form without time and level, which the event log keeps
// itself.
func NewEventHandler(w EventWriter, level slog.Leveler) slog.Handler {
	h := &eventHandler{w: w, level: level, mu: new(sync.Mutex), buf: new(bytes.Buffer)}
	h.text = slog.NewTextHandler(h.buf, &slog.HandlerOptions{
		Level: slog.LevelDebug, // Enabled below decides
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
				return slog.Attr{}
			}
			return a
		},
	})
	return h
}

type eventHandler struct {
	w     EventWriter
	level slog.Leveler
	text  slog.Handler // writes into buf; shared by WithAttrs copies, under mu
	mu    *sync.Mutex
	buf   *bytes.Buffer
}

func (h *eventHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *eventHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Reset()
	if err := h.text.Handle(ctx, r); err != nil {
		return err
	}
	msg := strings.TrimSuffix(h.buf.String(), "\n")
	var err error
	switch {
	case r.Level >= slog.LevelError:
		err = h.w.Error(EventError, msg)
	case r.Level >= slog.LevelWarn:
		err = h.w.Warning(EventWarning, msg)
	default:
		err = h.w.Info(EventInfo, msg)
	}
	if err != nil {
		return fmt.Errorf("writing to the event log: %w", err)
	}
	return nil
}

func (h *eventHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.text = h.text.WithAttrs(as)
	return &c
}

func (h *eventHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.text = h.text.WithGroup(name)
	return &c
}

// LogFile is a log file capped in size: when a write would take it past
// max bytes, it becomes path.1 (replacing the one before) and a new file is
// started. Windows has no logrotate, and a service's log must not fill the
// disk.
type LogFile struct {
	path string
	max  int64
	mu   sync.Mutex
	f    *os.File
	size int64
}

// OpenLogFile opens (appending) or creates the log file at path.
func OpenLogFile(path string, max int64) (*LogFile, error) {
	l := &LogFile{path: path, max: max}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *LogFile) open() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("opening log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("opening log file: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write writes p whole to the current file, first moving a full file aside.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	if l.size > 0 && l.size+int64(len(p)) > l.max {
		// Windows cannot rename an open file: close it first.
		l.f.Close()
		l.f = nil
		if err := os.Rename(l.path, l.path+".1"); err != nil {
			// Keep logging into the full file rather than losing records.
			if oerr := l.open(); oerr != nil {
				return 0, oerr
			}
		} else if err := l.open(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// Close closes the file.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

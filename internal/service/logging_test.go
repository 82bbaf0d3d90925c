package service

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type event struct {
	kind string
	id   uint32
	msg  string
}

// fakeEvents records events as the Windows event log would keep them.
type fakeEvents struct {
	mu     sync.Mutex
	events []event
	fail   error
}

func (f *fakeEvents) add(kind string, id uint32, msg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.events = append(f.events, event{kind, id, msg})
	return nil
}

func (f *fakeEvents) Info(id uint32, msg string) error    { return f.add("info", id, msg) }
func (f *fakeEvents) Warning(id uint32, msg string) error { return f.add("warning", id, msg) }
func (f *fakeEvents) Error(id uint32, msg string) error   { return f.add("error", id, msg) }

func TestServiceLoggerWritesFileAndEventLog(t *testing.T) {
	var file bytes.Buffer
	ev := &fakeEvents{}
	level := new(slog.LevelVar)
	level.Set(slog.LevelDebug)
	log := NewLogger(&file, ev, "text", level).With("component", "policy")

	log.Debug("window closed", "webbridge", "wb1")
	log.Info("restart ordered", "webbridge", "wb1", "leak", 31)
	log.Warn("input stale", "source", "C:\\Logs\\cms.txt")
	log.WithGroup("ssh").Error("host key changed", "host", "cms1:22")

	lines := strings.Split(strings.TrimSpace(file.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("file has %d lines, want all 4 (debug included):\n%s", len(lines), file.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "time=") || !strings.Contains(l, "component=policy") {
			t.Errorf("file line lacks its time or the logger's attributes: %s", l)
		}
	}
	want := []event{
		{"info", EventInfo, `msg="restart ordered" component=policy webbridge=wb1 leak=31`},
		{"warning", EventWarning, `msg="input stale" component=policy source=C:\Logs\cms.txt`},
		{"error", EventError, `msg="host key changed" component=policy ssh.host=cms1:22`},
	}
	if len(ev.events) != len(want) {
		t.Fatalf("event log got %d events, want %d (never debug): %+v", len(ev.events), len(want), ev.events)
	}
	for i, w := range want {
		if ev.events[i] != w {
			t.Errorf("event %d = %+v\nwant        %+v", i, ev.events[i], w)
		}
	}
}

func TestServiceLoggerFollowsTheLevel(t *testing.T) {
	var file bytes.Buffer
	ev := &fakeEvents{}
	level := new(slog.LevelVar)
	level.Set(slog.LevelWarn)
	log := NewLogger(&file, ev, "json", level)
	log.Info("quiet")
	if file.Len() != 0 || len(ev.events) != 0 {
		t.Fatalf("info logged at level warn: file %q, events %v", file.String(), ev.events)
	}
	level.Set(slog.LevelInfo) // as a SIGHUP reload does
	log.Info("loud")
	if !strings.Contains(file.String(), `"msg":"loud"`) {
		t.Errorf("json file line missing: %q", file.String())
	}
	if len(ev.events) != 1 {
		t.Errorf("events %v, want the one info", ev.events)
	}
}

func TestServiceLoggerKeepsTheFileWhenTheEventLogFails(t *testing.T) {
	var file bytes.Buffer
	ev := &fakeEvents{fail: errors.New("event log full")}
	log := NewLogger(&file, ev, "text", slog.LevelInfo)
	log.Error("breaker tripped", "webbridge", "wb2")
	if !strings.Contains(file.String(), "breaker tripped") {
		t.Errorf("the file lost a record because the event log failed: %q", file.String())
	}
}

func TestEventHandlerConcurrent(t *testing.T) {
	ev := &fakeEvents{}
	log := slog.New(NewEventHandler(ev, slog.LevelInfo))
	var wg sync.WaitGroup
	for i := range 8 {
		l := log.With("worker", i)
		wg.Go(func() {
			for range 100 {
				l.Info("tick")
			}
		})
	}
	wg.Wait()
	if len(ev.events) != 800 {
		t.Fatalf("%d events, want 800", len(ev.events))
	}
	for _, e := range ev.events {
		if !strings.HasPrefix(e.msg, "msg=tick worker=") || strings.Contains(e.msg, "\n") {
			t.Fatalf("mixed-up event %q", e.msg)
		}
	}
}

func TestLogFileRotatesAtItsCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leakwatch.log")
	if err := os.WriteFile(path, []byte("old line\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	f, err := OpenLogFile(path, 30)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range []string{"first record\n", "second record\n", "third record\n"} {
		if _, err := f.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := os.ReadFile(path)
	prev, _ := os.ReadFile(path + ".1")
	// 9 + 13 bytes fit in 30; the second record would pass it, so the file
	// moves aside, and the third fits beside the second.
	if string(prev) != "old line\nfirst record\n" {
		t.Errorf("leakwatch.log.1 = %q", prev)
	}
	if string(cur) != "second record\nthird record\n" {
		t.Errorf("leakwatch.log = %q", cur)
	}
	// A record larger than the cap is written whole, into a file of its own.
	big := strings.Repeat("x", 50) + "\n"
	f.Write([]byte(big))
	cur, _ = os.ReadFile(path)
	prev, _ = os.ReadFile(path + ".1")
	if string(cur) != big || string(prev) != "second record\nthird record\n" {
		t.Errorf("after an oversized record: log %q, log.1 %q", cur, prev)
	}
	f.Close()
	if _, err := f.Write([]byte("late\n")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}

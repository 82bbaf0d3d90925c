package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/policy"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 6, 7, 2, 0, 0, 0, time.UTC)
	want := []Entry{
		{Time: t0, Event: EventDecision, Bridge: "wb1", Mode: "enforce", Decision: "restart", Reason: "none",
			Detail: "restart: proven leak 40 ≥ 20", Inputs: &policy.Inputs{LeakKnown: true, LeakBound: 40, Threshold: 20, LeakAt: t0.Add(-time.Minute), InWindow: true, Window: "Sat 02:00-04:00"}},
		{Time: t0.Add(time.Second), Event: EventRestartStarted, Bridge: "wb1"},
		{Time: t0.Add(3 * time.Second), Event: EventRestartFinished, Bridge: "wb1", Result: "ok", Output: "line1\nline2 \"quoted\"\x00"},
		{Time: t0.Add(4 * time.Second), Event: EventBreakerTripped, Bridge: "wb2", Reason: "restart_failed", Error: "ssh: handshake failed"},
	}
	for _, e := range want {
		if err := l.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTail(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadTail = %+v\nwant %+v", got, want)
	}
	// Every line is one JSON object.
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for _, ln := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(ln), &m); err != nil {
			t.Errorf("line %q: %v", ln, err)
		}
	}
	if err := l.Write(want[0]); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestConcurrentWritesStayWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := l.Write(Entry{Time: time.Unix(int64(i), 0).UTC(), Event: EventDecision, Bridge: fmt.Sprintf("wb%d", w), Detail: strings.Repeat("x", 500)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	f, _ := os.Open(path)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d torn: %v", n, err)
		}
		n++
	}
	if n != writers*each {
		t.Fatalf("%d lines, want %d", n, writers*each)
	}
}

func TestReadTail(t *testing.T) {
	dir := t.TempDir()
	if got, err := ReadTail(filepath.Join(dir, "missing.jsonl"), 5); err != nil || got != nil {
		t.Fatalf("missing file: %v, %v; want nothing, no error", got, err)
	}
	path := filepath.Join(dir, "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// More than one read chunk of entries, within TailMaxBytes.
	const total = 1200
	for i := range total {
		if err := l.Write(Entry{Time: time.Unix(int64(i), 0).UTC(), Event: EventDecision, Bridge: "wb1", Detail: fmt.Sprintf("entry %d %s", i, strings.Repeat("y", 80))}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	for _, n := range []int{1, 10, 900, total, total + 5} {
		got, err := ReadTail(path, n)
		if err != nil {
			t.Fatal(err)
		}
		wantLen := min(n, total)
		if len(got) != wantLen {
			t.Fatalf("ReadTail(%d) returned %d entries, want %d", n, len(got), wantLen)
		}
		for i, e := range got {
			if want := int64(total - wantLen + i); e.Time.Unix() != want {
				t.Fatalf("ReadTail(%d)[%d] is entry %d, want %d", n, i, e.Time.Unix(), want)
			}
		}
	}
	// A line torn by a crash at the end is skipped.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2025-01-01T00:00:00Z","event":"deci`)
	f.Close()
	got, err := ReadTail(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Time.Unix() != total-1 {
		t.Fatalf("after torn line: %+v", got)
	}
	// Reopening terminates the torn line, so the next entry is whole.
	l, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(Entry{Time: time.Unix(total, 0).UTC(), Event: EventDecision}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	got, _ = ReadTail(path, 1)
	if len(got) != 1 || got[0].Time.Unix() != total {
		t.Fatalf("entry after torn line lost: %+v", got)
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Write(Entry{Event: EventDecision, Bridge: "before"})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Write(Entry{Event: EventDecision, Bridge: "after"})
	got, _ := ReadTail(path, 10)
	if len(got) != 1 || got[0].Bridge != "after" {
		t.Fatalf("after reopen: %+v", got)
	}
}

// TestNoSecretFields walks the entry type: no field may be able to carry a
// credential. A new field named like one fails this test on purpose.
func TestNoSecretFields(t *testing.T) {
	bad := regexp.MustCompile(`(?i)pass|secret|token|credential|private|key|auth`)
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ == reflect.TypeFor[time.Time]() {
			return
		}
		seen[typ] = true
		for f := range typ.Fields() {
			name := path + "." + f.Name
			if bad.MatchString(f.Name) || bad.MatchString(f.Tag.Get("json")) {
				t.Errorf("audit entry field %s could carry a secret", name)
			}
			walk(f.Type, name)
		}
	}
	walk(reflect.TypeFor[Entry](), "Entry")
	if len(seen) < 2 {
		t.Fatal("walk did not reach policy.Inputs")
	}
}

// TestReadTailIsBounded: a log whose last line is huge and has no newline
// is read only up to TailMaxBytes, and gives what lies in that window.
func TestReadTailIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := l.Write(Entry{Time: time.Unix(int64(i), 0), Event: EventDecision, Bridge: "wb1"}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(bytes.Repeat([]byte("x"), 8*TailMaxBytes))
	f.Close()
	got, err := ReadTail(path, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("got %d entries from beyond the bound", len(got))
	}
}

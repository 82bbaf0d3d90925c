package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/audit"
)

// entryLine returns entry i as a JSON line.
func entryLine(t *testing.T, i int) []byte {
	t.Helper()
	b, err := json.Marshal(audit.Entry{Time: ago(0), Event: audit.EventDecision, Bridge: "wb1", Detail: fmt.Sprintf("n%04d", i)})
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func details(es []audit.Entry) string {
	var s []string
	for _, e := range es {
		s = append(s, e.Detail)
	}
	return strings.Join(s, " ")
}

func TestReadAuditTail(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, content []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var five bytes.Buffer
	for i := range 5 {
		five.Write(entryLine(t, i))
	}
	// A large log: 1 MiB of old entries then the 3 newest.
	var big bytes.Buffer
	for i := 0; big.Len() < 1<<20; i++ {
		big.Write(entryLine(t, 9000))
	}
	for i := range 3 {
		big.Write(entryLine(t, i))
	}

	tests := []struct {
		name     string
		path     string
		n        int
		maxBytes int64
		want     string
	}{
		{"missing file", filepath.Join(dir, "nope"), 20, 4096, ""},
		{"empty file", write("empty", nil), 20, 4096, ""},
		{"fewer than n, newest first", write("five", five.Bytes()), 20, 4096, "n0004 n0003 n0002 n0001 n0000"},
		{"last n", write("five2", five.Bytes()), 2, 4096, "n0004 n0003"},
		{"window cuts the first line", write("cut", five.Bytes()), 20, int64(len(entryLine(t, 0))*2 + 10), "n0004 n0003"},
		{"torn last line skipped", write("torn", append(five.Bytes(), []byte(`{"time":"2025-03-20T16:00`)...)), 20, 4096,
			"n0004 n0003 n0002 n0001 n0000"},
		{"garbage and blank lines skipped", write("junk", []byte("not json\n\n"+string(entryLine(t, 7))+"\n\n")), 20, 4096, "n0007"},
		{"large log, newest entries", write("big", big.Bytes()), 3, 4096, "n0002 n0001 n0000"},
		{"window inside one line", write("one", five.Bytes()), 20, 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAuditTail(tt.path, tt.n, tt.maxBytes)
			if err != nil {
				t.Fatalf("readAuditTail: %v", err)
			}
			if details(got) != tt.want {
				t.Errorf("got %q, want %q", details(got), tt.want)
			}
		})
	}
}

// TestReadAuditTailBounded: asked for more entries than the byte window
// holds, the reader returns only what the window holds, so a page view never
// reads more than maxBytes of a large log.
func TestReadAuditTailBounded(t *testing.T) {
	line := entryLine(t, 1)
	p := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(p, bytes.Repeat(line, 10000), 0o600); err != nil {
		t.Fatal(err)
	}
	const maxBytes = 4096
	got, err := readAuditTail(p, 1000, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	if limit := maxBytes / len(line); len(got) == 0 || len(got) > limit {
		t.Errorf("got %d entries from a %d-byte window of %d-byte lines, want 1..%d", len(got), maxBytes, len(line), limit)
	}
}

func TestReadAuditTailUnreadable(t *testing.T) {
	if _, err := readAuditTail(t.TempDir(), 20, 4096); err == nil {
		t.Error("reading a directory gave no error")
	}
}

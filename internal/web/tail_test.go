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
		name string
		path string
		n    int
		want string
	}{
		{"missing file", filepath.Join(dir, "nope"), 20, ""},
		{"empty file", write("empty", nil), 20, ""},
		{"fewer than n, newest first", write("five", five.Bytes()), 20, "n0004 n0003 n0002 n0001 n0000"},
		{"last n", write("five2", five.Bytes()), 2, "n0004 n0003"},
		{"torn last line skipped", write("torn", append(five.Bytes(), []byte(`{"time":"2025-03-20T16:00`)...)), 20,
			"n0004 n0003 n0002 n0001 n0000"},
		{"garbage and blank lines skipped", write("junk", []byte("not json\n\n"+string(entryLine(t, 7))+"\n\n")), 20, "n0007"},
		{"large log, newest entries", write("big", big.Bytes()), 3, "n0002 n0001 n0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAuditTail(tt.path, tt.n)
			if err != nil {
				t.Fatalf("readAuditTail: %v", err)
			}
			if details(got) != tt.want {
				t.Errorf("got %q, want %q", details(got), tt.want)
			}
		})
	}
}

func TestReadAuditTailUnreadable(t *testing.T) {
	if _, err := readAuditTail(t.TempDir(), 20); err == nil {
		t.Error("reading a directory gave no error")
	}
}

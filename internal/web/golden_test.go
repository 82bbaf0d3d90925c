package web

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestStatusPageGolden compares the whole page for the realistic State with
// testdata/status.golden.html, so any change to the page shows up in review.
// Run `go test ./internal/web -run Golden -update` after an intended change.
func TestStatusPageGolden(t *testing.T) {
	_, body := do(t, newTestHandler(t, realistic(), ""), "GET", "/")
	golden := filepath.Join("testdata", "status.golden.html")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if body == string(want) {
		return
	}
	gotLines, wantLines := strings.Split(body, "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gotLines), len(wantLines)) {
		g, w := line(gotLines, i), line(wantLines, i)
		if g != w {
			t.Fatalf("page differs from %s at line %d (run with -update if intended):\n got: %s\nwant: %s", golden, i+1, g, w)
		}
	}
}

func line(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end of page)"
}

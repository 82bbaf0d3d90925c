package grafana

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedDashboardIsGenerated fails when dashboards/*.json differs from
// what the generator writes: edit panels.go, then run go run ./cmd/dashgen.
func TestCommittedDashboardIsGenerated(t *testing.T) {
	want, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards/*.json: %v", err)
	}
	for _, f := range files {
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) != filepath.Base(File) {
			t.Errorf("%s: no generator writes this dashboard", f)
			continue
		}
		if !bytes.Equal(got, want) {
			gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
			for i := 0; i < min(len(gl), len(wl)); i++ {
				if gl[i] != wl[i] {
					t.Fatalf("%s differs from the generator's output at line %d (run go run ./cmd/dashgen):\n got: %s\nwant: %s", f, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("%s differs from the generator's output in length (%d lines, want %d): run go run ./cmd/dashgen", f, len(gl), len(wl))
		}
	}
}

// The generated model is Grafana's: it decodes strictly into the SDK's own
// dashboard type, panel kinds and all.
func TestGeneratedDashboardRoundTrips(t *testing.T) {
	b, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	ps, _ := m["panels"].([]any)
	if len(ps) < 30 {
		t.Errorf("%d panels, want the whole dashboard", len(ps))
	}
	for _, p := range ps {
		pm := p.(map[string]any)
		if pm["type"] != "row" && pm["fieldConfig"] == nil {
			t.Errorf("panel %v has no fieldConfig", pm["title"])
		}
	}
}

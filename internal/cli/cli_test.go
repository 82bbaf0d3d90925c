package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// run runs leakwatch with args in process and returns its exit status,
// stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runIn(t, "", args...)
}

// runIn is run with stdin reading from stdin.
func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended):\n%s", path, got)
	}
}

// TestReplayJSONGolden covers a combined server (cms1 is a Web Bridge and a
// Call Bridge), a stale Web Bridge (cms3 stops at 10:01), look-alike lines
// and malformed stats lines.
func TestReplayJSONGolden(t *testing.T) {
	code, out, errOut := run(t, "replay", "--format", "json", "--reference-time", "2026-03-19T00:00:00Z", "testdata/cluster.log")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "cluster.json", out)
	var rep struct {
		Leak struct {
			Estimate *int64 `json:"estimate"`
			Valid    bool   `json:"valid"`
		} `json:"leak"`
		Lines map[string]uint64 `json:"lines"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Leak.Valid || rep.Leak.Estimate != nil {
		t.Errorf("stale cms3 must make the estimate null: %+v", rep.Leak)
	}
	if rep.Lines["malformed"] != 2 || rep.Lines["read"] != 32 {
		t.Errorf("lines = %v", rep.Lines)
	}
}

func TestReplayTableAndWhatIf(t *testing.T) {
	code, out, errOut := run(t, "replay", "--config", "testdata/whatif.yaml", "--reference-time", "2026-03-19T00:00:00Z", "testdata/cluster.log")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "cluster-whatif.txt", out)
	if !strings.Contains(out, "RESTART cms1") {
		t.Errorf("the what-if should restart cms1 (proven leak >= 30 for 5m inside the window):\n%s", out)
	}
	code, out, _ = run(t, "replay", "--format", "csv", "--reference-time", "2026-03-19T00:00:00Z", "testdata/cluster.log")
	if code != 0 || !strings.HasPrefix(out, "time,cms1_sessions,cms1_leak_lower_bound,cms3_sessions") {
		t.Errorf("csv: exit %d\n%s", code, out)
	}
}

func TestReplayUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"replay"},
		{"replay", "--format", "xml", "x.log"},
		{"replay", "--reference-time", "yesterday", "x.log"},
		{"nosuchcommand"},
	} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	code, _, errOut := run(t, "replay", "testdata/does-not-exist.log")
	if code != 1 || !strings.Contains(errOut, "does-not-exist.log") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
}

func TestCheckPrintsInventory(t *testing.T) {
	code, out, errOut := run(t, "check", "--config", "../config/testdata/good-inventory.yml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"wb-cms1  cms1", "admin@cms1.example.com:22", "callbridge  cb-cms1", "mode enforce"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut = run(t, "check", "--config", "../config/testdata/bad-mode.yml")
	if code != 1 || !strings.Contains(errOut, "bad-mode.yml:2: policy.mode") {
		t.Errorf("bad config: exit %d, %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "leakwatch ") {
		t.Errorf("version: %d %q", code, out)
	}
}

// TestReplayGoesOnAfterADamagedFile: a truncated gzip is reported, exit 1,
// and the files after it are still replayed.
func TestReplayGoesOnAfterADamagedFile(t *testing.T) {
	plain, err := os.ReadFile("testdata/cluster.log")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat(plain, 50))
	zw.Close()
	damaged := filepath.Join(t.TempDir(), "old.log.gz")
	if err := os.WriteFile(damaged, gz.Bytes()[:gz.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "replay", "--format", "json", "--reference-time", "2026-03-19T00:00:00Z", damaged, "testdata/cluster.log")
	if code != 1 || !strings.Contains(errOut, "old.log.gz") || !strings.Contains(errOut, "truncated") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var rep struct {
		WebBridges map[string]struct {
			Sessions int64 `json:"sessions"`
		} `json:"webbridges"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.WebBridges["cms1"].Sessions != 46 {
		t.Errorf("the file after the damaged one was not replayed: %s", out)
	}
}

// TestDemoStopsCleanlyAfterDuration: --duration ends the demo with exit 0,
// and it says which clock its page and its log lines show.
func TestDemoStopsCleanlyAfterDuration(t *testing.T) {
	code, out, errOut := run(t, "demo", "--duration", "3s", "--speed", "600", "--web.listen-address", "127.0.0.1:0", "--log.level", "info")
	if code != 0 || !strings.Contains(out, "demo stopped") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "simulated time") || !strings.Contains(out, "sim_time=") {
		t.Errorf("the demo does not say which clock is which:\n%s", out)
	}
	for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
		if !strings.Contains(l, " sim_time=") {
			t.Errorf("log line without the simulated time: %s", l)
		}
	}
}

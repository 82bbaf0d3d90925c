package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"500MB", 500e6, false},
		{"300M", 300e6, false},
		{"1GiB", 1 << 30, false},
		{"1.5kb", 1500, false},
		{"123456", 123456, false},
		{" 2 MiB ", 2 << 20, false},
		{"10XB", 0, true},
		{"MB", 0, true},
		{"-5MB", 0, true},
		{"0", 0, true},
		{"99999999GB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseFlagsErrors(t *testing.T) {
	tests := map[string][]string{
		"no out":         {"-size", "1MB"},
		"bad size":       {"-out", "x", "-size", "lots"},
		"bad start":      {"-out", "x", "-start", "yesterday"},
		"bad restart-at": {"-out", "x", "-restart-at", "25:99"},
		"negative noise": {"-out", "x", "-noise", "-3"},
		"stray argument": {"-out", "x", "extra"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := parseFlags(args); err == nil {
				t.Errorf("parseFlags(%q) succeeded, want an error", args)
			}
		})
	}
}

func generate(t *testing.T, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cms.log")
	o, err := parseFlags(append([]string{"-out", out}, args...))
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), o, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("run: %v", err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if o.gzip {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

func TestRunDeterministicAndSized(t *testing.T) {
	a := generate(t, "-size", "2MB", "-seed", "3")
	b := generate(t, "-size", "2MB", "-seed", "3", "-gzip")
	c := generate(t, "-size", "2MB", "-seed", "4")
	if !bytes.Equal(a, b) {
		t.Error("same seed gave different bytes (plain vs gzip)")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same bytes")
	}
	if len(a) < 2e6 || len(a) > 2e6+1000 || a[len(a)-1] != '\n' {
		t.Errorf("wrote %d bytes, want just over 2e6 ending in a newline", len(a))
	}
	// Every host of the busy cluster reports: 4 Web Bridges and 4 Call Bridges.
	wb := regexp.MustCompile(`(?m) (cms\d) "?webbridge"?: +INFO +: \[DEBUG(?:GING)?\] Stats \d+, c:\d+, d:\d+$`)
	cb := regexp.MustCompile(`(?m) (cms\d) host:server: +INFO +: STATS: \{`)
	for _, tt := range []struct {
		re   *regexp.Regexp
		want int
	}{{wb, 4}, {cb, 4}} {
		hosts := map[string]bool{}
		for _, m := range tt.re.FindAllSubmatch(a, -1) {
			hosts[string(m[1])] = true
		}
		if len(hosts) != tt.want {
			t.Errorf("%v: hosts %v, want %d", tt.re, hosts, tt.want)
		}
	}
}

func TestRestartAtRestartsDaily(t *testing.T) {
	data := generate(t, "-size", "40MB", "-noise", "0", "-restart-at", "03:00", "-start", "2026-03-02T00:00:00Z")
	n := bytes.Count(data, []byte("issued command < webbridge restart>"))
	// With no noise, 40 MB is many days; each day restarts all 4 bridges.
	if n < 8 || n%4 != 0 {
		t.Errorf("%d webbridge restarts, want a multiple of 4 over several days", n)
	}
}

func TestOutputMtimeIsSimulatedEnd(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cms.log")
	o, err := parseFlags([]string{"-out", out, "-size", "1MB", "-start", "2026-12-31T20:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), o, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC)
	if !fi.ModTime().After(start) || fi.ModTime().After(start.Add(24*time.Hour)) {
		t.Errorf("mtime %v, want shortly after the simulated start %v", fi.ModTime(), start)
	}
}

// -duration stops on simulated time, -leak sets the rates and -limit lets
// the counts pass 149.
func TestDurationLeakAndLimit(t *testing.T) {
	out := generate(t, "-duration", "6h", "-noise", "0", "-leak", "cms1=0,cms2=0,cms3=0,cms4=60", "-limit", "100000")
	re := regexp.MustCompile(`(?m) cms4 "?webbridge"?: +INFO +: \[DEBUG(?:GING)?\] Stats (\d+),`)
	ms := re.FindAllSubmatch(out, -1)
	if n := len(ms); n < 6*60-5 || n > 6*60+5 {
		t.Errorf("%d cms4 Stats lines, want about 360 (one a minute for 6h)", n)
	}
	// 60 sessions an hour for 6 hours, never capped at 149.
	if last, _ := strconv.Atoi(string(ms[len(ms)-1][1])); last < 250 {
		t.Errorf("cms4 ends at %d sessions, want well past 149", last)
	}
	for _, bad := range []string{"cms1", "cms1=-1", "=3", "cms1=x"} {
		if _, err := parseFlags([]string{"-out", "x", "-leak", bad}); err == nil || !strings.Contains(err.Error(), "-leak") {
			t.Errorf("-leak %q: %v, want an error naming -leak", bad, err)
		}
	}
}

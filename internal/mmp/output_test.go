package mmp

import (
	"strings"
	"testing"
)

func TestOutputBuffer(t *testing.T) {
	tests := []struct {
		name          string
		max           int
		writes        []string
		wantOut       string
		wantTruncated bool
		wantFailure   bool
	}{
		{name: "fits", max: 64, writes: []string{"Restarting\n", "SUCCESS\n"}, wantOut: "Restarting\nSUCCESS\n"},
		{name: "capped", max: 8, writes: []string{"0123456", "789"}, wantOut: "01234567", wantTruncated: true},
		{name: "write after cap", max: 4, writes: []string{"0123", "4"}, wantOut: "0123", wantTruncated: true},
		{name: "FAILURE in one write", max: 64, writes: []string{"FAILURE: no\n"}, wantOut: "FAILURE: no\n", wantFailure: true},
		{name: "FAILURE split across writes", max: 64, writes: []string{"FAI", "LU", "RE: x"}, wantOut: "FAILURE: x", wantFailure: true},
		{name: "FAILURE beyond the cap", max: 4, writes: []string{"okay", strings.Repeat(".", 100), "FAIL", "URE"}, wantOut: "okay", wantTruncated: true, wantFailure: true},
		{name: "lower case is not the marker", max: 64, writes: []string{"no failure here"}, wantOut: "no failure here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newOutputBuffer(tt.max)
			for _, w := range tt.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			out, truncated, failure := b.snapshot()
			if out != tt.wantOut || truncated != tt.wantTruncated || failure != tt.wantFailure {
				t.Errorf("snapshot = %q, %v, %v; want %q, %v, %v", out, truncated, failure, tt.wantOut, tt.wantTruncated, tt.wantFailure)
			}
		})
	}
}

func TestFailureLine(t *testing.T) {
	long := "FAILURE: " + strings.Repeat("x", 300)
	tests := []struct{ in, want string }{
		{"Restarting\n  FAILURE: webbridge not configured  \nmore\n", "FAILURE: webbridge not configured"},
		{"no marker", ""},
		{long, long[:200] + "..."},
	}
	for _, tt := range tests {
		if got := failureLine(tt.in); got != tt.want {
			t.Errorf("failureLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzOutputBuffer(f *testing.F) {
	f.Add("FAILURE", 3, 4)
	f.Add("xxFAILUREyy", 1, 16)
	f.Fuzz(func(t *testing.T, s string, split, max int) {
		if max < 0 || max > 1<<16 || split < 0 {
			return
		}
		b := newOutputBuffer(max)
		// Write s in chunks of size split+1 and compare with one write.
		for rest := s; rest != ""; {
			n := min(split+1, len(rest))
			b.Write([]byte(rest[:n]))
			rest = rest[n:]
		}
		out, truncated, failure := b.snapshot()
		if failure != strings.Contains(s, failureMarker) {
			t.Errorf("failure = %v for %q", failure, s)
		}
		if want := s[:min(max, len(s))]; out != want || truncated != (len(s) > max) {
			t.Errorf("out = %q truncated = %v, want %q", out, truncated, want)
		}
	})
}

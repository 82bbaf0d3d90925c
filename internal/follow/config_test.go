package follow

import (
	"strings"
	"testing"
	"time"
)

// TestNewRejectsBadConfig checks that each invalid key is named in the error.
func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantKey string
	}{
		{"no pattern", Config{}, "patterns"},
		{"bad pattern", Config{Patterns: []string{"/var/log/[.log"}}, "patterns"},
		{"bad start_at", Config{Patterns: []string{"/x"}, StartAt: "middle"}, "start_at"},
		{"negative poll", Config{Patterns: []string{"/x"}, PollInterval: -time.Second}, "poll_interval"},
		{"negative save", Config{Patterns: []string{"/x"}, SaveInterval: -time.Second}, "save_interval"},
		{"negative rotate wait", Config{Patterns: []string{"/x"}, RotateWait: -time.Second}, "rotate_wait"},
		{"negative max line", Config{Patterns: []string{"/x"}, MaxLineBytes: -1}, "max_line_bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantKey) {
				t.Errorf("New error = %v, want one naming %q", err, tc.wantKey)
			}
		})
	}
}

// TestNewDefaults checks the defaults and that patterns are made absolute.
func TestNewDefaults(t *testing.T) {
	f, err := New(Config{Patterns: []string{"rel/*.log"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := f.cfg
	if c.StartAt != StartBeginning || c.PollInterval != DefaultPollInterval || c.SaveInterval != DefaultSaveInterval ||
		c.RotateWait != DefaultRotateWait || c.MaxLineBytes != DefaultMaxLineBytes {
		t.Errorf("defaults not applied: %+v", c)
	}
	if !strings.HasPrefix(c.Patterns[0], "/") || !strings.HasSuffix(c.Patterns[0], "/rel/*.log") {
		t.Errorf("pattern %q not made absolute", c.Patterns[0])
	}
}

package p

import (
	"os"
	"testing"
)

// TestFailsOnce fails the first time it runs with a given FLAKY_MARK.
func TestFailsOnce(t *testing.T) {
	mark := os.Getenv("FLAKY_MARK")
	if _, err := os.Stat(mark); err != nil {
		os.WriteFile(mark, nil, 0o600)
		t.Fatal("first run fails")
	}
}

func TestAlwaysFails(t *testing.T) {
	if os.Getenv("FLAKY_ALWAYS") != "" {
		t.Fatal("always fails")
	}
}

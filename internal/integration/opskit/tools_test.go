package opskit

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// repoRoot is the repository root.
func repoRoot(t *testing.T) string { return harness.RepoRoot(t) }

// repoPath is a path under the repository root.
func repoPath(t *testing.T, rel ...string) string {
	t.Helper()
	return filepath.Join(append([]string{repoRoot(t)}, rel...)...)
}

// optionalTool returns the path of a program that is nice to have: its
// test is skipped when it is missing, even in CI.
func optionalTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (optional): %v", name, err)
	}
	return path
}

// run runs a program in dir with a deadline and returns its combined
// output and exit error.
func run(t *testing.T, dir, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// mustRun is run that fails the test when the program fails.
func mustRun(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	out, err := run(t, dir, bin, args...)
	if err != nil {
		t.Fatalf("%s %v in %s: %v\n%s", filepath.Base(bin), args, dir, err, out)
	}
	return out
}

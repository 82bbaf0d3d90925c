package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportsSkipsAndCounts runs the tool on a small module whose tests
// pass, fail and skip, and checks what a newcomer reads at the end.
func TestReportsSkipsAndCounts(t *testing.T) {
	t.Chdir(filepath.Join("testdata", "mod"))
	var out, errOut bytes.Buffer
	status := run([]string{"-count=1", "./..."}, &out, &errOut)
	got := out.String()
	if status == 0 {
		t.Errorf("exit status 0 with a failing test:\n%s", got)
	}
	for _, want := range []string{
		"the leak was not proven",                    // a failure's output is shown
		"FAIL\texample.com/mod/p",                    // and its package
		"sshd is not installed (CI would fail here)", // each skip's reason
		"p.TestSkipsForWantOfSshd",
		"prometheus is not installed",
		"p.TestSub/b",
		"\n3 passed, 1 failed, 2 skipped\n", // TestPasses, TestSub, TestSub/a
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s\nstderr:\n%s", want, got, errOut.String())
		}
	}
	if strings.HasSuffix(got, "skipped\n") == false {
		t.Errorf("the count is not the last line:\n%s", got)
	}
}

func TestSplitArgs(t *testing.T) {
	flags, pkgs := splitArgs([]string{"-count", "1", "-run=X", "./a/...", "-v", "./b"})
	if strings.Join(flags, " ") != "-count 1 -run=X -v" || strings.Join(pkgs, " ") != "./a/... ./b" {
		t.Errorf("flags %q, packages %q", flags, pkgs)
	}
}

// TestRerunFails: a test that fails once then passes is named as flaky and
// does not fail the run; one that keeps failing still does.
func TestRerunFails(t *testing.T) {
	t.Chdir(filepath.Join("testdata", "flaky"))
	t.Setenv("FLAKY_MARK", filepath.Join(t.TempDir(), "mark"))
	var out, errOut bytes.Buffer
	if status := run([]string{"-rerun-fails", "2", "-count=1", "./..."}, &out, &errOut); status != 0 {
		t.Errorf("exit status %d, want 0 for a test that passes when run again:\n%s\n%s", status, out.String(), errOut.String())
	}
	for _, want := range []string{"Flaky:", "p.TestFailsOnce", "\n2 passed, 0 failed, 0 skipped\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	t.Setenv("FLAKY_ALWAYS", "1")
	t.Setenv("FLAKY_MARK", filepath.Join(t.TempDir(), "mark"))
	out.Reset()
	if status := run([]string{"-rerun-fails=1", "-count=1", "./..."}, &out, &errOut); status == 0 {
		t.Errorf("exit status 0 with a test that always fails:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "\n1 passed, 1 failed, 0 skipped\n") {
		t.Errorf("counts wrong:\n%s", out.String())
	}
}

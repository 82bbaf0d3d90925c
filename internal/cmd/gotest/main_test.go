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

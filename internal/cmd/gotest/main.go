// Command gotest runs `go test` and ends with what plain `go test ./...`
// hides: every test that skipped, with its reason, and one count of the
// passed, failed and skipped tests. A newcomer without sshd or Prometheus
// then sees what was not proven, instead of a column of "ok".
//
// Usage:
//
//	go run ./internal/cmd/gotest [-race] [go test flags] [packages]
//
// -race runs the unit packages under the race detector and the packages
// under internal/integration without it: those start real components, are
// timing-sensitive, and the detector would only slow what they start.
// -rerun-fails N runs each failed test again, up to N times; one that then
// passes is listed as flaky, by name, and does not fail the run.
// Every other flag goes to go test unchanged. The exit status is go test's.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output events
	Test       string
	Output     string
	Elapsed    float64
}

// summary collects what the events said.
type summary struct {
	// outcome is each test's last result ("pass", "fail"), by package
	// and name; reruns overwrite it. firstFailed keeps what failed first.
	outcome     map[string]string
	firstFailed map[string]bool
	skipped     []skip
	// output holds each running test's lines until it ends: shown if it
	// fails, mined for the reason if it skips.
	output     map[string][]string
	failedPkgs map[string]bool
}

type skip struct{ pkg, test, reason string }

func run(args []string, stdout, stderr io.Writer) int {
	race := false
	reruns := 0
	var pass []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-race" || a == "--race":
			race = true
			continue
		case a == "-rerun-fails" && i+1 < len(args):
			i++
			a = "-rerun-fails=" + args[i]
			fallthrough
		case strings.HasPrefix(a, "-rerun-fails="):
			n, err := strconv.Atoi(strings.TrimPrefix(a, "-rerun-fails="))
			if err != nil || n < 0 {
				fmt.Fprintf(stderr, "gotest: -rerun-fails wants a whole number, got %q\n", a)
				return 2
			}
			reruns = n
			continue
		}
		pass = append(pass, a)
	}
	flags, pkgs := splitArgs(pass)
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	s := &summary{output: map[string][]string{}, failedPkgs: map[string]bool{},
		outcome: map[string]string{}, firstFailed: map[string]bool{}}
	status := 0
	if race {
		unit, integration, err := splitPackages(pkgs)
		if err != nil {
			fmt.Fprintln(stderr, "gotest:", err)
			return 2
		}
		if len(unit) > 0 {
			status = max(status, goTest(append(append([]string{"-race"}, flags...), unit...), s, stdout, stderr))
		}
		if len(integration) > 0 {
			status = max(status, goTest(append(flags, integration...), s, stdout, stderr))
		}
	} else {
		status = goTest(append(flags, pkgs...), s, stdout, stderr)
	}
	for range reruns {
		failing := s.failingTests()
		if len(failing) == 0 || len(s.failedPkgs) > len(failing) {
			break // nothing to rerun, or a package failed outside its tests
		}
		fmt.Fprintf(stdout, "\n== rerunning the failed tests of %d package(s)\n", len(failing))
		status = 0
		for pkg, tests := range failing {
			args := append([]string{}, flags...)
			if race && !strings.Contains(pkg, "/internal/integration/") {
				args = append(args, "-race")
			}
			args = append(args, "-count=1", "-run", "^("+strings.Join(tests, "|")+")$", pkg)
			delete(s.failedPkgs, pkg)
			status = max(status, goTest(args, s, stdout, stderr))
		}
	}
	if _, failed := s.report(stdout); status == 0 && failed > 0 {
		status = 1
	}
	return status
}

// failingTests returns, by package, the top-level tests that failed last.
func (s *summary) failingTests() map[string][]string {
	out := map[string][]string{}
	seen := map[string]bool{}
	for key, o := range s.outcome {
		if o != "fail" {
			continue
		}
		pkg, test, _ := strings.Cut(key, " ")
		top, _, _ := strings.Cut(test, "/")
		if !seen[pkg+" "+top] {
			seen[pkg+" "+top] = true
			out[pkg] = append(out[pkg], regexp.QuoteMeta(top))
		}
	}
	return out
}

// splitArgs tells go test flags from package patterns. A flag's value is
// given with '=' (-run=X) or, for the flags that take one, as the next word.
func splitArgs(args []string) (flags, pkgs []string) {
	takesValue := map[string]bool{"-run": true, "-skip": true, "-count": true, "-timeout": true, "-bench": true,
		"-benchtime": true, "-cpu": true, "-parallel": true, "-tags": true, "-p": true, "-fuzz": true, "-fuzztime": true,
		"-coverprofile": true, "-shuffle": true}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			pkgs = append(pkgs, a)
			continue
		}
		flags = append(flags, a)
		if takesValue[strings.Replace(a, "--", "-", 1)] && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, pkgs
}

// splitPackages lists pkgs and parts them into unit and integration
// packages.
func splitPackages(pkgs []string) (unit, integration []string, err error) {
	out, err := exec.Command("go", append([]string{"list"}, pkgs...)...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, nil, fmt.Errorf("go list %s: %v\n%s", strings.Join(pkgs, " "), err, ee.Stderr)
		}
		return nil, nil, fmt.Errorf("go list: %w", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "/internal/integration/") {
			integration = append(integration, p)
		} else {
			unit = append(unit, p)
		}
	}
	return unit, integration, nil
}

// goTest runs go test -json with args and feeds its events to s. It
// returns go test's exit status.
func goTest(args []string, s *summary, stdout, stderr io.Writer) int {
	cmd := exec.Command("go", append([]string{"test", "-json"}, args...)...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(stderr, "gotest:", err)
		return 2
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, "gotest:", err)
		return 2
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// Not an event (a vet or build message): show it as it is.
			fmt.Fprintln(stdout, sc.Text())
			continue
		}
		s.apply(e, stdout)
	}
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(stderr, "gotest:", err)
		return 2
	}
	return 0
}

// apply takes one event, printing what go test itself would print without
// -json: a line per package, and the output of what failed.
func (s *summary) apply(e event, w io.Writer) {
	key := e.Package + " " + e.Test
	switch e.Action {
	case "build-output":
		fmt.Fprint(w, e.Output)
	case "output":
		// Kept until the test (or, for package-level output such as a
		// panic outside any test, the package) ends.
		s.output[key] = append(s.output[key], e.Output)
	case "pass":
		if e.Test == "" {
			fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
		} else {
			s.outcome[key] = "pass"
		}
		delete(s.output, key)
	case "skip":
		if e.Test == "" {
			fmt.Fprintf(w, "?   \t%s\t[no test files]\n", e.Package)
		} else {
			s.skipped = append(s.skipped, skip{e.Package, e.Test, reason(s.output[key])})
		}
		delete(s.output, key)
	case "fail":
		if e.Test != "" {
			if _, ran := s.outcome[key]; !ran {
				s.firstFailed[key] = true
			}
			s.outcome[key] = "fail"
			for _, l := range s.output[key] {
				fmt.Fprint(w, l)
			}
		} else {
			for _, l := range s.output[key] {
				if !strings.HasPrefix(l, "FAIL") && !strings.HasPrefix(l, "ok") {
					fmt.Fprint(w, l)
				}
			}
			fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
			s.failedPkgs[e.Package] = true
		}
		delete(s.output, key)
	}
}

// reason is what a skipped test said, without the RUN and SKIP lines.
func reason(lines []string) string {
	var parts []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		parts = append(parts, t)
	}
	r := strings.Join(parts, "; ")
	if len(r) > 300 {
		r = r[:300] + "…"
	}
	if r == "" {
		return "(no reason given)"
	}
	return r
}

// report prints the skipped tests, grouped by reason so that one missing
// program is one line, the tests that failed and then passed when run
// again, then the count. It returns the numbers of passed and failed tests.
func (s *summary) report(w io.Writer) (passed, failed int) {
	var flaky []string
	for key, o := range s.outcome {
		switch o {
		case "pass":
			passed++
			if s.firstFailed[key] {
				pkg, test, _ := strings.Cut(key, " ")
				flaky = append(flaky, shortPkg(pkg)+"."+test)
			}
		case "fail":
			failed++
		}
	}
	if len(s.skipped) > 0 {
		fmt.Fprintf(w, "\nSkipped tests (not proven on this machine):\n")
		byReason := map[string][]string{}
		for _, k := range s.skipped {
			byReason[k.reason] = append(byReason[k.reason], shortPkg(k.pkg)+"."+k.test)
		}
		reasons := make([]string, 0, len(byReason))
		for r := range byReason {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		for _, r := range reasons {
			tests := byReason[r]
			sort.Strings(tests)
			shown := tests
			if len(shown) > 4 {
				shown = append(shown[:4:4], fmt.Sprintf("and %d more", len(tests)-4))
			}
			fmt.Fprintf(w, "  %s\n      %s\n", r, strings.Join(shown, ", "))
		}
	}
	if len(s.failedPkgs) > 0 {
		pkgs := make([]string, 0, len(s.failedPkgs))
		for p := range s.failedPkgs {
			pkgs = append(pkgs, p)
		}
		sort.Strings(pkgs)
		fmt.Fprintf(w, "\nFailed packages: %s\n", strings.Join(pkgs, " "))
	}
	if len(flaky) > 0 {
		sort.Strings(flaky)
		fmt.Fprintf(w, "\nFlaky: failed, then passed when run again (a defect to find, not a pass):\n  %s\n", strings.Join(flaky, "\n  "))
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d skipped\n", passed, failed, len(s.skipped))
	return passed, failed
}

// shortPkg drops the module path.
func shortPkg(p string) string {
	return strings.TrimPrefix(p, "github.com/leakwatch/leakwatch/")
}

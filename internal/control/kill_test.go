package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary a `leakwatch restart --force` stand-in:
// it asks for a restart in the state directory it names and waits.
const helperEnv = "LEAKWATCH_CONTROL_TEST_ASK"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		_, err := Ask(context.Background(), dir, Request{Kind: KindRestart, Bridge: "wb1", Force: true}, time.Hour, nil)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// startAsker runs the stand-in and waits until its request is in place.
func startAsker(t *testing.T, dir string) (*exec.Cmd, *strings.Builder, Request) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, stderr, waitRequest(t, dir)
}

// TestSignalWithdrawsRequest sends the signals that end a waiting command
// (Ctrl-C, a service manager's SIGTERM, a closed terminal's SIGHUP) to a
// real process between submit and answer: each leaves no request behind.
func TestSignalWithdrawsRequest(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd, stderr, _ := startAsker(t, dir)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 3 {
				t.Fatalf("the asker ended with %v, want exit 3 after Ask returned; stderr:\n%s", err, stderr)
			}
			if !strings.Contains(stderr.String(), "withdrawn") {
				t.Errorf("the asker said %q, want its request withdrawn", stderr)
			}
			if reqs := Pending(dir, discard); len(reqs) != 0 {
				t.Errorf("after %s the daemon finds %+v", sig, reqs)
			}
			assertEmpty(t, dir)
		})
	}
}

// TestKilledAskerRequestRefusedAfterDeadline kills a real asker between
// submit and answer (SIGKILL: it cannot clean up). Its request stays on
// disk; a daemon reading it before the deadline cannot tell it from a slow
// command's and may carry it out, but one reading it after the deadline,
// when nobody waits for the answer, must refuse it.
func TestKilledAskerRequestRefusedAfterDeadline(t *testing.T) {
	dir := t.TempDir()
	cmd, _, req := startAsker(t, dir)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if len(requestFiles(t, dir)) != 1 {
		t.Fatal("a killed asker's request vanished; this test needs it on disk")
	}
	if req.PID != cmd.Process.Pid || !req.Force {
		t.Errorf("request %+v, want the asker's PID %d and force", req, cmd.Process.Pid)
	}
	reqs := Pending(dir, discard)
	if len(reqs) != 1 || reqs[0].ID != req.ID {
		t.Fatalf("the daemon claimed %+v, want the killed asker's request", reqs)
	}
	const maxAge = time.Hour
	if err := reqs[0].Stale(req.Time.Add(time.Minute), maxAge); err != nil {
		t.Errorf("before its deadline the request is refused: %v", err)
	}
	err := reqs[0].Stale(req.Deadline.Add(time.Second), maxAge)
	if err == nil || !strings.Contains(err.Error(), "nobody waits for its answer") {
		t.Errorf("after its deadline Stale = %v, want a refusal", err)
	}
	if err := reqs[0].Stale(time.Now(), time.Minute); err == nil {
		t.Error("a request asking for an hour passed a daemon that allows a minute")
	}
}

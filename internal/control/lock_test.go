package control

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestAcquireRefusesASecondHolder(t *testing.T) {
	dir := t.TempDir()
	first, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A second open of the same file is a second holder, as another
	// process would be: both flock and LockFileEx refuse it.
	if _, err := Acquire(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: err = %v, want ErrLocked", err)
	}
	first.Release()
	second, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	second.Release()
	second.Release() // a second Release is harmless
}

func TestAcquireNamesAMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := Acquire(dir)
	if err == nil || errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want an open error", err)
	}
	if want := filepath.Join(dir, LockFile); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
}

// TestLockHeldByAnotherProcess runs this test binary again as the holder:
// the case that matters is `leakwatch restart` beside a running daemon.
func TestLockHeldByAnotherProcess(t *testing.T) {
	if dir := os.Getenv("LEAKWATCH_TEST_HOLD_LOCK"); dir != "" {
		l, err := Acquire(dir)
		if err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("held\n")
		// Hold until the parent closes our stdin, then exit without
		// Release: the operating system must drop the lock.
		buf := make([]byte, 1)
		os.Stdin.Read(buf)
		_ = l
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHeldByAnotherProcess$")
	cmd.Env = append(os.Environ(), "LEAKWATCH_TEST_HOLD_LOCK="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "held\n" {
		stdin.Close()
		cmd.Wait()
		t.Fatalf("holder did not take the lock: %q, %v", buf, err)
	}
	if _, err := Acquire(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("while another process holds it: err = %v, want ErrLocked", err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("holder: %v", err)
	}
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("after the holder exited without releasing: %v", err)
	}
	l.Release()
}

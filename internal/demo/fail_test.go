package demo

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// emptyTempDir points os.TempDir at a fresh folder and returns a function
// that fails the test if anything is left in it.
func emptyTempDir(t *testing.T) func() {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return func() {
		t.Helper()
		entries, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			t.Errorf("left behind in the temporary folder: %s", e.Name())
		}
	}
}

// TestNewOnBusyPortFailsCleanly: a port in use is an error naming the
// address and the flag, not a panic, and leaves no folder (with the fake
// MMP password) behind.
func TestNewOnBusyPortFailsCleanly(t *testing.T) {
	check := emptyTempDir(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	d, err := New(Options{ListenAddress: addr})
	if d != nil {
		t.Errorf("New returned a demo with its error: %+v", d)
	}
	var le *ListenError
	if !errors.As(err, &le) || le.Address != addr {
		t.Fatalf("New = %v, want a ListenError for %s", err, addr)
	}
	for _, want := range []string{addr, "--web.listen-address", "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	check()
}

func TestCloseRemovesTempFolder(t *testing.T) {
	check := emptyTempDir(t)
	d, err := New(Options{ListenAddress: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.Config.SSH.PasswordFile); err != nil {
		t.Fatalf("the demo's password file: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Error(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	var nilDemo *Demo
	if err := nilDemo.Close(); err != nil {
		t.Errorf("Close of a nil demo: %v", err)
	}
	check()
}

func TestSpeed(t *testing.T) {
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if d, err := New(Options{Speed: bad, ListenAddress: "127.0.0.1:0", Dir: t.TempDir()}); err == nil {
			d.Close()
			t.Errorf("speed %v accepted", bad)
		}
	}
	d, err := New(Options{ListenAddress: "127.0.0.1:0", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Speed() != 60 {
		t.Errorf("default speed %v, want 60", d.Speed())
	}
}

// TestNowWhileSimulating reads the simulated clock, as the daemon's
// goroutines do, while Simulate starts it. `go test -race` failed here
// when Simulate set the start time unguarded.
func TestNowWhileSimulating(t *testing.T) {
	d, err := New(Options{Speed: 600, ListenAddress: "127.0.0.1:0", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	start := d.Now()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.Simulate(ctx) })
	deadline := time.Now().Add(5 * time.Second)
	for !d.Now().After(start) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	if !d.Now().After(start) {
		t.Error("the simulated clock did not move once Simulate ran")
	}
}

// TestLogHandlerAddsSimTime: log lines carry both clocks, named.
func TestLogHandlerAddsSimTime(t *testing.T) {
	d, err := New(Options{ListenAddress: "127.0.0.1:0", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var buf bytes.Buffer
	l := slog.New(d.LogHandler(slog.NewTextHandler(&buf, nil))).With("component", "x")
	l.Info("hello")
	line := buf.String()
	wall := time.Now().UTC().Format("2006-01-02")
	sim := "sim_time=" + d.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
	if !strings.Contains(line, "time="+wall) || !strings.Contains(line, sim) || !strings.Contains(line, "component=x") {
		t.Errorf("log line %q lacks the wall time, %s or its attributes", line, sim)
	}
}

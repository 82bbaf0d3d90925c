package follow

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// benchLine is a Web Bridge stats line of typical length.
const benchLine = "Feb 23 09:02:21.594 user.info cms01 webbridge: INFO : [DEBUGGING] Stats 149, c:3477, d:3170 seq=%09d\n"

// runBench runs a follower on path with handle until the returned stop is called.
func runBench(b *testing.B, path string, handle func(Line)) (stop func()) {
	b.Helper()
	f, err := New(Config{Patterns: []string{path}}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, handle) }()
	select {
	case <-f.CaughtUp():
	case <-time.After(waitTimeout):
		b.Fatal("not caught up")
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}
}

// BenchmarkFollowThroughput measures lines per second from a writer
// appending in 64 KiB writes to the handler, and reports the peak RSS of
// the process.
func BenchmarkFollowThroughput(b *testing.B) {
	path := filepath.Join(b.TempDir(), "app.log")
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	var got atomic.Int64
	stop := runBench(b, path, func(Line) { got.Add(1) })
	defer stop()

	bw := bufio.NewWriterSize(out, 64<<10)
	b.SetBytes(int64(len(fmt.Sprintf(benchLine, 0))))
	b.ResetTimer()
	for i := range b.N {
		fmt.Fprintf(bw, benchLine, i)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for got.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d lines delivered", got.Load(), b.N)
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	if hwm := peakRSS(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MB")
	}
}

// BenchmarkAppendToHandleLatency writes one line at a time, each stamped
// with its write time, and measures how long it takes to reach the handler.
func BenchmarkAppendToHandleLatency(b *testing.B) {
	path := filepath.Join(b.TempDir(), "app.log")
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	arrived := make(chan time.Duration, 1)
	stop := runBench(b, path, func(l Line) {
		s := string(l.Data)
		ns, err := strconv.ParseInt(s[strings.LastIndexByte(s, ' ')+1:], 10, 64)
		if err == nil {
			arrived <- time.Duration(time.Now().UnixNano() - ns)
		}
	})
	defer stop()

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		if _, err := fmt.Fprintf(out, "webbridge: INFO : [DEBUGGING] Stats 12, c:1, d:1 %d\n", time.Now().UnixNano()); err != nil {
			b.Fatal(err)
		}
		select {
		case d := <-arrived:
			lat = append(lat, d)
		case <-time.After(waitTimeout):
			b.Fatal("line not delivered")
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// peakRSS returns the process's peak resident set size in bytes, or 0.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

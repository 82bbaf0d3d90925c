package daemon

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/promtext"
)

// sessionsSeries is the series the latency benchmark watches.
const sessionsSeries = `cms_webbridge_sessions{webbridge="x"}`

// percentile returns the q-quantile (nearest rank) of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchDaemon is a daemon running in process for the latency benchmarks.
type benchDaemon struct {
	d      *Daemon
	out    *os.File // the followed file, open for appending
	base   string   // http://127.0.0.1:port
	client *http.Client
	line   []byte
}

// startBenchDaemon runs the daemon on an empty followed file in observe
// mode with HTTP on a loopback port 0, waits until it is ready, and stops
// it when the benchmark ends.
func startBenchDaemon(b *testing.B) *benchDaemon {
	b.Helper()
	dir := b.TempDir()
	logFile := filepath.Join(dir, "cms.log")
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { out.Close() })

	cfg := testConfig(dir)
	cfg.Inputs.Files.Paths = []string{logFile}
	cfg.Policy.Mode = "observe"
	cfg.Policy.Windows = []string{"Sat 02:00-04:00"} // required; never reached: observe mode

	d, base := startDaemon(b, Options{Config: cfg})

	bd := &benchDaemon{d: d, out: out, base: base, client: &http.Client{Timeout: 5 * time.Second}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := bd.client.Get(bd.base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return bd
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("daemon not ready after 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// appendStats appends the i-th Stats line of Web Bridge x, stamped now,
// and returns the session count it carries (a new one each time, within
// the limit) and the time just before the write.
func (bd *benchDaemon) appendStats(b *testing.B, i int) (want float64, t0 time.Time) {
	want = float64(i%148 + 1)
	t0 = time.Now()
	bd.line = fmt.Appendf(bd.line[:0], "%s user.info x \"webbridge\": INFO : [DEBUGGING] Stats %d, c:%d, d:%d\n",
		bsd(t0), int(want), 1000+i, 900+i)
	if _, err := bd.out.Write(bd.line); err != nil {
		b.Fatal(err)
	}
	return want, t0
}

// BenchmarkAppendToMetricsLatency runs the daemon in process on a followed
// file (observe mode, HTTP on a loopback port 0) and, per iteration,
// appends one Web Bridge Stats line with a new session count, then scrapes
// /metrics over real HTTP back to back until cms_webbridge_sessions shows
// the new value. The latency is from just before the write to the end of
// the first scrape that shows the value: an upper bound that includes up
// to one whole scrape, whose median duration is reported as scrape-p50-ms
// (BenchmarkAppendToParsedLatency measures the part before the scrape).
// Target: p99 under 50 ms (mtail polls files every 250 ms by default).
func BenchmarkAppendToMetricsLatency(b *testing.B) {
	bd := startBenchDaemon(b)
	url := bd.base + "/metrics"
	var lat, scrapes []time.Duration
	i := 0
	for b.Loop() {
		i++
		want, t0 := bd.appendStats(b, i)
		limit := t0.Add(10 * time.Second)
		for {
			s := time.Now()
			body, err := promtext.Fetch(context.Background(), bd.client, url)
			v, ok := promtext.Value(body, sessionsSeries)
			e := time.Now()
			if err != nil {
				b.Fatal(err)
			}
			scrapes = append(scrapes, e.Sub(s))
			if ok && v == want {
				lat = append(lat, e.Sub(t0))
				break
			}
			if e.After(limit) {
				b.Fatalf("%s did not become %v within 10s of the append", sessionsSeries, want)
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	slices.Sort(scrapes)
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(ms(percentile(scrapes, 0.50)), "scrape-p50-ms")
	b.ReportMetric(float64(len(scrapes))/float64(len(lat)), "scrapes/op")
}

// BenchmarkAppendToParsedLatency is BenchmarkAppendToMetricsLatency
// without the scrape: it waits, in process, for the daemon's count of
// parsed Web Bridge Stats lines to reach the line just appended (the model
// applies the sample right after, in the same goroutine). It is the
// follower and parser share of the end-to-end latency.
func BenchmarkAppendToParsedLatency(b *testing.B) {
	bd := startBenchDaemon(b)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		_, t0 := bd.appendStats(b, i)
		limit := t0.Add(10 * time.Second)
		for bd.d.counts.wbStats.Load() < uint64(i) {
			if time.Now().After(limit) {
				b.Fatalf("line %d not parsed within 10s of the append", i)
			}
			runtime.Gosched()
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
}

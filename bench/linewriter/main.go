// Command linewriter appends CMS-like syslog lines to a file at a steady
// rate, stamped with the current time, and optionally probes how long a
// Web Bridge Stats line takes to show on a Prometheus /metrics endpoint.
// bench/live.sh runs it against leakwatch and against mtail.
//
// Background lines are 99 noise lines per stats line (as cmd/cmsloggen
// writes), with Web Bridge and Call Bridge stats for a few hosts. They are
// written in batches every 10 ms, as a syslog server flushes.
//
// With -probe-url, a prober appends a Stats line for -probe-host with a new
// session count, scrapes the URL back to back until the series
// (-probe-metric with the label -probe-label) has that value, records the
// time from the write to the end of that scrape, waits a random 50-300 ms
// (so probes fall at every phase of a polling reader's interval) and
// repeats. At the end it prints one summary line of key=value pairs:
//
//	lines=600000 seconds=60.00 rate=10000 bytes=61234567 probes=240 p50_ms=1.9 p99_ms=4.8 max_ms=5.2 scrape_p50_ms=1.7 timeouts=0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/leakwatch/leakwatch/internal/promtext"
)

type options struct {
	out         string
	rate        int
	duration    time.Duration
	probeURL    string
	probeMetric string
	probeLabel  string
	probeHost   string
	timeout     time.Duration
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "linewriter:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, os.Stdout, logger); err != nil {
		logger.Error("linewriter failed", "err", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("linewriter", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.out, "out", "", "file to append to (created if missing; required)")
	fs.IntVar(&o.rate, "rate", 10000, "background lines per second (0: none)")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "how long to write")
	fs.StringVar(&o.probeURL, "probe-url", "", "Prometheus /metrics URL to probe append-to-metrics latency on (empty: no probes)")
	fs.StringVar(&o.probeMetric, "probe-metric", "cms_webbridge_sessions", "metric the probe line sets")
	fs.StringVar(&o.probeLabel, "probe-label", `webbridge="probe"`, "label (name=\"value\") that picks the probe host's series")
	fs.StringVar(&o.probeHost, "probe-host", "probe", "hostname of the probe's Web Bridge Stats lines")
	fs.DurationVar(&o.timeout, "probe-timeout", 10*time.Second, "give up on one probe after this long")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	switch {
	case fs.NArg() > 0:
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.out == "":
		return options{}, errors.New("-out: required")
	case o.rate < 0:
		return options{}, fmt.Errorf("-rate: %d is negative", o.rate)
	case o.duration <= 0:
		return options{}, fmt.Errorf("-duration: %v is not positive", o.duration)
	case o.timeout <= 0:
		return options{}, fmt.Errorf("-probe-timeout: %v is not positive", o.timeout)
	}
	return o, nil
}

// file serializes whole-line writes from the background writer and the
// prober, so lines never interleave.
type file struct {
	mu sync.Mutex
	f  *os.File
	n  int64
}

func (f *file) write(b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.f.Write(b)
	f.n += int64(n)
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.f.Name(), err)
	}
	return nil
}

func run(ctx context.Context, o options, stdout io.Writer, logger *slog.Logger) error {
	fh, err := os.OpenFile(o.out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening output: %w", err)
	}
	defer fh.Close()
	out := &file{f: fh}
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()

	var (
		wg      sync.WaitGroup
		lines   int64
		werr    error
		results probeResults
		perr    error
	)
	start := time.Now()
	if o.rate > 0 {
		wg.Go(func() { lines, werr = writeBackground(ctx, out, o.rate) })
	}
	if o.probeURL != "" {
		wg.Go(func() { results, perr = probe(ctx, out, o, logger) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(werr, perr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lines=%d seconds=%.2f rate=%.0f bytes=%d", lines, elapsed.Seconds(),
		float64(lines)/elapsed.Seconds(), out.n)
	if o.probeURL != "" {
		r := results
		fmt.Fprintf(stdout, " probes=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f scrape_p50_ms=%.2f timeouts=%d",
			len(r.latency), ms(pct(r.latency, 0.5)), ms(pct(r.latency, 0.99)), ms(pct(r.latency, 1)),
			ms(pct(r.scrapes, 0.5)), r.timeouts)
	}
	fmt.Fprintln(stdout)
	return nil
}

// writeBackground appends rate lines a second, in batches every 10 ms,
// until ctx ends, and returns how many it wrote.
func writeBackground(ctx context.Context, out *file, rate int) (int64, error) {
	g := newGen()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	var written, skipped int64
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return written, nil
		case now := <-tick.C:
			behind := int64(now.Sub(start).Seconds()*float64(rate)) - written - skipped
			if behind <= 0 {
				continue
			}
			// Never more than a second's worth at once: if the machine
			// stalled longer, the shortfall shows in the reported rate.
			n := min(behind, int64(rate))
			skipped += behind - n
			buf = buf[:0]
			for range n {
				buf = g.append(buf, now)
			}
			if err := out.write(buf); err != nil {
				return written, err
			}
			written += n
		}
	}
}

// gen makes background lines: noise, with a Web Bridge or Call Bridge
// stats line every 100th line.
type gen struct {
	rnd      *rand.Rand
	i        int
	sessions [4]int
	c, d     [4]int
	cma      [2]int
}

func newGen() *gen { return &gen{rnd: rand.New(rand.NewPCG(1, 2))} }

var noise = []string{
	`host:server: INFO : guest login request %d: resolution in progress`,
	`host:server: INFO : API trace %d: GET for "/api/v1/system/status" (from 10.0.0.7)`,
	`host:server:  INFO : SIP trace: connection %d: read failure, code 104`,
	`host:server:  WARNING : rejecting login attempt from user 'x@example.com' -- authenticationId incorrect (%d)`,
	`client_backend:  ERROR   : SamlManager : Invalid SSO login attempt %d`,
	`host:server: INFO : call %d: ending; local teardown, system participant`,
}

func bsd(t time.Time) []byte { return t.UTC().AppendFormat(nil, "Jan _2 15:04:05.000") }

func (g *gen) append(b []byte, now time.Time) []byte {
	g.i++
	b = now.UTC().AppendFormat(b, "Jan _2 15:04:05.000")
	switch {
	case g.i%100 == 0 && g.i%300 != 0:
		k := g.rnd.IntN(len(g.sessions))
		g.sessions[k] = min(max(g.sessions[k]+g.rnd.IntN(3)-1, 0), 149)
		g.c[k] += 2
		g.d[k]++
		return fmt.Appendf(b, " user.info wb%d \"webbridge\": INFO : [DEBUGGING] Stats %d, c:%d, d:%d\n",
			k+1, g.sessions[k], g.c[k], g.d[k])
	case g.i%300 == 0:
		k := g.rnd.IntN(len(g.cma))
		g.cma[k] = g.rnd.IntN(20)
		return fmt.Appendf(b, " user.info cb%d host:server: INFO : STATS: {\"callLegsPS\": 1, \"callLegs\": \"20/24\", \"CMA\": \"%d/%d\", \"sip\": {\"std\": \"0/1\", \"peer\": \"6/6\"}}\n",
			k+1, g.cma[k], g.cma[k]+3)
	default:
		b = fmt.Appendf(b, " user.info cms%d ", g.rnd.IntN(4)+1)
		b = fmt.Appendf(b, noise[g.rnd.IntN(len(noise))], g.i)
		return append(b, '\n')
	}
}

type probeResults struct {
	latency  []time.Duration
	scrapes  []time.Duration
	timeouts int
}

// probe measures append-to-/metrics latency until ctx ends.
func probe(ctx context.Context, out *file, o options, logger *slog.Logger) (probeResults, error) {
	var r probeResults
	client := &http.Client{Timeout: 5 * time.Second}
	series := o.probeMetric + "{" + o.probeLabel + "}"
	rnd := rand.New(rand.NewPCG(3, 4))
	var line []byte
	for i := 1; ; i++ {
		want := i%148 + 1
		t0 := time.Now()
		line = append(bsd(t0), fmt.Sprintf(" user.info %s \"webbridge\": INFO : [DEBUGGING] Stats %d, c:%d, d:%d\n",
			o.probeHost, want, 1000+i, 900+i)...)
		if err := out.write(line); err != nil {
			return r, err
		}
		for {
			s := time.Now()
			body, err := promtext.Fetch(ctx, client, o.probeURL)
			v, ok := promtext.Value(body, series)
			e := time.Now()
			if ctx.Err() != nil {
				return r, nil // the run ended mid-probe: not a sample
			}
			if err != nil {
				return r, err
			}
			r.scrapes = append(r.scrapes, e.Sub(s))
			if ok && v == float64(want) {
				r.latency = append(r.latency, e.Sub(t0))
				break
			}
			if e.Sub(t0) > o.timeout {
				r.timeouts++
				logger.Warn("probe timed out", "want", want, "got", v, "found", ok)
				break
			}
		}
		select {
		case <-ctx.Done():
			return r, nil
		case <-time.After(time.Duration(50+rnd.IntN(251)) * time.Millisecond):
		}
	}
}

// pct returns the q-quantile (nearest rank) of durations.
func pct(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(d))
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

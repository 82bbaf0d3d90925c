// Command cmsloggen writes a realistic syslog file of a busy Cisco Meeting
// Server cluster: four Web Bridges 2 (two of them leaking), four Call
// Bridges (two on combined servers), a recorder and a database node, every
// header form of domain.md, and about 99% noise. The output is a function of
// the flags alone.
//
//	cmsloggen -size 500MB -out cms.log [-gzip] [-seed N]
//
// For a what-if over a long time, -duration stops on simulated time instead,
// -leak sets each Web Bridge's leak rate, and -limit lifts the bridges' own
// limit so that the logs show the leak as if nothing ever filled up:
//
//	cmsloggen -duration 8760h -noise 0 -leak cms1=0,cms2=0.02,cms3=0.1,cms4=0.5 -limit 100000 -out year.log
package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/leakwatch/leakwatch/internal/sim"
)

type options struct {
	size      int64
	out       string
	gzip      bool
	seed      int64
	noise     int
	start     time.Time
	restartAt time.Duration // daily restart of every Web Bridge, Cisco's cron workaround; <0 for none
	duration  time.Duration // stop after this much simulated time; 0 for the size alone
	leak      map[string]float64
	limit     int // the simulated bridges' own session limit; 0 for 149
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmsloggen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, logger); err != nil {
		logger.Error("cmsloggen failed", "err", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("cmsloggen", flag.ContinueOnError)
	size := fs.String("size", "300MB", "uncompressed size to write (e.g. 500MB, 1GiB, 123456)")
	out := fs.String("out", "", "output file (required; - for stdout)")
	gz := fs.Bool("gzip", false, "gzip the output")
	seed := fs.Int64("seed", 1, "random seed: the same flags give the same bytes")
	noise := fs.Int("noise", 99, "noise lines per stats line (lower simulates more time per MB)")
	start := fs.String("start", "2026-12-30T00:00:00Z", "simulated start, RFC 3339 (the default crosses New Year)")
	restart := fs.String("restart-at", "", "restart every Web Bridge daily at this HH:MM, as Cisco's cron script does (default: never)")
	duration := fs.Duration("duration", 0, "stop after this much simulated time (e.g. 8760h), whatever -size says")
	leak := fs.String("leak", "", "leak rates in sessions per hour, e.g. cms1=0,cms2=0.02,cms3=0.1,cms4=0.5 (default cms3=0.6 with 20 already leaked, cms4=0.15)")
	limit := fs.Int("limit", 0, "the simulated Web Bridges' own session limit (default 149); a large one logs leaks that never fill a bridge, for what-ifs")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := options{out: *out, gzip: *gz, seed: *seed, noise: *noise, restartAt: -1, duration: *duration, limit: *limit}
	var err error
	if o.size, err = parseSize(*size); err != nil {
		return options{}, fmt.Errorf("-size: %w", err)
	}
	if o.duration < 0 {
		return options{}, fmt.Errorf("-duration: %s is negative", o.duration)
	}
	if o.duration > 0 {
		o.size = 1 << 50 // simulated time decides
	}
	if o.limit < 0 {
		return options{}, fmt.Errorf("-limit: %d is negative", o.limit)
	}
	if *leak != "" {
		o.leak = map[string]float64{}
		for _, kv := range strings.Split(*leak, ",") {
			name, rate, ok := strings.Cut(strings.TrimSpace(kv), "=")
			r, err := strconv.ParseFloat(rate, 64)
			if !ok || name == "" || err != nil || r < 0 {
				return options{}, fmt.Errorf("-leak: %q is not name=rate (sessions per hour, not negative)", kv)
			}
			o.leak[name] = r
		}
	}
	if o.out == "" {
		return options{}, errors.New("-out: required")
	}
	if o.noise < 0 {
		return options{}, fmt.Errorf("-noise: %d is negative", o.noise)
	}
	if o.start, err = time.Parse(time.RFC3339, *start); err != nil {
		return options{}, fmt.Errorf("-start: %w", err)
	}
	if *restart != "" {
		hm, err := time.Parse("15:04", *restart)
		if err != nil {
			return options{}, fmt.Errorf("-restart-at: %w", err)
		}
		o.restartAt = time.Duration(hm.Hour())*time.Hour + time.Duration(hm.Minute())*time.Minute
	}
	return o, nil
}

// parseSize reads a byte count with an optional unit: B, KB, MB, GB (powers
// of 1000), KiB, MiB, GiB (powers of 1024), or K, M, G (taken as the
// decimal units).
func parseSize(s string) (int64, error) {
	str := strings.TrimSpace(s)
	i := strings.IndexFunc(str, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := str, ""
	if i >= 0 {
		num, unit = str[:i], strings.TrimSpace(str[i:])
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
	}[strings.ToLower(unit)]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q in %q", unit, s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || v*mult > 1<<50 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return int64(v * mult), nil
}

// busyCluster is the cluster cmsloggen simulates.
func busyCluster(o options) sim.Config {
	c := sim.Config{
		Seed:  o.seed,
		Start: o.start,
		WebBridges: []sim.Bridge{
			{Name: "cms1", Host: "cms1", Limit: o.limit}, {Name: "cms2", Host: "cms2", Limit: o.limit},
			{Name: "cms3", Host: "cms3", Limit: o.limit}, {Name: "cms4", Host: "cms4", Limit: o.limit},
		},
		CallBridges:   []string{"cms1", "cms2", "cms5", "cms6"},
		OtherHosts:    []string{"cmsrec1", "cmsdb1"},
		Leak:          map[string]float64{"cms3": 0.6, "cms4": 0.15},
		InitialLeak:   map[string]int{"cms3": 20},
		NoisePerStats: noisePerStats(o.noise),
		ClockSkew:     2 * time.Second,
	}
	if o.leak != nil {
		c.Leak, c.InitialLeak = o.leak, nil
	}
	return c
}

// noisePerStats maps the -noise flag, where 0 means none, to
// Config.NoisePerStats, where 0 means the default and negative none.
func noisePerStats(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// countingWriter counts the uncompressed bytes written.
type countingWriter struct {
	w *bufio.Writer
	n int64
}

func run(ctx context.Context, o options, logger *slog.Logger) (err error) {
	s, err := sim.New(busyCluster(o))
	if err != nil {
		return err
	}
	var dst io.Writer = os.Stdout
	if o.out != "-" {
		f, err := os.Create(o.out)
		if err != nil {
			return fmt.Errorf("creating output: %w", err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("closing %s: %w", o.out, cerr)
			}
		}()
		dst = f
	}
	var zw *gzip.Writer
	if o.gzip {
		zw, _ = gzip.NewWriterLevel(dst, gzip.BestSpeed) // a valid level cannot fail
		dst = zw
	}
	cw := &countingWriter{w: bufio.NewWriterSize(dst, 1<<20)}
	began := time.Now()
	lines, werr := int64(0), error(nil)
	emit := func(l []byte) {
		if cw.n >= o.size || werr != nil {
			return
		}
		if _, werr = cw.w.Write(l); werr == nil {
			werr = cw.w.WriteByte('\n')
		}
		cw.n += int64(len(l)) + 1
		lines++
	}
	const step = time.Minute // small, so the run stops close to the size and the truth logged matches the file
	for cw.n < o.size && werr == nil && (o.duration == 0 || s.Now().Sub(o.start) < o.duration) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted after %d bytes: %w", cw.n, err)
		}
		s.Advance(step, emit)
		if o.restartAt >= 0 {
			restartDue(s, o.restartAt, step)
		}
	}
	if werr != nil {
		return fmt.Errorf("writing %s: %w", o.out, werr)
	}
	if err := cw.w.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", o.out, err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", o.out, err)
		}
	}
	elapsed := time.Since(began)
	tr := s.Truth()
	if o.out != "-" {
		// A log file's mtime is its last write: tools that infer the year
		// of BSD timestamps from it then see the simulated one.
		if err := os.Chtimes(o.out, tr.Now, tr.Now); err != nil {
			return fmt.Errorf("setting the time of %s: %w", o.out, err)
		}
	}
	leaked := make([]string, 0, len(tr.WebBridges))
	for _, w := range tr.WebBridges {
		leaked = append(leaked, fmt.Sprintf("%s=%d", w.Name, w.Leaked))
	}
	logger.Info("log written", "out", o.out, "bytes", cw.n, "lines", lines,
		"simulated", tr.Now.Sub(o.start).Round(time.Minute).String(), "end", tr.Now.Format(time.RFC3339),
		"leaked", strings.Join(leaked, ","), "elapsed", elapsed.Round(time.Millisecond).String(),
		"mb_per_s", fmt.Sprintf("%.0f", float64(cw.n)/1e6/elapsed.Seconds()))
	return nil
}

// restartDue restarts every Web Bridge when the daily restart time fell
// inside the step just simulated.
func restartDue(s *sim.Sim, at, step time.Duration) {
	now := s.Now()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	sinceMidnight := now.Sub(midnight)
	if sinceMidnight < at || sinceMidnight >= at+step {
		return
	}
	for _, w := range s.Truth().WebBridges {
		_ = s.RestartWebBridge(w.Name) // names come from the Sim itself
	}
}

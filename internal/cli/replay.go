package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/logline"
	"github.com/leakwatch/leakwatch/internal/replay"
)

func replayCmd(ctx context.Context, env *Env, args []string) error {
	fs := flagSet(env, "replay", "FILE...")
	fs.String("config", "", "config file (default: built-in defaults)")
	format := fs.String("format", "table", "output: table or csv (a timeline, one row per report period), or json (the final state)")
	refFlag := fs.String("reference-time", "", "RFC 3339 time near the end of the logs, to infer the year of timestamps without one (default: the first file's modification time)")
	whatIf := fs.Bool("what-if", true, "run the restart policy on log time, assuming each restart it orders succeeds")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &usageError{"no FILE given (plain or .gz syslog files, oldest first)"}
	}
	switch *format {
	case "table", "csv", "json":
	default:
		return &usageError{fmt.Sprintf("--format %q is not table, csv or json", *format)}
	}
	var ref time.Time
	if *refFlag != "" {
		t, err := time.Parse(time.RFC3339, *refFlag)
		if err != nil {
			return &usageError{fmt.Sprintf("--reference-time %q is not RFC 3339 (e.g. 2026-03-19T00:00:00Z)", *refFlag)}
		}
		ref = t
	}
	cfg, err := loadConfig(fs)
	if err != nil {
		return err
	}
	res, err := runReplay(ctx, cfg, fs.Args(), ref, *whatIf, *format != "json")
	if res == nil {
		return err
	}
	var werr error
	switch *format {
	case "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		werr = enc.Encode(res.report)
	case "csv":
		werr = writeCSV(env.Stdout, res)
	default:
		werr = writeTable(env.Stdout, res)
	}
	if err != nil {
		return err // e.g. a truncated gzip: what was read is printed above
	}
	return werr
}

// replayResult is what a replay produced.
type replayResult struct {
	report   replay.Report
	bridges  []string // web bridge names, for the timeline's columns
	timeline []timelineRow
	note     string
}

type timelineRow struct {
	at       time.Time
	snap     cluster.Snapshot
	restarts []string
}

// whatIfRestarter stands in for SSH in the what-if: every restart succeeds.
type whatIfRestarter struct{}

func (whatIfRestarter) Restart(context.Context, string) (string, error) {
	return "what-if: assumed to succeed", nil
}

// runReplay replays files in order. With timeline, it keeps one row per
// Call Bridge report period (the state at the period's end).
func runReplay(ctx context.Context, cfg *config.Config, files []string, ref time.Time, whatIf, timeline bool) (*replayResult, error) {
	opts := cfg.ModelOptions()
	for i := range opts.WebBridges {
		// The what-if sends nothing, so a listed bridge needs no
		// mmp.address to be chosen; a discovered one never is.
		opts.WebBridges[i].Restartable = true
	}
	model, err := cluster.New(opts)
	if err != nil {
		return nil, err
	}
	if ref.IsZero() {
		ref = time.Now()
		if st, err := os.Stat(files[0]); err == nil {
			ref = st.ModTime()
		}
	}
	rp := replay.New(model, cfg.Location(), ref)
	res := &replayResult{}
	var act *actuator.Actuator
	var world *whatIfWorld
	var restarts []replay.RestartReport
	if whatIf && len(cfg.Policy.Windows) == 0 && !cfg.Policy.EmergencyAtLimit {
		res.note = "no policy.windows configured: the what-if orders no restart"
	} else if whatIf && len(cfg.Inventory.WebBridges) == 0 {
		res.note = "no inventory.webbridges: the what-if never restarts a discovered bridge (list them to see what leakwatch would do)"
	}
	if whatIf {
		act, err = actuator.New(actuator.Options{
			Config: cfg.PolicyConfig(), Ledger: ledger.NewMemory(), Restarter: whatIfRestarter{}, WhatIf: true,
		}, time.Time{})
		if err != nil {
			return nil, err
		}
		world = newWhatIfWorld(model.Options())
		rp.Rewrite = world.rewrite
	}
	period := model.Options().PeakWindow
	var rowEnd time.Time   // end of the period the current row covers
	var pending []string   // restarts in the current period
	var lastStep time.Time // policy is evaluated at most once per log second
	flush := func(at time.Time) {
		res.timeline = append(res.timeline, timelineRow{at: at, snap: model.Snapshot(at), restarts: pending})
		pending = nil
	}
	rp.OnSample = func(l *logline.Line, now time.Time) {
		if timeline {
			if rowEnd.IsZero() {
				rowEnd = now.Truncate(period).Add(period)
			}
			for !now.Before(rowEnd) {
				flush(rowEnd)
				rowEnd = rowEnd.Add(period)
				if now.Sub(rowEnd) > 24*time.Hour { // a gap in the logs: skip empty rows
					rowEnd = now.Truncate(period).Add(period)
				}
			}
		}
		if act == nil || now.Sub(lastStep) < time.Second {
			return
		}
		lastStep = now
		snap := model.Snapshot(now)
		ds, _ := act.Step(ctx, snap, now)
		for _, d := range ds {
			if !d.RestartNow {
				continue
			}
			wb, _ := snap.WebBridge(d.WebBridge)
			// What the restart frees: the highest leak proven since the
			// last one (the leak never shrinks without a restart).
			freed := wb.LeakLowerBound
			if h := model.History(d.WebBridge, now, now); len(h) > 0 {
				freed = max(freed, h[len(h)-1].Leak)
			}
			cut := world.restarted(d.WebBridge, wb.Sessions, freed)
			model.MarkRestart(d.WebBridge, now)
			restarts = append(restarts, replay.RestartReport{
				Time: now.Format(time.RFC3339), WebBridge: d.WebBridge, LeakLowerBound: wb.LeakLowerBound, Reason: d.Detail,
				RealSessionsCut: cut,
			})
			pending = append(pending, d.WebBridge)
		}
	}
	// A damaged file (a truncated gzip) is reported but does not end the
	// replay: months of logs should not hang on one bad day. Its complete
	// lines count; the staleness rules see the gap its lost end leaves.
	var errs []error
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := rp.File(f); err != nil {
			errs = append(errs, err)
		}
	}
	ferr := errors.Join(errs...)
	now := rp.Now()
	snap := model.Snapshot(now)
	if timeline && !rowEnd.IsZero() {
		flush(now)
	}
	res.report = replay.NewReport(snap, rp.Counts())
	if restarts != nil {
		res.report.Restarts = restarts
	}
	if world != nil {
		res.report.WhatIf = world.report()
	}
	for _, wb := range snap.WebBridges {
		res.bridges = append(res.bridges, wb.Name)
	}
	return res, ferr
}

// header is the timeline's first row. The table shows a bridge's sessions
// and proven leak in one column; csv gives each its own.
func header(res *replayResult, csv bool) []string {
	h := []string{"time"}
	for _, b := range res.bridges {
		if csv {
			h = append(h, b+"_sessions", b+"_leak_lower_bound")
		} else {
			h = append(h, b)
		}
	}
	return append(h, "cma", "estimate", "lower_bound", "restart")
}

func (row *timelineRow) cells(res *replayResult, csv bool) []string {
	c := []string{row.at.Format(time.RFC3339)}
	for _, name := range res.bridges {
		wb, ok := row.snap.WebBridge(name)
		sessions, leak := "", ""
		if ok && wb.Seen {
			sessions = strconv.FormatInt(wb.Sessions, 10)
		}
		if ok && wb.LeakKnown {
			leak = strconv.FormatInt(wb.LeakLowerBound, 10)
		}
		switch {
		case csv:
			c = append(c, sessions, leak)
		case ok && wb.LeakKnown && wb.LeakLowerBound > 0:
			c = append(c, fmt.Sprintf("%s (leak>=%s)", sessions, leak))
		default:
			c = append(c, sessions)
		}
	}
	l := row.snap.Leak
	if l.Valid {
		bound := "?"
		if l.BoundKnown {
			bound = strconv.FormatInt(l.LowerBound, 10)
		}
		c = append(c, strconv.FormatInt(l.CMAActive, 10), strconv.FormatInt(l.Estimate, 10), bound)
	} else {
		c = append(c, strconv.FormatInt(l.CMAActive, 10), "unknown", "unknown")
	}
	r := ""
	if len(row.restarts) > 0 {
		r = "RESTART " + strings.Join(row.restarts, ",")
	}
	return append(c, r)
}

func writeTable(w io.Writer, res *replayResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header(res, false), "\t"))
	for i := range res.timeline {
		fmt.Fprintln(tw, strings.Join(res.timeline[i].cells(res, false), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	l := res.report.Lines
	_, err := fmt.Fprintf(w, "\n%d lines read: %d web bridge stats, %d call bridge stats, %d malformed; %d restarts in the what-if\n",
		l.Read, l.WebBridgeStats, l.CallBridgeStats, l.Malformed, len(res.report.Restarts))
	if err == nil && l.FutureRejected > 0 {
		_, err = fmt.Fprintf(w, "%d stats lines rejected: stamped more than model.future_tolerance ahead of the stream\n", l.FutureRejected)
	}
	if err == nil && res.note != "" {
		_, err = fmt.Fprintln(w, res.note)
	}
	return err
}

func writeCSV(w io.Writer, res *replayResult) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header(res, true)); err != nil {
		return err
	}
	for i := range res.timeline {
		if err := cw.Write(res.timeline[i].cells(res, true)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

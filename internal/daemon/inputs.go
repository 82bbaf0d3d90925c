package daemon

import (
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/logline"
)

// Input sources, as the source label of leakwatch_lines_total.
const (
	SourceFiles  = "files"
	SourceSyslog = "syslog"
)

// counters are the line counts behind leakwatch_lines_total and friends.
type counters struct {
	lines          sync.Map // source -> *atomic.Uint64
	wbStats        atomic.Uint64
	cbStats        atomic.Uint64
	wbMalformed    atomic.Uint64
	cbMalformed    atomic.Uint64
	malformedLogAt atomic.Int64 // unix nanos of the last malformed-line log
	droppedLogAt   atomic.Int64 // unix nanos of the last discovery-cap log
	// hostLog limits the per-host warnings (future-stamped samples).
	hostLog *rateLimiter
}

func (c *counters) addLine(source string) {
	v, ok := c.lines.Load(source)
	if !ok {
		v, _ = c.lines.LoadOrStore(source, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

func (c *counters) linesBySource() map[string]uint64 {
	out := map[string]uint64{}
	c.lines.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return out
}

// feeder parses one input's lines into the model. Each input has its own,
// since a parser keeps the year-inference reference of its stream; it is
// not safe for concurrent use, and its input calls it from one goroutine.
type feeder struct {
	source  string
	parser  *logline.Parser
	line    logline.Line
	model   *cluster.Model
	counts  *counters
	logger  *slog.Logger
	notify  func()
	nowFunc func() time.Time

	// hostAllowed, if set, decides whether a stats line's hostname may
	// come from src (the syslog receiver's hostname bindings); it counts
	// and logs what it refuses.
	hostAllowed func(src netip.Addr, host []byte) bool
	src         netip.Addr
}

func newFeeder(source string, loc *time.Location, model *cluster.Model, counts *counters, logger *slog.Logger, now func() time.Time, notify func()) *feeder {
	return &feeder{source: source, parser: logline.NewParser(loc, now()), model: model, counts: counts,
		logger: logger, notify: notify, nowFunc: now}
}

// feedFrom handles one syslog message from the sender src. The sender's
// name is formatted only if a log line needs it, not for every message.
func (f *feeder) feedFrom(data []byte, src netip.Addr) {
	f.src = src
	f.feed(data, "")
}

// from names where a line came from, for logs: name, or the sender.
func (f *feeder) from(name string) string {
	if name == "" && f.src.IsValid() {
		return f.src.String()
	}
	return name
}

// feed handles one line (without its newline). name says where it came
// from (a file path or a sender address) for logs.
func (f *feeder) feed(data []byte, name string) {
	f.counts.addLine(f.source)
	l := &f.line
	switch f.parser.Parse(data, l) {
	case logline.WebBridgeStats:
		f.counts.wbStats.Add(1)
	case logline.CallBridgeStats:
		f.counts.cbStats.Add(1)
	case logline.Malformed:
		if l.MalformedKind == "webbridge" {
			f.counts.wbMalformed.Add(1)
		} else {
			f.counts.cbMalformed.Add(1)
		}
		// At most one log line a second: a broken sender must not flood
		// the log; the counter has the full count.
		now := f.nowFunc().UnixNano()
		if last := f.counts.malformedLogAt.Load(); now-last >= int64(time.Second) && f.counts.malformedLogAt.CompareAndSwap(last, now) {
			f.logger.Warn("malformed stats line rejected", "source", f.source, "from", f.from(name),
				"kind", l.MalformedKind, "reason", l.Reason, "host", string(l.Host))
		}
		return
	default:
		return
	}
	if f.hostAllowed != nil && !f.hostAllowed(f.src, l.Host) {
		return
	}
	arrived := f.nowFunc()
	switch f.model.Observe(l, arrived) {
	case cluster.RejectedFuture:
		// At most one log line a minute per host; the counter and the
		// clock offset gauge have the rest.
		if f.counts.hostLog.allow("future/"+string(l.Host), arrived) {
			f.logger.Warn("stats line rejected: stamped ahead of its arrival by more than model.future_tolerance (a wrong clock on the sender, or a forged line)",
				"source", f.source, "from", f.from(name), "host", string(l.Host), "stamped", l.Time, "arrived", arrived,
				"ahead", l.Time.Sub(arrived).Round(time.Second), "tolerance", f.model.Options().FutureTolerance)
		}
	case cluster.Unlisted:
		// At most one log line a minute per host and role: an operator
		// sees a bridge they forgot to list without a flood.
		if l.Kind == logline.CallBridgeStats {
			if f.counts.hostLog.allow("unlisted-cb/"+string(l.Host), arrived) {
				f.logger.Warn("call bridge stats from a host not in inventory.callbridges: every proof is withheld while it reports, since its CMA sessions are missing from the peaks; list it, name it in inventory.ignore, or run leakwatch forget HOST",
					"source", f.source, "from", f.from(name), "host", string(l.Host))
			}
		} else if f.counts.hostLog.allow("unlisted-wb/"+string(l.Host), arrived) {
			f.logger.Warn("web bridge stats from a host not in inventory.webbridges: left out of the sums; list it or name it in inventory.ignore",
				"source", f.source, "from", f.from(name), "host", string(l.Host))
		}
	case cluster.Applied:
		if f.notify != nil {
			f.notify()
		}
	case cluster.DroppedCap:
		// At most one log line a minute: a flood of hostnames must not
		// flood the log; leakwatch_discovery_dropped_lines_total counts all.
		now := f.nowFunc().UnixNano()
		if last := f.counts.droppedLogAt.Load(); now-last >= int64(time.Minute) && f.counts.droppedLogAt.CompareAndSwap(last, now) {
			f.logger.Warn("stats line dropped: its host is beyond the discovery cap (model.max_discovered); list the bridges in inventory or raise the cap",
				"source", f.source, "from", f.from(name), "host", string(l.Host), "dropped_so_far", f.model.Dropped())
		}
	}
}

// Package replay runs leakwatch's parser and cluster model over log files,
// on the logs' own time: "now" is the newest timestamp seen.
//
// It is built for months of logs at disk speed. Instead of splitting every
// line and running a matcher on it, it reads large buffers, counts lines with
// one vectorised byte count, and searches the buffer for the few marker
// strings that every stats line contains; only lines holding a marker reach
// the parser. Memory stays flat: one buffer, whatever the input size.
package replay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/logline"
)

// bufSize is the read buffer. A line longer than this cannot be a stats
// line worth reading; it is counted as too long and skipped.
const bufSize = 4 << 20

// Counts are what a replay has read.
type Counts struct {
	Read                uint64 `json:"read"`
	WebBridgeStats      uint64 `json:"webbridge_stats"`
	CallBridgeStats     uint64 `json:"callbridge_stats"`
	Malformed           uint64 `json:"malformed"`
	MalformedWebBridge  uint64 `json:"-"`
	MalformedCallBridge uint64 `json:"-"`
	// TooLong counts lines longer than the read buffer (4 MiB), skipped.
	TooLong uint64 `json:"too_long"`
	// Dropped counts samples from hosts past the discovery cap.
	Dropped uint64 `json:"dropped_over_cap"`
	// FutureRejected counts samples stamped more than the model's
	// FutureTolerance ahead of the stream that nothing later confirmed.
	FutureRejected uint64 `json:"future_rejected"`
}

// Replayer feeds lines to a model. It is not safe for concurrent use.
type Replayer struct {
	model  *cluster.Model
	parser *logline.Parser
	now    time.Time
	counts Counts
	buf    []byte
	line   logline.Line
	clock  streamClock

	// OnSample, if set, is called after every stats sample the model
	// applied, with the sample's line and the replay's "now".
	OnSample func(l *logline.Line, now time.Time)
	// Rewrite, if set, may change each stats sample before the model sees
	// it (the what-if takes the sessions its restarts would have freed off
	// the Web Bridges' counts).
	Rewrite func(l *logline.Line)
}

// New returns a Replayer feeding m. loc is the zone of timestamps without
// one; latest is a time no line precedes by more than a day (the first
// file's modification time), from which years are inferred.
func New(m *cluster.Model, loc *time.Location, ref time.Time) *Replayer {
	return &Replayer{model: m, parser: logline.NewParserUntil(loc, ref), buf: make([]byte, bufSize),
		clock: streamClock{tolerance: m.Options().FutureTolerance, period: m.Options().PeakWindow}}
}

// Now is the newest log time seen so far.
func (r *Replayer) Now() time.Time { return r.now }

// Counts returns what has been read so far.
func (r *Replayer) Counts() Counts { return r.counts }

// File replays one file, plain or gzip-compressed (recognised by its
// content, not its name). A truncated gzip file is an error, returned after
// every complete line before the damage has been applied.
func (r *Replayer) File(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("reading %s: truncated inside its gzip header (%w)", path, err)
			}
			return fmt.Errorf("reading %s: %w", path, err)
		}
		defer zr.Close()
		src = zr
	}
	if err := r.Reader(src); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("reading %s: truncated (%w); the lines before the damage were replayed", path, err)
		}
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// Reader replays lines from rd until EOF. A last line without a newline is
// replayed at EOF, but not when rd fails: the failure may have cut it.
func (r *Replayer) Reader(rd io.Reader) error {
	markers := logline.Markers()
	carry := 0        // bytes of an incomplete line at the front of buf
	skipping := false // inside a line longer than the buffer
	for {
		n, err := fill(rd, r.buf[carry:])
		data := r.buf[:carry+n]
		done := err != nil                         // io.EOF, or damage such as a truncated gzip stream
		end := bytes.LastIndexByte(data, '\n') + 1 // complete lines: data[:end]
		if skipping {
			if end == 0 && !done {
				carry = 0
				continue
			}
			// The overlong line ends at the first newline.
			first := bytes.IndexByte(data, '\n') + 1
			if first == 0 {
				first = len(data)
			}
			data = data[first:]
			end = max(0, end-first)
			skipping = false
		}
		r.scan(data[:end], markers)
		rest := data[end:]
		switch {
		case done:
			defer r.settle()
			if !errors.Is(err, io.EOF) {
				// Damage, such as a truncated gzip stream: the incomplete
				// last line was cut by it ("d:3170" read as "d:31") and is
				// not applied.
				return err
			}
			r.scan(rest, markers) // a last line without newline
			return nil
		case len(rest) == len(r.buf):
			// One line fills the whole buffer: count it and skip to its end.
			r.counts.Read++
			r.counts.TooLong++
			skipping = true
			carry = 0
		default:
			carry = copy(r.buf, rest)
		}
	}
}

// fill reads into b until it is full or the reader fails; at the end of
// the input it returns io.EOF.
func fill(rd io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := rd.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// scan processes the complete lines in chunk (the last one may lack its
// newline at EOF).
func (r *Replayer) scan(chunk []byte, markers [][]byte) {
	if len(chunk) == 0 {
		return
	}
	r.counts.Read += uint64(bytes.Count(chunk, []byte{'\n'}))
	if chunk[len(chunk)-1] != '\n' {
		r.counts.Read++
	}
	// next[i] is the offset of the next occurrence of markers[i], or -1.
	var next [4]int
	for i, m := range markers {
		next[i] = indexFrom(chunk, m, 0)
	}
	pos := -1
	for {
		at := -1
		for i := range markers {
			if next[i] >= 0 && (at < 0 || next[i] < at) {
				at = next[i]
			}
		}
		if at < 0 {
			break
		}
		start := bytes.LastIndexByte(chunk[:at], '\n') + 1
		end := len(chunk)
		if nl := bytes.IndexByte(chunk[at:], '\n'); nl >= 0 {
			end = at + nl + 1
		}
		r.parse(chunk[start:end])
		pos = end
		for i, m := range markers {
			if next[i] >= 0 && next[i] < pos {
				next[i] = indexFrom(chunk, m, pos)
			}
		}
	}
	if pos == len(chunk) {
		return // the last line was a stats line, already timed
	}
	// Advance "now" on the chunk's last line, stats or not, so that a
	// component that went silent shows as stale at the end of a file.
	last := chunk[:len(chunk)-1]
	if len(chunk) > 0 && chunk[len(chunk)-1] != '\n' {
		last = chunk
	}
	last = last[bytes.LastIndexByte(last, '\n')+1:]
	if t, ok := r.parser.Timestamp(last); ok {
		r.tick(t)
	}
}

func indexFrom(b, m []byte, from int) int {
	if i := bytes.Index(b[from:], m); i >= 0 {
		return from + i
	}
	return -1
}

func (r *Replayer) parse(b []byte) {
	l := &r.line
	switch r.parser.Parse(b, l) {
	case logline.WebBridgeStats:
		r.counts.WebBridgeStats++
	case logline.CallBridgeStats:
		r.counts.CallBridgeStats++
	case logline.Malformed:
		r.counts.Malformed++
		if l.MalformedKind == "webbridge" {
			r.counts.MalformedWebBridge++
		} else {
			r.counts.MalformedCallBridge++
		}
		return
	default:
		return
	}
	r.sample(l)
}

// apply gives l to the model as arriving at the replay's "now".
func (r *Replayer) apply(l *logline.Line) {
	if r.Rewrite != nil {
		r.Rewrite(l)
	}
	switch r.model.Observe(l, r.now) {
	case cluster.Applied:
		if r.OnSample != nil {
			r.OnSample(l, r.now)
		}
	case cluster.DroppedCap:
		r.counts.Dropped++
	case cluster.RejectedFuture:
		r.counts.FutureRejected++
	}
}

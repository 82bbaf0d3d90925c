//go:build unix

// Package logrotate rotates a followed log with the real logrotate, in
// each of its modes, while a writer appends lines that each carry a
// unique id, and checks from the follower's record of every line it
// delivered that none is lost and none is delivered twice, beyond what
// each mode allows:
//
//   - copytruncate loses the lines written between its copy and its
//     truncation. No rotation is deleted, so the files on disk say which
//     lines exist: a line the follower missed that a file holds is a
//     failure; one that no file holds must have been written while
//     logrotate ran in copytruncate mode (the run's time is logged: an
//     upper bound of the window).
//   - After a SIGKILL, the lines delivered since the last offset save (at
//     most follow.DefaultSaveInterval before the kill) are delivered again.
//
// The pattern is the glob cms.log*, which matches every rotated and
// compressed file as well as the live one. The follower runs as its own
// process (this test binary run again, see runFollower) so that it can be
// killed; it is the follow package with the settings of `leakwatch run`.
// Each mode logs one line with its counts, prefixed "logrotate-report:".
package logrotate

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/follow"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

var flagRate = flag.Int("logrotate.rate", 5000, "lines written a second")

// phase is a run of rotations with one logrotate configuration.
type phase struct {
	directives []string
	live       int           // rotations while the follower runs
	gap        time.Duration // writing time between two rotations
	kill       bool          // SIGKILL the follower after them
	down       int           // rotations while it is down, before it starts again
}

func (p phase) copytruncate() bool {
	for _, d := range p.directives {
		if d == "copytruncate" {
			return true
		}
	}
	return false
}

var (
	create       = []string{"create"}
	copytruncate = []string{"copytruncate"}
	compress     = []string{"create", "compress", "delaycompress"}
	// bzip2 is the other format the follower decompresses (the standard
	// library reads it); logrotate runs the bzip2 program.
	compressBzip2 = []string{"create", "compress", "delaycompress", "compresscmd BZIP2", "uncompresscmd BUNZIP2", "compressext .bz2"}
	// dateext names rotations by date; %s (seconds) lets it rotate more
	// than once a day, at most once a second.
	dateext = []string{"create", "dateext", "dateformat -%Y%m%d-%s"}
)

const (
	gap     = 300 * time.Millisecond
	dateGap = 1100 * time.Millisecond
)

// TestLogrotate runs each mode on its own, then all in turn with SIGKILLs
// of the follower between them and rotations while it is down.
func TestLogrotate(t *testing.T) {
	lr := harness.Need(t, "logrotate")
	bz, bunz := harness.Need(t, "bzip2"), harness.Need(t, "bunzip2")
	for i, d := range compressBzip2 {
		compressBzip2[i] = strings.NewReplacer("BUNZIP2", bunz, "BZIP2", bz).Replace(d)
	}
	modes := []struct {
		name   string
		phases []phase
	}{
		{"create", []phase{{directives: create, live: 6, gap: gap}}},
		{"copytruncate", []phase{{directives: copytruncate, live: 6, gap: gap}}},
		{"compress+delaycompress", []phase{{directives: compress, live: 6, gap: gap}}},
		{"compress(bzip2)+delaycompress", []phase{{directives: compressBzip2, live: 6, gap: gap}}},
		{"dateext", []phase{{directives: dateext, live: 4, gap: dateGap}}},
		{"all+SIGKILL", []phase{
			{directives: create, live: 2, gap: gap, kill: true, down: 1},
			{directives: copytruncate, live: 2, gap: gap, kill: true, down: 1},
			{directives: compress, live: 2, gap: gap, kill: true, down: 2},
			{directives: compressBzip2, live: 2, gap: gap, kill: true, down: 2},
			{directives: dateext, live: 2, gap: dateGap, kill: true, down: 1},
			{directives: create, live: 1, gap: gap},
		}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newRig(t, lr)
			r.run(m.phases)
			r.check(m.name)
		})
	}
}

// window is one logrotate run in copytruncate mode.
type window struct{ start, end time.Time }

// rig is one mode's folder, writer, follower process and books.
type rig struct {
	t                            *testing.T
	logrotate                    string
	dir, logs, live              string
	state, lrState, record, conf string
	w                            *lineWriter
	stopWriter                   context.CancelFunc
	writerDone                   chan error
	proc                         *harness.Process
	kills                        []time.Time
	windows                      []window
	rotations                    int
}

func newRig(t *testing.T, lr string) *rig {
	dir := t.TempDir()
	r := &rig{t: t, logrotate: lr, dir: dir,
		logs:    filepath.Join(dir, "logs"),
		state:   filepath.Join(dir, "state"),
		lrState: filepath.Join(dir, "logrotate.status"),
		record:  filepath.Join(dir, "delivered"),
		conf:    filepath.Join(dir, "logrotate.conf"),
	}
	r.live = filepath.Join(r.logs, "cms.log")
	if err := os.Mkdir(r.logs, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := newLineWriter(r.live)
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	return r
}

// run writes throughout, with the follower started first, and goes through
// the phases; then it waits for the follower to deliver every line and
// stops it with SIGTERM.
func (r *rig) run(phases []phase) {
	t := r.t
	r.startFollower()
	ctx, cancel := context.WithCancel(context.Background())
	r.stopWriter = cancel
	r.writerDone = make(chan error, 1)
	go func() { r.writerDone <- r.w.run(ctx, *flagRate) }()
	defer r.endWriter()

	for _, p := range phases {
		for range p.live {
			time.Sleep(p.gap)
			r.rotate(p)
		}
		if !p.kill {
			continue
		}
		time.Sleep(p.gap)
		r.proc.Signal(syscall.SIGKILL)
		<-r.proc.Done()
		r.kills = append(r.kills, time.Now())
		for range p.down {
			time.Sleep(p.gap)
			r.rotate(p)
		}
		time.Sleep(p.gap)
		r.startFollower()
	}
	time.Sleep(gap)
	r.endWriter()
	written := r.w.count()
	// Every line is delivered within a poll interval or two; rotated
	// files are finished at the latest RotateWait after they went quiet.
	// Lines copytruncate lost never come: stop once nothing came for
	// longer than that.
	deadline := time.Now().Add(follow.DefaultRotateWait + 15*time.Second)
	last, lastChange := -1, time.Now()
	for {
		got := r.distinct()
		if got >= written {
			break
		}
		if got != last {
			last, lastChange = got, time.Now()
		}
		if time.Now().After(deadline) || time.Since(lastChange) > follow.DefaultRotateWait+2*time.Second {
			break // check reports what is missing
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := r.proc.Stop(20 * time.Second); err != nil {
		t.Errorf("the follower did not stop cleanly: %v\n%s", err, r.proc.Output())
	}
}

func (r *rig) endWriter() {
	if r.stopWriter == nil {
		return
	}
	r.stopWriter()
	r.stopWriter = nil
	if err := <-r.writerDone; err != nil {
		r.t.Fatalf("writer: %v", err)
	}
}

// startFollower starts the follower process and waits until it has
// caught up with the files present.
func (r *rig) startFollower() {
	t := r.t
	p := harness.Start(t, []string{
		envFollower + "=" + filepath.Join(r.logs, "cms.log*"),
		envState + "=" + r.state,
		envRecord + "=" + r.record,
	}, os.Args[0])
	harness.Eventually(t, 60*time.Second, "the follower to catch up", func() bool {
		select {
		case <-p.Done():
			t.Fatalf("the follower exited:\n%s", p.Output())
		default:
		}
		return strings.Contains(p.Output(), caughtUpMark)
	})
	r.proc = p
}

// rotate runs logrotate -f once with p's directives and a private state
// file. In copytruncate mode the run is a window where lines may be lost.
func (r *rig) rotate(p phase) {
	t := r.t
	// No rotation is deleted, so that check can tell a line in no file
	// (copytruncate lost it) from one the follower missed.
	conf := fmt.Sprintf("%s {\n\trotate 100\n\tmissingok\n\t%s\n}\n", r.live, strings.Join(p.directives, "\n\t"))
	if err := os.WriteFile(r.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := exec.Command(r.logrotate, "-f", "-s", r.lrState, r.conf).CombinedOutput()
	end := time.Now()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("logrotate -f -s %s %s: %v\n%s\nconfig:\n%s", r.lrState, r.conf, err, out, conf)
	}
	r.rotations++
	if p.copytruncate() {
		r.windows = append(r.windows, window{start, end})
	}
}

// delivery is what the record holds for one line id.
type delivery struct {
	count int
	first int64 // unix nanos of its first delivery
}

// readRecord parses the follower's record: per line id its deliveries,
// and the number of lines that are none of the writer's (junk).
func (r *rig) readRecord() (map[int]*delivery, int) {
	f, err := os.Open(r.record)
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	got := map[int]*delivery{}
	junk := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		at, data, _ := strings.Cut(sc.Text(), " ")
		ns, err1 := strconv.ParseInt(at, 10, 64)
		id, err2 := lineID(data)
		if err1 != nil || err2 != nil {
			junk++
			continue
		}
		d := got[id]
		if d == nil {
			d = &delivery{first: ns}
			got[id] = d
		}
		d.count++
	}
	if err := sc.Err(); err != nil {
		r.t.Fatal(err)
	}
	return got, junk
}

func (r *rig) distinct() int {
	got, _ := r.readRecord()
	return len(got)
}

// check counts lost and duplicated lines, separately, explains each by
// the mode's allowance or fails the test, and logs the report line.
func (r *rig) check(mode string) {
	t := r.t
	got, junk := r.readRecord()
	written := r.w.count()
	var lost, lostInWindow, dup, dupAfterKill int
	var firstBad []string
	onDisk := r.idsOnDisk()
	var lostOnDisk int
	for id := range written {
		d := got[id]
		switch {
		case d == nil && onDisk[id]:
			lost++
			lostOnDisk++
			if len(firstBad) < 10 {
				firstBad = append(firstBad, fmt.Sprintf("line %d lost, though a file in the log folder holds it", id))
			}
		case d == nil:
			lost++
			if r.inWindow(r.w.writtenAt(id)) {
				lostInWindow++
				if lostInWindow <= 3 {
					t.Logf("line %d lost, written at %s, inside a copytruncate run", id, r.w.writtenAt(id).Format("15:04:05.000000"))
				}
			} else if len(firstBad) < 10 {
				firstBad = append(firstBad, fmt.Sprintf("line %d lost, written at %s, in no copytruncate window", id, r.w.writtenAt(id).Format("15:04:05.000")))
			}
		case d.count > 1:
			dup += d.count - 1
			if r.afterKill(time.Unix(0, d.first)) {
				dupAfterKill += d.count - 1
			} else if len(firstBad) < 10 {
				firstBad = append(firstBad, fmt.Sprintf("line %d delivered %d times, first at %s, not just before a SIGKILL", id, d.count, time.Unix(0, d.first).Format("15:04:05.000")))
			}
		}
	}
	for id := range got {
		if id < 0 || id >= written {
			junk++
		}
	}
	var maxWin, sumWin time.Duration
	for _, w := range r.windows {
		if lostInWindow > 0 {
			t.Logf("copytruncate run %s - %s", w.start.Format("15:04:05.000000"), w.end.Format("15:04:05.000000"))
		}
		d := w.end.Sub(w.start)
		sumWin += d
		maxWin = max(maxWin, d)
	}
	winText := "no copytruncate"
	if n := len(r.windows); n > 0 {
		winText = fmt.Sprintf("copytruncate window (logrotate's run) mean %s max %s over %d runs",
			(sumWin / time.Duration(n)).Round(time.Millisecond), maxWin.Round(time.Millisecond), n)
	}
	report := fmt.Sprintf("logrotate-report: mode=%s rotations=%d sigkills=%d written=%d lost=%d (in no file, written in a copytruncate run: %d; in a file: %d) duplicated=%d (in the last save interval before a SIGKILL: %d) junk=%d; %s",
		mode, r.rotations, len(r.kills), written, lost, lostInWindow, lostOnDisk, dup, dupAfterKill, junk, winText)
	t.Log(report)
	fmt.Println(report)
	for _, b := range firstBad {
		t.Error(b)
	}
	if junk > 0 {
		t.Errorf("%d delivered lines are not lines the writer wrote (compressed bytes read as text?)", junk)
	}
	if t.Failed() {
		t.Logf("follower output:\n%s", r.proc.Output())
		out, _ := exec.Command("ls", "-li", r.logs).CombinedOutput()
		t.Logf("log folder:\n%s", out)
	}
}

// idsOnDisk returns the ids of the lines that the files in the log folder
// hold, compressed ones decompressed: the truth of what the follower could
// have read, since no rotation is deleted.
func (r *rig) idsOnDisk() map[int]bool {
	ids := map[int]bool{}
	entries, err := os.ReadDir(r.logs)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(r.logs, e.Name()))
		if err != nil {
			r.t.Fatal(err)
		}
		var zr io.Reader
		switch {
		case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
			if zr, err = gzip.NewReader(bytes.NewReader(b)); err != nil {
				r.t.Fatalf("%s: %v", e.Name(), err)
			}
		case bytes.HasPrefix(b, []byte("BZh")):
			zr = bzip2.NewReader(bytes.NewReader(b))
		}
		if zr != nil {
			if b, err = io.ReadAll(zr); err != nil {
				r.t.Fatalf("%s: %v", e.Name(), err)
			}
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if id, err := lineID(line); err == nil {
				ids[id] = true
			}
		}
	}
	return ids
}

// inWindow reports whether a line written (its write returned) at at may
// have been written between a copytruncate's copy and its truncation.
func (r *rig) inWindow(at time.Time) bool {
	for _, w := range r.windows {
		if !at.Before(w.start) && !at.After(w.end.Add(writeEvery)) {
			return true
		}
	}
	return false
}

// afterKill reports whether a line first delivered at at lies in the last
// offset-save interval before a SIGKILL.
func (r *rig) afterKill(at time.Time) bool {
	for _, k := range r.kills {
		if !at.After(k) && k.Sub(at) <= follow.DefaultSaveInterval+500*time.Millisecond {
			return true
		}
	}
	return false
}

// writeEvery is the writer's pace: one write of the lines due, this often.
const writeEvery = 5 * time.Millisecond

// lineWriter appends lines with unique ids to the log, as a syslog
// daemon does: O_APPEND, whole lines per write, and a reopen when the file
// at its path is no longer the one it has open (as after postrotate's
// HUP; in copytruncate mode it never is).
type lineWriter struct {
	path string
	f    *os.File
	ino  uint64
	mu   sync.Mutex
	at   []int64 // when line id i was written (its write returned)
}

func newLineWriter(path string) (*lineWriter, error) {
	w := &lineWriter{path: path}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	w.f = f
	w.ino = inode(f)
	return w, nil
}

func inode(f *os.File) uint64 {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

// run writes rate lines a second until ctx is done.
func (w *lineWriter) run(ctx context.Context, rate int) error {
	defer w.f.Close()
	tick := time.NewTicker(writeEvery)
	defer tick.Stop()
	start := time.Now()
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := w.reopenIfRotated(); err != nil {
			return err
		}
		due := int(time.Since(start).Seconds()*float64(rate)) - w.count()
		if due <= 0 {
			continue
		}
		first := w.count()
		ts := time.Now().UTC().Format("Jan _2 15:04:05.000")
		buf = buf[:0]
		for id := first; id < first+due; id++ {
			buf = append(buf, ts...)
			buf = append(buf, " user.info cms1 host:server: INFO : API trace "...)
			buf = strconv.AppendInt(buf, int64(id), 10)
			buf = append(buf, `: GET for "/api/v1/system/status" (from 127.0.0.1)`+"\n"...)
		}
		if _, err := w.f.Write(buf); err != nil {
			return err
		}
		now := time.Now().UnixNano()
		w.mu.Lock()
		for range due {
			w.at = append(w.at, now)
		}
		w.mu.Unlock()
	}
}

// reopenIfRotated opens the file at the path if it is a new one.
func (w *lineWriter) reopenIfRotated() error {
	st, err := os.Stat(w.path)
	if err != nil {
		return nil // between logrotate's rename and create: keep writing to the old file
	}
	if st.Sys().(*syscall.Stat_t).Ino == w.ino {
		return nil
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil // gone again: next time
	}
	w.f.Close()
	w.f, w.ino = f, inode(f)
	return nil
}

func (w *lineWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.at)
}

func (w *lineWriter) writtenAt(id int) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Unix(0, w.at[id])
}

// lineID returns the id of one of the writer's lines.
func lineID(data string) (int, error) {
	const marker = "API trace "
	i := strings.Index(data, marker)
	if i < 0 {
		return 0, fmt.Errorf("not a test line: %q", data)
	}
	rest := data[i+len(marker):]
	j := strings.IndexByte(rest, ':')
	if j < 0 || !strings.HasSuffix(rest, `: GET for "/api/v1/system/status" (from 127.0.0.1)`) {
		return 0, fmt.Errorf("not a whole test line: %q", data)
	}
	return strconv.Atoi(rest[:j])
}

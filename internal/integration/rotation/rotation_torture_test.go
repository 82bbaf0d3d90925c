//go:build unix

// Package rotation tortures a real `leakwatch run` process with log
// rotation of every kind while a writer appends numbered lines at a high
// rate, and proves from leakwatch's own counters that no line is lost and
// that duplicates happen only where the follower's contract allows them
// (after a SIGKILL, the lines read since the last offset save).
//
// Files deleted by the test (the oldest rotated file, delete-recreate) free
// their inode numbers, which ext4 hands out again at once, so that a new
// file can carry the identity of one leakwatch saved in offsets.json. That
// case is also tested alone (TestRotatedFileInodeReusedWhileStopped);
// -torture.hold-deleted keeps a descriptor on every deleted file so that
// no number is reused, to torture everything else.
//
// The package holds tests only. Run it alone, for example
//
//	go test ./internal/integration/rotation -run Torture -v \
//	    -args -torture.rotations=200 -torture.rate=10000
package rotation

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

var (
	flagRotations  = flag.Int("torture.rotations", 200, "number of rotations of the followed log file")
	flagRate       = flag.Int("torture.rate", 10000, "lines written a second")
	flagStatsEvery = flag.Int("torture.stats-every", 5, "every Nth line is a Web Bridge Stats line (1: all)")
	flagInterval   = flag.Duration("torture.interval", 250*time.Millisecond, "writing time between two rotations")
	flagSeed       = flag.Uint64("torture.seed", 1, "seed of the order of the rotation kinds")
	flagHold       = flag.Bool("torture.hold-deleted", false, "keep a descriptor on every file the test deletes, so that the filesystem cannot reuse its inode number during the run")
)

// kind is one way of rotating the followed file.
type kind int

const (
	renameCreate     kind = iota // mv x.log x.log.1; the writer writes a little more to the old file, then creates x.log
	copyTruncate                 // cp x.log x.log.1; truncate x.log in place; the writer keeps its O_APPEND descriptor
	deleteRecreate               // rm x.log; the writer writes a little more to the deleted file, then creates x.log
	downRename                   // leakwatch stopped; lines written; rename rotation; lines written; leakwatch started
	downCopyTruncate             // leakwatch stopped; copytruncate; lines written; leakwatch started
	downDelete                   // leakwatch stopped; delete and recreate; lines written; leakwatch started
	numKinds
)

func (k kind) String() string {
	return [...]string{"rename-create", "copytruncate", "delete-recreate",
		"down+rename", "down+copytruncate", "down+delete"}[k]
}

// schedule returns n rotation kinds in a seeded random order: about a
// quarter each of the three live kinds and a twelfth each of the three
// kinds done while leakwatch is down, every kind at least once when n >= 6.
func schedule(n int, seed uint64) []kind {
	weights := [numKinds]int{3, 3, 3, 1, 1, 1} // out of 12
	var ks []kind
	for k := range numKinds {
		c := n * weights[k] / 12
		if c == 0 && n >= int(numKinds) {
			c = 1
		}
		for range c {
			ks = append(ks, k)
		}
	}
	for len(ks) < n {
		ks = append(ks, renameCreate)
	}
	ks = ks[:n]
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r.Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
	return ks
}

// mark is the number of lines written by some moment.
type mark struct {
	at   time.Time
	seen uint64 // lines_total of the running leakwatch, for scrape marks
	seq  uint64 // lines written, for write marks
}

// logWriter appends numbered lines to the followed file at a paced rate,
// as a syslog daemon does: one write of whole lines at a time, O_APPEND.
// Line number n (from 1) is a Web Bridge Stats line when n is a multiple of
// statsEvery, with the Stats c: counter set to n, so the last line
// leakwatch saw is readable from cms_webbridge_connections_total; the other
// lines are API trace noise carrying n as the trace number.
type logWriter struct {
	t          testing.TB
	path       string
	f          *os.File
	rate       int
	statsEvery uint64

	seq       uint64 // lines written, i.e. number of the last line
	stats     uint64 // Stats lines written
	lastStats uint64 // number of the last Stats line
	fileFirst uint64 // number of the first line of the current file
	lastTS    time.Time
	buf       []byte

	paceStart time.Time
	paceBase  uint64
	writes    []mark
}

func newLogWriter(t testing.TB, path string, rate, statsEvery int) *logWriter {
	w := &logWriter{t: t, path: path, rate: rate, statsEvery: uint64(statsEvery)}
	w.open()
	t.Cleanup(func() { w.f.Close() })
	return w
}

// open creates the file at path (it must not exist) and writes to it from now on.
func (w *logWriter) open() {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		w.t.Fatalf("creating %s: %v", w.path, err)
	}
	w.f = f
	w.fileFirst = w.seq + 1
}

// reopen closes the old descriptor (the file was rotated away) and creates
// a new file at path, as a logging daemon does on SIGHUP.
func (w *logWriter) reopen() {
	if err := w.f.Close(); err != nil {
		w.t.Fatalf("closing the rotated file: %v", err)
	}
	w.open()
}

// firstStatsOfFile is the number of the first Stats line of the current file.
func (w *logWriter) firstStatsOfFile() uint64 {
	return (w.fileFirst + w.statsEvery - 1) / w.statsEvery * w.statsEvery
}

// write appends n lines in one write.
func (w *logWriter) write(n int) {
	if n <= 0 {
		return
	}
	now := time.Now().UTC()
	if now.Before(w.lastTS) { // keep log time monotonic if the wall clock steps back
		now = w.lastTS
	}
	w.lastTS = now
	var hdr [64]byte
	h := now.AppendFormat(hdr[:0], "Jan _2 15:04:05.000")
	b := w.buf[:0]
	for range n {
		w.seq++
		b = append(b, h...)
		if w.seq%w.statsEvery == 0 {
			w.stats++
			w.lastStats = w.seq
			b = append(b, " user.info cms1 webbridge: INFO : [DEBUGGING] Stats "...)
			b = strconv.AppendUint(b, w.seq/w.statsEvery%120, 10)
			b = append(b, ", c:"...)
			b = strconv.AppendUint(b, w.seq, 10)
			b = append(b, ", d:"...)
			b = strconv.AppendUint(b, w.seq/2, 10)
		} else {
			b = append(b, " user.info cms1 host:server: INFO : API trace "...)
			b = strconv.AppendUint(b, w.seq, 10)
			b = append(b, `: GET for "/api/v1/system/status" (from 127.0.0.1)`...)
		}
		b = append(b, '\n')
	}
	w.buf = b
	if _, err := w.f.Write(b); err != nil {
		w.t.Fatalf("writing %s: %v", w.path, err)
	}
	w.writes = append(w.writes, mark{at: time.Now(), seq: w.seq})
}

// resume restarts pacing from now, so that a pause is not caught up in a burst.
func (w *logWriter) resume() {
	w.paceStart = time.Now()
	w.paceBase = w.seq
}

// pace writes the lines due at the configured rate since resume, at most a
// tenth of a second's worth at once.
func (w *logWriter) pace() {
	due := w.paceBase + uint64(time.Since(w.paceStart).Seconds()*float64(w.rate))
	if due > w.seq {
		w.write(int(min(due-w.seq, uint64(w.rate/10+1))))
	}
}

// writtenBetween returns the lines written in (from, to].
func (w *logWriter) writtenBetween(from, to time.Time) uint64 {
	var before, upto uint64
	for _, m := range w.writes {
		if !m.at.After(from) {
			before = m.seq
		}
		if !m.at.After(to) {
			upto = m.seq
		}
	}
	return upto - before
}

// shiftRotated moves x.log.1 to x.log.2 and so on, keeping three, as
// logrotate does before rotating x.log itself.
func (d *torture) shiftRotated() {
	const keep = 3
	d.remove(fmt.Sprintf("%s.%d", d.w.path, keep))
	for i := keep - 1; i >= 1; i-- {
		if err := os.Rename(fmt.Sprintf("%s.%d", d.w.path, i), fmt.Sprintf("%s.%d", d.w.path, i+1)); err != nil && !os.IsNotExist(err) {
			d.t.Fatal(err)
		}
	}
}

// remove deletes path if it exists. With -torture.hold-deleted it first
// opens it and keeps the descriptor, so that its inode stays allocated.
func (d *torture) remove(path string) {
	if *flagHold {
		if f, err := os.Open(path); err == nil {
			d.held = append(d.held, f)
		}
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		d.t.Fatal(err)
	}
}

// reopen makes the writer create a new file at its path after its file was
// rotated away, keeping the old descriptor with -torture.hold-deleted.
func (d *torture) reopen() {
	if *flagHold {
		d.held = append(d.held, d.w.f)
		d.w.open()
		return
	}
	d.w.reopen()
}

// copyTruncateFile copies path to path.1 and truncates path in place.
func copyTruncateFile(t testing.TB, path string) {
	src, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(path+".1", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
}

// torture drives the writer, the rotations and the leakwatch process, and
// keeps the books: every counter value of a finished leakwatch process is
// added to finished*, and dup* counts the lines read twice after a SIGKILL.
type torture struct {
	t     *testing.T
	in    *instance
	w     *logWriter
	proc  *harness.Process
	held  []*os.File // descriptors of deleted files, with -torture.hold-deleted
	trace []string   // what happened, logged when the test fails

	finishedLines, finishedStats uint64
	dupLines, dupStats           uint64
	scrapes                      []mark // scrapes of the running process

	done                  [numKinds]int
	stops, kills          int
	maxCatchUp, maxSeen   time.Duration
	totalCatchUp, seenSum time.Duration
	catchUps, seenWaits   int
}

func (d *torture) get() (scrape, bool) {
	s, ok := d.in.get()
	if ok {
		d.scrapes = append(d.scrapes, mark{at: time.Now(), seen: s.lines})
	}
	return s, ok
}

// expected returns what the running process must have counted once it has
// read everything written so far.
func (d *torture) expected() (lines, stats uint64) {
	return d.w.seq + d.dupLines - d.finishedLines, d.w.stats + d.dupStats - d.finishedStats
}

// start starts leakwatch and waits until it is ready (its files read to
// their end once).
func (d *torture) start() {
	d.t.Helper()
	d.proc = d.in.start(d.t)
	d.scrapes = d.scrapes[:0]
}

// catchUp waits, with the writer paused, until the running process has
// counted exactly every line and Stats line written (plus the known
// duplicates) and its newest Stats line is the last one written. More than
// expected fails at once: a duplicate the follower does not allow.
func (d *torture) catchUp(what string) {
	d.t.Helper()
	wantLines, wantStats := d.expected()
	begin := time.Now()
	deadline := begin.Add(60 * time.Second)
	var last scrape
	for {
		s, ok := d.get()
		if ok {
			last = s
			if s.lines > wantLines || s.stats > wantStats {
				d.t.Fatalf("%s: leakwatch counted %d lines and %d Stats lines, more than the %d and %d written (plus %d known duplicates): lines read twice",
					what, s.lines, s.stats, wantLines, wantStats, d.dupLines)
			}
			if s.malformed != 0 {
				d.t.Fatalf("%s: %d Stats lines counted as malformed", what, s.malformed)
			}
			if s.lines == wantLines && s.stats == wantStats && (wantStats == 0 || (s.hasConn && s.conn == d.w.lastStats)) {
				el := time.Since(begin)
				d.maxCatchUp = max(d.maxCatchUp, el)
				d.totalCatchUp += el
				d.catchUps++
				return
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: after 60s leakwatch counted %d of %d lines and %d of %d Stats lines (newest c:%d, want c:%d): %d lines lost",
				what, last.lines, wantLines, last.stats, wantStats, last.conn, d.w.lastStats, wantLines-last.lines)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSeen keeps writing until the running process has read a line of the
// current file. A file renamed or deleted before the follower ever saw it
// is not read (follow/doc.go, a documented limit that hourly or daily
// rotation never meets); rotating every quarter of a second on a loaded
// machine could meet it, so the test rotates only files leakwatch has seen.
func (d *torture) waitSeen() {
	d.t.Helper()
	want := d.w.firstStatsOfFile()
	begin := time.Now()
	deadline := begin.Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		if d.w.lastStats >= want && n%2 == 0 {
			if s, ok := d.get(); ok && s.hasConn && s.conn >= want {
				el := time.Since(begin)
				d.maxSeen = max(d.maxSeen, el)
				d.seenSum += el
				d.seenWaits++
				return
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("leakwatch read no line of %s (from line %d) within 30s", d.w.path, d.w.fileFirst)
		}
		<-tick.C
		d.w.pace()
	}
}

// writeFor writes at the paced rate for dur, scraping every scrapeEvery
// when it is not zero.
func (d *torture) writeFor(dur, scrapeEvery time.Duration) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(dur)
	var lastScrape time.Time
	for time.Now().Before(end) {
		d.w.pace()
		if scrapeEvery > 0 && time.Since(lastScrape) >= scrapeEvery {
			d.get()
			lastScrape = time.Now()
		}
		<-tick.C
	}
}

// stop stops leakwatch gracefully after it has read everything, and books
// its counts.
func (d *torture) stop(what string) {
	d.t.Helper()
	d.catchUp(what)
	if err := d.proc.Stop(20 * time.Second); err != nil {
		d.t.Fatalf("%s: leakwatch did not stop cleanly on SIGTERM: %v", what, err)
	}
	d.finishedLines, d.finishedStats = d.w.seq+d.dupLines, d.w.stats+d.dupStats
	d.stops++
}

// rotate rotates the followed file in the way k says, keeping the books
// exact: where a kind inherently loses lines (copytruncate, or deleting a
// file while leakwatch is down), the writer pauses or writes nothing in
// the window where they would be lost, so that any loss is a defect.
func (d *torture) rotate(k kind) {
	d.t.Helper()
	w := d.w
	path := w.path
	late := max(w.rate/100, 1) // lines a daemon writes to the old file before it reopens
	downBatch := max(w.rate/20, int(w.statsEvery))
	switch k {
	case renameCreate:
		d.waitSeen()
		d.shiftRotated()
		if err := os.Rename(path, path+".1"); err != nil {
			d.t.Fatal(err)
		}
		w.write(late)
		d.reopen()
	case deleteRecreate:
		d.waitSeen()
		d.remove(path)
		w.write(late)
		d.reopen()
	case copyTruncate:
		// Lines written between leakwatch's last read and the truncation
		// are only in the copy, which is not followed: an inherent loss of
		// copytruncate (follow/doc.go). To count exactly, the writer pauses
		// until leakwatch has read to the end, as the test can see from its
		// counters. The follower must still notice the truncation although
		// the writer refills the file at once, possibly past the old offset.
		d.catchUp("before copytruncate")
		d.shiftRotated()
		copyTruncateFile(d.t, path)
		w.write(late)
		w.resume()
	default:
		d.stop("before " + k.String())
		switch k {
		case downRename:
			// Lines written while down, then rotated away: leakwatch
			// finds the file under its new name by identity and finishes it.
			w.write(downBatch)
			d.shiftRotated()
			if err := os.Rename(path, path+".1"); err != nil {
				d.t.Fatal(err)
			}
			w.write(late)
			d.reopen()
		case downCopyTruncate:
			// No line between the stop and the truncation: those would be
			// only in the copy (inherent loss).
			d.shiftRotated()
			copyTruncateFile(d.t, path)
		case downDelete:
			// Likewise: lines written to a file deleted while down are gone.
			d.remove(path)
			d.reopen()
		}
		w.write(downBatch)
		d.start()
		w.resume()
	}
	d.done[k]++
	d.note("%s", k)
}

// note records an event with the lines written so far and the inode of
// every file in the log folder, for the log of a failed run.
func (d *torture) note(format string, args ...any) {
	var files []string
	ents, _ := os.ReadDir(filepath.Dir(d.w.path))
	for _, e := range ents {
		if info, err := e.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				files = append(files, fmt.Sprintf("%s=%d", e.Name(), st.Ino))
			}
		}
	}
	d.trace = append(d.trace, fmt.Sprintf("line %d: %s [%s]", d.w.seq, fmt.Sprintf(format, args...), strings.Join(files, " ")))
}

// kill writes at full rate for a while (scraping every 100 ms, to know how
// much leakwatch read in the last two seconds), rotates, pauses the writer
// until leakwatch has read everything, then kills it with SIGKILL, so that
// its last offsets are whatever it saved last, at most a second old. The
// restarted process reads again exactly the lines after those offsets: with
// the writer still paused, its counters at ready are the duplicates.
func (d *torture) kill() (dupLines, readBound, writtenBound uint64) {
	d.t.Helper()
	d.writeFor(2*time.Second, 100*time.Millisecond)
	d.rotate(renameCreate)
	// Offsets are saved every second from leakwatch's start, and the kill
	// would otherwise come at the same phase of that tick in every run:
	// vary it, so that runs see few and many duplicates.
	jitter := time.Duration(time.Now().UnixNano() % int64(time.Second))
	d.writeFor(300*time.Millisecond+jitter, 100*time.Millisecond)
	d.note("writing %s after the rotation", (300*time.Millisecond + jitter).Round(time.Millisecond))
	paused := time.Now()
	d.catchUp("before SIGKILL")
	d.proc.Kill()
	killed := time.Now()
	d.note("SIGKILL")
	d.kills++
	// Offsets are saved at least every second, so the lines read again are
	// at most those read in the last second or so before the kill: bound
	// them by what leakwatch read in the two seconds before it.
	var at2s uint64
	for _, m := range d.scrapes {
		if !m.at.After(killed.Add(-2 * time.Second)) {
			at2s = m.seen
		}
	}
	readBound = d.scrapes[len(d.scrapes)-1].seen - at2s
	writtenBound = d.w.writtenBetween(paused.Add(-2*time.Second), paused)
	d.finishedLines, d.finishedStats = d.w.seq+d.dupLines, d.w.stats+d.dupStats

	d.start()
	s := d.in.mustGet(d.t)
	if s.stats > 0 && s.conn != d.w.lastStats {
		d.t.Fatalf("after SIGKILL: leakwatch read %d lines again but stopped at c:%d, not at the last line c:%d",
			s.lines, s.conn, d.w.lastStats)
	}
	d.dupLines += s.lines
	d.dupStats += s.stats
	d.w.resume()
	return s.lines, readBound, writtenBound
}

// TestRotationTorture follows a file that is rotated in every way, with
// leakwatch stopped, started and killed in between, and proves from
// leakwatch's counters that it read every line exactly once, except the
// lines after its last saved offset when it was killed.
func TestRotationTorture(t *testing.T) {
	if testing.Short() {
		t.Skip("rotation torture takes minutes; skipped with -short")
	}
	if *flagRate < 100 || *flagStatsEvery < 1 || *flagRotations < 1 {
		t.Fatalf("bad flags: -torture.rate=%d (>= 100) -torture.stats-every=%d (>= 1) -torture.rotations=%d (>= 1)",
			*flagRate, *flagStatsEvery, *flagRotations)
	}
	began := time.Now()
	in := newInstance(t)
	d := &torture{t: t, in: in, w: newLogWriter(t, filepath.Join(in.logs, "cms.log"), *flagRate, *flagStatsEvery)}
	t.Cleanup(func() {
		for _, f := range d.held {
			f.Close()
		}
		if t.Failed() {
			t.Logf("what happened (line: event [file=inode ...]):\n%s", strings.Join(d.trace, "\n"))
		}
	})
	d.start()
	d.w.resume()

	kinds := schedule(*flagRotations, *flagSeed)
	var dups, readBound, writtenBound uint64
	for i, k := range kinds {
		d.writeFor(*flagInterval, 0)
		d.rotate(k)
		if i == len(kinds)/2 {
			dups, readBound, writtenBound = d.kill()
		}
	}
	d.writeFor(*flagInterval, 0)
	d.catchUp("at the end")
	final := d.in.mustGet(t)
	elapsed := time.Since(began)

	t.Logf("wrote %d lines (%d Stats) in %s, %.0f lines/s while writing; %d rotations (and a rename before the SIGKILL): %s",
		d.w.seq, d.w.stats, elapsed.Round(time.Second), float64(d.w.seq)/d.w.writes[len(d.w.writes)-1].at.Sub(d.w.writes[0].at).Seconds(),
		len(kinds), kindCounts(d.done))
	t.Logf("leakwatch stopped and started %d times, killed %d time(s); counted %d lines, %d Stats lines in all processes; newest c:%d of %d",
		d.stops, d.kills, d.finishedLines+final.lines, d.finishedStats+final.stats, final.conn, d.w.lastStats)
	t.Logf("after SIGKILL %d lines (%d Stats) were read again; leakwatch had read %d lines in the 2 s before the kill; %d lines were written in the 2 s before the writer paused",
		dups, d.dupStats, readBound, writtenBound)
	t.Logf("catch-up after a pause: mean %s, max %s (%d times); wait for a new file to be seen: mean %s, max %s (%d times)",
		(d.totalCatchUp / time.Duration(max(d.catchUps, 1))).Round(time.Millisecond), d.maxCatchUp.Round(time.Millisecond), d.catchUps,
		(d.seenSum / time.Duration(max(d.seenWaits, 1))).Round(time.Millisecond), d.maxSeen.Round(time.Millisecond), d.seenWaits)

	// catchUp has checked the exact counts at every pause; this is the
	// summary of the whole run.
	if got := d.finishedLines + final.lines; got != d.w.seq+d.dupLines {
		t.Errorf("lines counted by all leakwatch processes = %d, want %d written + %d read again after SIGKILL", got, d.w.seq, d.dupLines)
	}
	if got := d.finishedStats + final.stats; got != d.w.stats+d.dupStats {
		t.Errorf("Stats lines counted = %d, want %d written + %d read again", got, d.w.stats, d.dupStats)
	}
	if dups > readBound {
		t.Errorf("after SIGKILL %d lines were read again, more than the %d leakwatch read in the 2 s before the kill: offsets were not saved every second", dups, readBound)
	}
	if err := d.proc.Stop(20 * time.Second); err != nil {
		t.Errorf("leakwatch did not stop cleanly at the end: %v", err)
	}
}

func kindCounts(done [numKinds]int) string {
	var parts []string
	for k := range numKinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, done[k]))
	}
	return strings.Join(parts, ", ")
}

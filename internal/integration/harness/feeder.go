package harness

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Feeder appends current-time stats lines to a followed file, as a small
// CMS cluster would log them: host cms1's Web Bridge reports Sessions, and
// cms2's Call Bridge a CMA peak of 1 in a 10 s period that covers that
// sample, so the Web Bridge's leak is proven to be Sessions-1 (with
// model.peak_window 10s). Each batch also carries an older Call Bridge
// report, so that a freshly started leakwatch is past its model warm-up
// (one peak_window since the first sample) at once.
type Feeder struct {
	// Sessions is what cms1's Web Bridge reports from the next batch on.
	Sessions atomic.Int64

	t    testing.TB
	file string
	mu   sync.Mutex // one batch at a time, so that lines never interleave
	stop chan struct{}
	wg   sync.WaitGroup
}

// NewFeeder returns a feeder of file, which must exist; it stops at the end
// of the test.
func NewFeeder(t testing.TB, file string) *Feeder {
	f := &Feeder{t: t, file: file, stop: make(chan struct{})}
	t.Cleanup(func() {
		close(f.stop)
		f.wg.Wait()
	})
	return f
}

// Start writes one batch reporting sessions at once, then one every period
// until the test ends.
func (f *Feeder) Start(sessions int64, period time.Duration) {
	f.Set(sessions)
	f.wg.Go(func() {
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-f.stop:
				return
			case <-tick.C:
				f.WriteBatch()
			}
		}
	})
}

// Set changes what cms1 reports and writes one batch at once.
func (f *Feeder) Set(sessions int64) {
	f.Sessions.Store(sessions)
	f.WriteBatch()
}

// WriteBatch appends one batch of lines stamped now.
func (f *Feeder) WriteBatch() {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	stamp := func(d time.Duration) string { return now.Add(-d).UTC().Format("Jan _2 15:04:05.000") }
	n := f.Sessions.Load()
	lines := stamp(11*time.Second) + ` user.info cms2 host:server:  INFO : STATS: {"callLegs": "0/1", "CMA": "0/1"}` + "\n" +
		stamp(2*time.Second) + fmt.Sprintf(` user.info cms1 "webbridge": INFO : [DEBUGGING] Stats %d, c:%d, d:900`, n, 900+n) + "\n" +
		stamp(0) + ` user.info cms2 host:server:  INFO : STATS: {"callLegs": "0/1", "CMA": "0/1"}` + "\n"
	fh, err := os.OpenFile(f.file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		f.t.Errorf("feeding %s: %v", f.file, err)
		return
	}
	defer fh.Close()
	if _, err := fh.WriteString(lines); err != nil {
		f.t.Errorf("feeding %s: %v", f.file, err)
	}
}

// StartLeakwatch runs `leakwatch run --config cfgPath` with env added to
// its environment and HTTP on a free port of 127.0.0.1, and waits until it
// is ready; it fails the test at once if leakwatch exits first. It returns
// the process and its base URL.
func StartLeakwatch(t testing.TB, env []string, name, cfgPath string) (*Process, string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	url := "http://" + addr
	p := Start(t, env, Binary(t), "run", "--config", cfgPath, "--web.listen-address", addr)
	Eventually(t, 20*time.Second, name+" ready at "+url, func() bool {
		p.RequireRunning(t, name)
		code, _ := Get(url + "/-/ready")
		return code == 200
	})
	return p, url
}

// RequireRunning fails the test at once, with the output, if the process
// (named name in the message) has exited.
func (p *Process) RequireRunning(t testing.TB, name string) {
	t.Helper()
	select {
	case <-p.Done():
		t.Fatalf("%s exited:\n%s", name, p.Output())
	default:
	}
}

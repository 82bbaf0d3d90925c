package daemon

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
)

// TestFeederRejectsFutureStampedLines: live, a stats line stamped further
// ahead of its arrival than model.future_tolerance is rejected, counted per
// host, and logged once a minute per host with the reason.
func TestFeederRejectsFutureStampedLines(t *testing.T) {
	m, err := cluster.New(cluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 18, 10, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	counts := &counters{hostLog: newRateLimiter(time.Minute, 16)}
	f := newFeeder(SourceSyslog, time.UTC, m, counts, slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return now }, nil)
	f.feed([]byte(`Mar 18 10:00:00 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 40, c:100, d:60`), "10.0.0.1")
	for range 3 {
		f.feed([]byte(`Mar 19 10:00:00 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 149, c:100, d:60`), "10.0.0.1")
	}
	now = now.Add(30 * time.Second)
	f.feed([]byte(`Mar 18 10:00:30 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 41, c:101, d:60`), "10.0.0.1")

	s := m.Snapshot(now)
	if wb, _ := s.WebBridge("wb1"); wb.Sessions != 41 {
		t.Errorf("wb1 sessions = %d, want 41: the future-stamped lines must not pin it", wb.Sessions)
	}
	if len(s.Clocks) != 1 || s.Clocks[0].FutureRejected != 3 {
		t.Errorf("clocks = %+v, want wb1 with 3 rejected", s.Clocks)
	}
	if n := strings.Count(logs.String(), "model.future_tolerance"); n != 1 {
		t.Errorf("%d log lines about future-stamped lines, want 1 (rate-limited):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "host=wb1") {
		t.Errorf("log does not name the host:\n%s", logs.String())
	}
}

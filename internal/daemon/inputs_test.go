package daemon

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
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

// TestDepartureLoggedAndAuditedOnce: a discovered Web Bridge silent for
// longer than model.forget_after leaves the sums; the daemon logs and
// audits that once.
func TestDepartureLoggedAndAuditedOnce(t *testing.T) {
	m, err := cluster.New(cluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	al, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	var logs bytes.Buffer
	d := &Daemon{model: m, audit: al, log: slog.New(slog.NewTextHandler(&logs, nil))}
	t0 := time.Date(2026, 3, 18, 10, 0, 0, 0, time.UTC)
	counts := &counters{hostLog: newRateLimiter(time.Minute, 16)}
	f := newFeeder(SourceFiles, time.UTC, m, counts, d.log, func() time.Time { return t0 }, nil)
	f.feed([]byte(`Mar 18 10:00:00 user.info lab-wb "webbridge": INFO : [DEBUGGING] Stats 40, c:100, d:60`), "cms.log")
	later := t0.Add(25 * time.Hour)
	m.Snapshot(later)
	d.reportDepartures(later)
	d.reportDepartures(later)
	es, err := audit.ReadTail(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Event != audit.EventDeparted || es[0].Bridge != "lab-wb" || es[0].Reason != cluster.DepartedSilent {
		t.Errorf("audit = %+v, want one departed entry for lab-wb (forget_after)", es)
	}
	if n := strings.Count(logs.String(), "left the cluster sums"); n != 1 {
		t.Errorf("%d departure log lines, want 1:\n%s", n, logs.String())
	}
}

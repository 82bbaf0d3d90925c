package replay

import (
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
)

// TestFutureStampedLineDoesNotMoveTheClock: one Web Bridge line stamped a
// day ahead of the stream is rejected; replay's "now" stays with the stream,
// nothing goes stale, and the bridge's later lines keep updating it.
func TestFutureStampedLineDoesNotMoveTheClock(t *testing.T) {
	in := `Mar 18 10:00:02.000 user.info cb1 host:server:  INFO : STATS: {"CMA": "4/5"}
Mar 18 10:01:00.000 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 41, c:3401, d:3120
Mar 19 10:01:30.000 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 149, c:3401, d:3120
Mar 18 10:02:00.000 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 42, c:3402, d:3120
Mar 18 10:03:00.000 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 43, c:3403, d:3120
Mar 18 10:05:02.000 user.info cb1 host:server:  INFO : STATS: {"CMA": "4/5"}
`
	r, m := newReplayer(t)
	if err := r.Reader(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 18, 10, 5, 2, 0, time.UTC); !r.Now().Equal(want) {
		t.Errorf("now = %s, want %s (the stream's time, not the forged line's)", r.Now(), want)
	}
	if c := r.Counts(); c.FutureRejected != 1 || c.WebBridgeStats != 4 {
		t.Errorf("counts = %+v, want 1 future-stamped rejected of 4 web bridge stats", c)
	}
	s := m.Snapshot(r.Now())
	wb, _ := s.WebBridge("wb1")
	if wb.Sessions != 43 || wb.Stale || !s.Leak.Valid {
		t.Errorf("wb1 = %d sessions (stale %v), leak valid %v (%s); want 43, fresh, valid", wb.Sessions, wb.Stale, s.Leak.Valid, s.Leak.Reason)
	}
}

// TestGapInTheLogsMovesTheClock: when the logs really jump ahead (an hour
// with no lines), a second host's line confirms it, and nothing is lost.
func TestGapInTheLogsMovesTheClock(t *testing.T) {
	in := `Mar 18 10:00:02.000 user.info cb1 host:server:  INFO : STATS: {"CMA": "4/5"}
Mar 18 10:01:00.000 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 41, c:3401, d:3120
Mar 18 11:04:00.000 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 42, c:3402, d:3120
Mar 18 11:05:02.000 user.info cb1 host:server:  INFO : STATS: {"CMA": "4/5"}
Mar 18 11:05:30.000 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 43, c:3403, d:3120
`
	r, m := newReplayer(t)
	if err := r.Reader(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 18, 11, 5, 30, 0, time.UTC); !r.Now().Equal(want) {
		t.Errorf("now = %s, want %s", r.Now(), want)
	}
	if c := r.Counts(); c.FutureRejected != 0 {
		t.Errorf("counts = %+v, want nothing rejected after a real gap", c)
	}
	s := m.Snapshot(r.Now())
	if wb, _ := s.WebBridge("wb1"); wb.Sessions != 43 || wb.Stale {
		t.Errorf("wb1 = %+v, want 43 sessions, fresh", wb)
	}
}

// TestGapInASingleHostLog: with one host in the stream, its own next line
// confirms the jump.
func TestGapInASingleHostLog(t *testing.T) {
	in := `Mar 18 10:00:02.000 user.info cms1 host:server:  INFO : STATS: {"CMA": "4/5"}
Mar 18 10:01:00.000 user.info cms1 "webbridge": INFO : [DEBUGGING] Stats 41, c:3401, d:3120
Mar 18 12:00:02.000 user.info cms1 host:server:  INFO : STATS: {"CMA": "4/5"}
Mar 18 12:01:00.000 user.info cms1 "webbridge": INFO : [DEBUGGING] Stats 43, c:3403, d:3120
`
	r, _ := newReplayer(t)
	if err := r.Reader(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if c := r.Counts(); c.FutureRejected != 0 || !r.Now().Equal(time.Date(2026, 3, 18, 12, 1, 0, 0, time.UTC)) {
		t.Errorf("now %s, counts %+v; want 12:01 and nothing rejected", r.Now(), c)
	}
}

// TestHostsOutsideTheSumsDoNotMoveTheClock: two lab servers whose clocks
// run a day ahead confirmed each other's jump, moved replay's "now" a day,
// and left every listed bridge stale for the rest of the logs, so the
// what-if ordered nothing. Hosts the model does not count (unlisted,
// ignored) no longer take part in the clock; their lines ahead of the
// stream are rejected as future-stamped.
func TestHostsOutsideTheSumsDoNotMoveTheClock(t *testing.T) {
	in := `Mar 18 10:00:02.000 user.info cb1 host:server:  INFO : STATS: {"CMA": "4/5"}
Mar 18 10:01:00.000 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 41, c:3401, d:3120
Mar 19 10:01:10.000 user.info lab1 "webbridge": INFO : [DEBUGGING] Stats 149, c:5, d:1
Mar 19 10:01:11.000 user.info lab2 "webbridge": INFO : [DEBUGGING] Stats 149, c:5, d:1
Mar 19 10:01:12.000 user.info lab3 host:server:  INFO : STATS: {"CMA": "0/0"}
Mar 19 10:01:13.000 user.info lab4 host:server:  INFO : STATS: {"CMA": "0/0"}
Mar 18 10:02:00.000 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 42, c:3402, d:3120
Mar 18 10:03:00.000 user.info wb1 "webbridge": INFO : [DEBUGGING] Stats 43, c:3403, d:3120
Mar 18 10:05:02.000 user.info cb1 host:server:  INFO : STATS: {"CMA": "4/5"}
`
	for _, tc := range []struct {
		name string
		opts cluster.Options
	}{
		{"unlisted", cluster.Options{WebBridges: []cluster.Member{{Name: "wb1"}}, CallBridges: []cluster.Member{{Name: "cb1"}}}},
		{"ignored", cluster.Options{Ignore: []string{"LAB1", "lab2", "lab3", "lab4"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := cluster.New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			r := New(m, time.UTC, time.Date(2026, 3, 19, 0, 0, 0, 0, time.UTC))
			if err := r.Reader(strings.NewReader(in)); err != nil {
				t.Fatal(err)
			}
			if want := time.Date(2026, 3, 18, 10, 5, 2, 0, time.UTC); !r.Now().Equal(want) {
				t.Errorf("now = %s, want %s (the stream's time, not the lab servers')", r.Now(), want)
			}
			s := m.Snapshot(r.Now())
			wb, _ := s.WebBridge("wb1")
			if wb.Sessions != 43 || wb.Stale || !s.Leak.Valid {
				t.Errorf("wb1 = %d sessions (stale %v), leak valid %v (%s); want 43, fresh, valid", wb.Sessions, wb.Stale, s.Leak.Valid, s.Leak.Reason)
			}
		})
	}
}

package policy

import (
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/ledger"
)

// TestEngineDSTWeekends evaluates the engine across the spring-forward and
// fall-back Sundays of Europe/Berlin and America/New_York.
func TestEngineDSTWeekends(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		zone, window string
		at           string // UTC
		want         Reason
	}{
		// Berlin spring forward, 2025-03-30: clock jumps 02:00 CET -> 03:00 CEST at 01:00 UTC.
		{"Europe/Berlin", "Sun 02:00-04:00", "2025-03-30 00:59:59", ReasonOutsideWindow}, // 01:59:59 CET
		{"Europe/Berlin", "Sun 02:00-04:00", "2025-03-30 01:00:00", ReasonNone},          // 03:00 CEST
		{"Europe/Berlin", "Sun 02:00-04:00", "2025-03-30 01:59:59", ReasonNone},          // 03:59:59 CEST
		{"Europe/Berlin", "Sun 02:00-04:00", "2025-03-30 02:00:00", ReasonOutsideWindow}, // 04:00 CEST
		// Berlin fall back, 2025-10-26: 03:00 CEST -> 02:00 CET at 01:00 UTC.
		{"Europe/Berlin", "Sun 01:00-03:00", "2025-10-25 22:59:59", ReasonOutsideWindow}, // 00:59:59 CEST
		{"Europe/Berlin", "Sun 01:00-03:00", "2025-10-25 23:00:00", ReasonNone},          // 01:00 CEST
		{"Europe/Berlin", "Sun 01:00-03:00", "2025-10-26 00:30:00", ReasonNone},          // 02:30 CEST
		{"Europe/Berlin", "Sun 01:00-03:00", "2025-10-26 01:30:00", ReasonNone},          // 02:30 CET
		{"Europe/Berlin", "Sun 01:00-03:00", "2025-10-26 02:00:00", ReasonOutsideWindow}, // 03:00 CET
		// New York spring forward, 2025-03-09: 02:00 EST -> 03:00 EDT at 07:00 UTC.
		{"America/New_York", "Sun 02:00-04:00", "2025-03-09 06:59:59", ReasonOutsideWindow},
		{"America/New_York", "Sun 02:00-04:00", "2025-03-09 07:00:00", ReasonNone},
		{"America/New_York", "Sun 02:00-04:00", "2025-03-09 08:00:00", ReasonOutsideWindow},
		// New York fall back, 2025-11-02: 02:00 EDT -> 01:00 EST at 06:00 UTC.
		{"America/New_York", "Sun 01:00-03:00", "2025-11-02 04:59:59", ReasonOutsideWindow},
		{"America/New_York", "Sun 01:00-03:00", "2025-11-02 05:30:00", ReasonNone}, // 01:30 EDT
		{"America/New_York", "Sun 01:00-03:00", "2025-11-02 06:30:00", ReasonNone}, // 01:30 EST
		{"America/New_York", "Sun 01:00-03:00", "2025-11-02 07:59:59", ReasonNone}, // 02:59:59 EST
		{"America/New_York", "Sun 01:00-03:00", "2025-11-02 08:00:00", ReasonOutsideWindow},
	} {
		cfg := testConfig(t)
		cfg.Location = mustLoc(t, tc.zone)
		cfg.Windows = []Window{MustParseWindow(tc.window)}
		now := utc(tc.at)
		snap := shift(testSnapshot(testNow), now.Sub(testNow))
		e := NewEngine(cfg)
		led := ledger.NewMemory()
		e.Evaluate(shift(snap, -time.Hour), led, now.Add(-time.Hour))
		d := e.Evaluate(snap, led, now)[0]
		if d.Reason != tc.want {
			t.Errorf("%s %q at %s UTC (%s local): %s (%s), want %s", tc.zone, tc.window, tc.at,
				now.In(cfg.Location).Format("15:04:05 MST"), d.Reason, d.Detail, tc.want)
		}
	}
}

// FuzzParseWindow: parsing never panics, and an accepted window prints a
// canonical form that parses back to the same window.
func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"Sat 02:00-04:00", "Mon-Fri 01:00-03:00", "Sat,Sun 22:00-02:00", "daily 00:00-24:00", "01:00-05:00", "Fri-Mon 23:00-01:00", "x", "Mon-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s)
		if err != nil {
			return
		}
		back, err := ParseWindow(w.String())
		if err != nil || back != w {
			t.Fatalf("%q -> %q -> %+v, %v; want %+v", s, w.String(), back, err, w)
		}
	})
}

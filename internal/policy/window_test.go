package policy

import (
	"strings"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("loading zone %s: %v", name, err)
	}
	return loc
}

func TestParseWindow(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Sat 02:00-04:00", "Sat 02:00-04:00"},
		{"sat 02:00-04:00", "Sat 02:00-04:00"},
		{"Saturday 02:00-04:00", "Sat 02:00-04:00"},
		{"Mon-Fri 01:00-03:00", "Mon-Fri 01:00-03:00"},
		{"Sat,Sun 22:00-02:00", "Sat,Sun 22:00-02:00"},
		{"Fri-Mon 23:00-01:00", "Mon,Fri-Sun 23:00-01:00"},
		{"daily 01:00-05:00", "daily 01:00-05:00"},
		{"* 00:00-24:00", "daily 00:00-24:00"},
		{"01:00-05:00", "daily 01:00-05:00"},
		{"Mon,Wed,Fri 03:00-03:30", "Mon,Wed,Fri 03:00-03:30"},
		{"Mon-Sun 03:00-03:30", "daily 03:00-03:30"},
	} {
		w, err := ParseWindow(tc.in)
		if err != nil {
			t.Errorf("ParseWindow(%q): %v", tc.in, err)
			continue
		}
		if got := w.String(); got != tc.want {
			t.Errorf("ParseWindow(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseWindowErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "want \"[DAYS] HH:MM-HH:MM\""},
		{"Sat 02:00 04:00", "want \"[DAYS] HH:MM-HH:MM\""},
		{"Sam 02:00-04:00", `unknown day "Sam"`},
		{"Sat 02:00", "has no '-'"},
		{"Sat 2:00-04:00", "not HH:MM"},
		{"Sat 02:00-04:60", "MM 00-59"},
		{"Sat 24:00-04:00", "hour must be 00-23"},
		{"Sat 02:00-24:30", "24:00 exactly"},
		{"Sat 02:00-02:00", "start equals end"},
		{"Mon-Xyz 02:00-04:00", `unknown day "Xyz"`},
	} {
		_, err := ParseWindow(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseWindow(%q) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestWindowEdges(t *testing.T) {
	loc := mustLoc(t, "Europe/Berlin")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	// 2025-06-07 is a Saturday.
	for _, tc := range []struct {
		window, at string
		want       bool
	}{
		{"Sat 02:00-04:00", "2025-06-07 02:00:00", true},  // exactly at start
		{"Sat 02:00-04:00", "2025-06-07 01:59:59", false}, // one second before start
		{"Sat 02:00-04:00", "2025-06-07 03:59:59", true},  // one second before end
		{"Sat 02:00-04:00", "2025-06-07 04:00:00", false}, // end is exclusive
		{"Sat 02:00-04:00", "2025-06-08 03:00:00", false}, // Sunday
		{"Fri 23:00-01:00", "2025-06-06 23:30:00", true},  // Friday evening
		{"Fri 23:00-01:00", "2025-06-07 00:30:00", true},  // belongs to Friday's window
		{"Fri 23:00-01:00", "2025-06-07 01:00:00", false},
		{"Fri 23:00-01:00", "2025-06-06 00:30:00", false}, // Thursday's night: no window
		{"Sat 22:00-24:00", "2025-06-07 23:59:59", true},
		{"Sat 22:00-24:00", "2025-06-08 00:00:00", false},
		{"daily 00:00-24:00", "2025-06-08 00:00:00", true},
		{"Mon-Fri 01:00-03:00", "2025-06-09 02:00:00", true}, // Monday
		{"Mon-Fri 01:00-03:00", "2025-06-07 02:00:00", false},
	} {
		w := MustParseWindow(tc.window)
		if got := w.Contains(at(tc.at), loc); got != tc.want {
			t.Errorf("%q.Contains(%s) = %v, want %v", tc.window, tc.at, got, tc.want)
		}
	}
}

// TestWindowDST checks the spring-forward and fall-back Sundays: bounds
// resolve to the first instant the clock reads that time or later.
func TestWindowDST(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		name, zone, window string
		day                string // local date of the occurrence
		start, end         string // expected instants in UTC; empty = no occurrence
	}{
		// Berlin: 2025-03-30 02:00 CET -> 03:00 CEST (01:00 UTC).
		{"berlin spring 02-04", "Europe/Berlin", "Sun 02:00-04:00", "2025-03-30", "2025-03-30 01:00", "2025-03-30 02:00"},
		{"berlin spring in gap", "Europe/Berlin", "Sun 02:15-02:45", "2025-03-30", "", ""},
		{"berlin spring normal", "Europe/Berlin", "Sun 01:00-03:00", "2025-03-30", "2025-03-30 00:00", "2025-03-30 01:00"},
		// Berlin: 2025-10-26 03:00 CEST -> 02:00 CET (01:00 UTC).
		{"berlin autumn 01-03", "Europe/Berlin", "Sun 01:00-03:00", "2025-10-26", "2025-10-25 23:00", "2025-10-26 02:00"},
		{"berlin autumn ambiguous start", "Europe/Berlin", "Sun 02:30-04:00", "2025-10-26", "2025-10-26 00:30", "2025-10-26 03:00"},
		{"berlin autumn 02-04", "Europe/Berlin", "Sun 02:00-04:00", "2025-10-26", "2025-10-26 00:00", "2025-10-26 03:00"},
		// New York: 2025-03-09 02:00 EST -> 03:00 EDT (07:00 UTC).
		{"new york spring 02-04", "America/New_York", "Sun 02:00-04:00", "2025-03-09", "2025-03-09 07:00", "2025-03-09 08:00"},
		{"new york spring in gap", "America/New_York", "Sun 02:00-03:00", "2025-03-09", "", ""},
		// New York: 2025-11-02 02:00 EDT -> 01:00 EST (06:00 UTC).
		{"new york autumn 01-03", "America/New_York", "Sun 01:00-03:00", "2025-11-02", "2025-11-02 05:00", "2025-11-02 08:00"},
		{"new york autumn ambiguous start", "America/New_York", "Sun 01:30-03:00", "2025-11-02", "2025-11-02 05:30", "2025-11-02 08:00"},
		{"new york autumn ambiguous end", "America/New_York", "Sat 23:00-01:30", "2025-11-01", "2025-11-02 03:00", "2025-11-02 05:30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := mustLoc(t, tc.zone)
			w := MustParseWindow(tc.window)
			day, _ := time.Parse("2006-01-02", tc.day)
			s, e, ok := w.occurrence(day.Year(), day.Month(), day.Day(), loc)
			if tc.start == "" {
				if ok {
					t.Fatalf("occurrence = [%s, %s), want none", s.UTC(), e.UTC())
				}
				// And no instant of that day is inside.
				for m := 0; m < 24*60; m += 5 {
					tm := time.Date(day.Year(), day.Month(), day.Day(), 0, m, 0, 0, loc)
					if w.Contains(tm, loc) {
						t.Fatalf("Contains(%s) = true on a day the window is skipped", tm)
					}
				}
				return
			}
			if !ok || !s.Equal(utc(tc.start)) || !e.Equal(utc(tc.end)) {
				t.Fatalf("occurrence = [%s, %s) ok=%v, want [%s, %s)", s.UTC(), e.UTC(), ok, tc.start, tc.end)
			}
			for _, probe := range []struct {
				at   time.Time
				want bool
			}{
				{s.Add(-time.Second), false}, {s, true}, {e.Add(-time.Second), true}, {e, false},
			} {
				if got := w.Contains(probe.at, loc); got != probe.want {
					t.Errorf("Contains(%s) = %v, want %v", probe.at.UTC(), got, probe.want)
				}
			}
		})
	}
}

// TestWindowYearDurations walks a year of a daily 01:00-05:00 window: four
// hours every day, three on spring-forward day and five on fall-back day.
func TestWindowYearDurations(t *testing.T) {
	w := MustParseWindow("daily 01:00-05:00")
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "UTC", "Australia/Lord_Howe"} {
		loc := mustLoc(t, zone)
		short, long := 0, 0
		for d := 0; d < 365; d++ {
			s, e, ok := w.occurrence(2025, time.January, 1+d, loc)
			if !ok {
				t.Fatalf("%s day %d: no occurrence", zone, d)
			}
			switch dur := e.Sub(s); {
			case dur == 4*time.Hour:
			case dur < 4*time.Hour && dur >= 3*time.Hour:
				short++
			case dur > 4*time.Hour && dur <= 5*time.Hour:
				long++
			default:
				t.Fatalf("%s day %d: window lasts %s", zone, d, dur)
			}
		}
		wantShifts := 1
		if zone == "UTC" {
			wantShifts = 0
		}
		if zone == "Australia/Lord_Howe" { // shifts at 02:00, inside the window, by 30 minutes
			wantShifts = 1
		}
		if short != wantShifts || long != wantShifts {
			t.Errorf("%s: %d short and %d long days, want %d each", zone, short, long, wantShifts)
		}
	}
}

func TestWindowNext(t *testing.T) {
	loc := mustLoc(t, "Europe/Berlin")
	w := MustParseWindow("Sat 02:00-04:00")
	from := time.Date(2025, 6, 6, 12, 0, 0, 0, loc) // Friday noon
	got, ok := w.Next(from, loc)
	if want := time.Date(2025, 6, 7, 2, 0, 0, 0, loc); !ok || !got.Equal(want) {
		t.Errorf("Next(%s) = %s, %v; want %s", from, got, ok, want)
	}
	// From inside the window the next start is a week later.
	got, _ = w.Next(time.Date(2025, 6, 7, 3, 0, 0, 0, loc), loc)
	if want := time.Date(2025, 6, 14, 2, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("Next from inside = %s, want %s", got, want)
	}
	// A window that falls in the skipped hour on 2025-03-30 is next on 04-06.
	gap := MustParseWindow("Sun 02:15-02:45")
	got, _ = gap.Next(time.Date(2025, 3, 29, 12, 0, 0, 0, loc), loc)
	if want := time.Date(2025, 4, 6, 2, 15, 0, 0, loc); !got.Equal(want) {
		t.Errorf("Next over a skipped window = %s, want %s", got, want)
	}
}

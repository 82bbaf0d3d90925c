package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Window is a recurring maintenance window in local wall-clock time, such as
// "Sat 02:00-04:00", "Mon-Fri 01:00-03:00", "Sat,Sun 22:00-02:00" or
// "daily 01:00-05:00".
//
// Grammar: [DAYS ] HH:MM-HH:MM, where DAYS is "*", "daily", or a
// comma-separated list of days (Mon, Tue, ..., Sun; full names accepted, any
// case) and day ranges (Mon-Fri; a range may wrap, Fri-Mon). Omitting DAYS
// means every day. The end may be 24:00. An end earlier than the start means
// the window crosses midnight; it belongs to the day it starts on, so
// "Fri 23:00-01:00" runs from Friday 23:00 to Saturday 01:00. Start and end
// may not be equal (write 00:00-24:00 for a whole day).
//
// Daylight saving time: each bound is a wall-clock time and resolves to the
// first instant at which the local clock reads that time or later. A bound in
// the hour skipped on spring-forward day therefore resolves to the instant the
// clock jumps (a 02:00-04:00 window opens at 03:00 and lasts one hour; a
// window lying wholly in the skipped hour does not open that day). A bound in
// the hour repeated on fall-back day resolves to its first occurrence (a
// 01:00-03:00 window on that day lasts three hours).
type Window struct {
	days  uint8 // bit i set: window starts on time.Weekday(i)
	start int   // minutes after midnight, 0..1439
	end   int   // minutes after midnight, 0..1440
}

const allDays uint8 = 1<<7 - 1

var dayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

const windowHelp = `want "[DAYS] HH:MM-HH:MM" with DAYS "*", "daily", a day (Mon..Sun), a range (Mon-Fri) or a comma list (Sat,Sun)`

// ParseWindow parses a window such as "Mon-Fri 01:00-03:00". Its errors say
// what is allowed.
func ParseWindow(s string) (Window, error) {
	fields := strings.Fields(s)
	var daySpec, timeSpec string
	switch len(fields) {
	case 1:
		daySpec, timeSpec = "*", fields[0]
	case 2:
		daySpec, timeSpec = fields[0], fields[1]
	default:
		return Window{}, fmt.Errorf("window %q: %s", s, windowHelp)
	}
	days, err := parseDays(daySpec)
	if err != nil {
		return Window{}, fmt.Errorf("window %q: %w; %s", s, err, windowHelp)
	}
	a, b, ok := strings.Cut(timeSpec, "-")
	if !ok {
		return Window{}, fmt.Errorf("window %q: time range %q has no '-'; %s", s, timeSpec, windowHelp)
	}
	start, err := parseClock(a, false)
	if err != nil {
		return Window{}, fmt.Errorf("window %q: start: %w", s, err)
	}
	end, err := parseClock(b, true)
	if err != nil {
		return Window{}, fmt.Errorf("window %q: end: %w", s, err)
	}
	if start == end {
		return Window{}, fmt.Errorf("window %q: start equals end; write 00:00-24:00 for a whole day", s)
	}
	return Window{days: days, start: start, end: end}, nil
}

// MustParseWindow is ParseWindow for constants in tests and defaults; it
// panics on error.
func MustParseWindow(s string) Window {
	w, err := ParseWindow(s)
	if err != nil {
		panic(err)
	}
	return w
}

func parseDays(spec string) (uint8, error) {
	if spec == "*" || strings.EqualFold(spec, "daily") {
		return allDays, nil
	}
	var days uint8
	for item := range strings.SplitSeq(spec, ",") {
		a, b, isRange := strings.Cut(item, "-")
		from, err := parseDay(a)
		if err != nil {
			return 0, err
		}
		to := from
		if isRange {
			if to, err = parseDay(b); err != nil {
				return 0, err
			}
		}
		for d := from; ; d = (d + 1) % 7 {
			days |= 1 << d
			if d == to {
				break
			}
		}
	}
	return days, nil
}

func parseDay(s string) (int, error) {
	for i, name := range dayNames {
		full := time.Weekday(i).String()
		if strings.EqualFold(s, name) || strings.EqualFold(s, full) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown day %q", s)
}

// parseClock parses HH:MM into minutes after midnight; 24:00 only as an end.
func parseClock(s string, isEnd bool) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) != 2 || len(mm) != 2 {
		return 0, fmt.Errorf("%q is not HH:MM (two digits each, e.g. 02:00)", s)
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 {
		return 0, fmt.Errorf("%q is not HH:MM with HH 00-23 and MM 00-59", s)
	}
	if h == 24 && m == 0 && isEnd {
		return 24 * 60, nil
	}
	if h > 23 {
		if isEnd {
			return 0, fmt.Errorf("%q: hour must be 00-23, or 24:00 exactly", s)
		}
		return 0, fmt.Errorf("%q: hour must be 00-23", s)
	}
	return h*60 + m, nil
}

// String returns the window in canonical form, e.g. "Mon-Fri 01:00-03:00".
func (w Window) String() string {
	return w.daysString() + " " + clock(w.start) + "-" + clock(w.end)
}

func clock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

func (w Window) daysString() string {
	if w.days == allDays {
		return "daily"
	}
	// Emit runs of consecutive days Monday-first, as an operator writes them.
	order := [7]int{1, 2, 3, 4, 5, 6, 0}
	var parts []string
	for i := 0; i < 7; {
		if w.days&(1<<order[i]) == 0 {
			i++
			continue
		}
		j := i
		for j+1 < 7 && w.days&(1<<order[j+1]) != 0 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, dayNames[order[i]])
		case j == i+1:
			parts = append(parts, dayNames[order[i]], dayNames[order[j]])
		default:
			parts = append(parts, dayNames[order[i]]+"-"+dayNames[order[j]])
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// occurrence returns the instants [start, end) of the window occurrence that
// starts on the local calendar day y-m-d. ok is false when the window does not
// start on that weekday or the occurrence is empty (wholly inside a skipped
// hour).
func (w Window) occurrence(y int, m time.Month, d int, loc *time.Location) (start, end time.Time, ok bool) {
	day := time.Date(y, m, d, 12, 0, 0, 0, loc) // noon: never in a transition
	if w.days&(1<<day.Weekday()) == 0 {
		return time.Time{}, time.Time{}, false
	}
	start = resolveWall(y, m, d, w.start, loc)
	endDay := d
	if w.end <= w.start {
		endDay++
	}
	end = resolveWall(y, m, endDay, w.end, loc)
	return start, end, start.Before(end)
}

// Contains reports whether t lies in an occurrence of w in loc. Starts are
// inclusive, ends exclusive.
func (w Window) Contains(t time.Time, loc *time.Location) bool {
	_, _, ok := w.current(t, loc)
	return ok
}

// current returns the occurrence that contains t.
func (w Window) current(t time.Time, loc *time.Location) (start, end time.Time, ok bool) {
	lt := t.In(loc)
	// An occurrence is at most 25 hours long and ends on the day after its
	// start day at the latest, so only today's and yesterday's can hold t.
	for back := 1; back >= 0; back-- {
		y, m, d := lt.Date()
		s, e, ok := w.occurrence(y, m, d-back, loc)
		if ok && !t.Before(s) && t.Before(e) {
			return s, e, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// Next returns the start of the first occurrence of w that starts after t
// (strictly), searching eight days ahead; ok is false if none (impossible for
// a parsed window unless every candidate falls in skipped hours).
func (w Window) Next(t time.Time, loc *time.Location) (time.Time, bool) {
	lt := t.In(loc)
	y, m, d := lt.Date()
	for i := 0; i <= 8; i++ {
		s, _, ok := w.occurrence(y, m, d+i, loc)
		if ok && s.After(t) {
			return s, true
		}
	}
	return time.Time{}, false
}

// resolveWall returns the first instant at which the clock in loc reads
// y-m-d plus min minutes, or later (see Window for why).
func resolveWall(y int, m time.Month, d, min int, loc *time.Location) time.Time {
	want := time.Date(y, m, d, 0, min, 0, 0, time.UTC) // wall time as a naive value
	t := time.Date(y, m, d, 0, min, 0, 0, loc)
	got := naive(t)
	switch {
	case got.Equal(want):
		// The wall time exists. If the zone period holding t began with the
		// clock turned back, the same wall time may also exist just before.
		zoneStart, _ := t.ZoneBounds()
		if !zoneStart.IsZero() {
			_, prevOffset := zoneStart.Add(-time.Nanosecond).Zone()
			earlier := want.Add(-time.Duration(prevOffset) * time.Second)
			if earlier.Before(zoneStart) && naive(earlier.In(loc)).Equal(want) {
				return earlier.In(loc)
			}
		}
		return t
	case got.After(want):
		// Skipped: time.Date moved forward past the gap; the clock jumped at
		// the start of t's zone period.
		zoneStart, _ := t.ZoneBounds()
		return zoneStart.In(loc)
	default:
		// Skipped, and time.Date resolved before the gap: the jump is at the
		// end of t's zone period.
		_, zoneEnd := t.ZoneBounds()
		return zoneEnd.In(loc)
	}
}

// naive returns t's wall clock reading as a UTC value, for comparing wall times.
func naive(t time.Time) time.Time {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, m, d, h, mi, s, t.Nanosecond(), time.UTC)
}

package actuator

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/policy"
)

// memAudit collects entries in memory.
type memAudit struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (m *memAudit) Write(e audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

func (m *memAudit) events(ev audit.Event) []audit.Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []audit.Entry
	for _, e := range m.entries {
		if e.Event == ev {
			out = append(out, e)
		}
	}
	return out
}

func loadLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// randomWindows returns one to three random windows whose bounds avoid the
// hours daylight saving shifts (02:00-03:00), and an independent check of
// local time against them.
func randomWindows(rng *rand.Rand) ([]policy.Window, func(time.Time) bool) {
	hours := []int{0, 1, 4, 5, 6, 9, 12, 18, 22, 23}
	type spec struct {
		days       [7]bool
		start, end int
	}
	var specs []spec
	var wins []policy.Window
	for range 1 + rng.IntN(3) {
		var s spec
		var dayText string
		if rng.IntN(2) == 0 {
			s.days = [7]bool{true, true, true, true, true, true, true}
			dayText = "daily"
		} else {
			for d := range 7 {
				if rng.IntN(2) == 0 || d == 6 {
					s.days[d] = true
					if dayText != "" {
						dayText += ","
					}
					dayText += time.Weekday(d).String()[:3]
				}
			}
		}
		s.start = hours[rng.IntN(len(hours))]
		for s.end = s.start; s.end == s.start; {
			s.end = append(hours, 24)[rng.IntN(len(hours)+1)]
		}
		specs = append(specs, s)
		wins = append(wins, policy.MustParseWindow(fmt.Sprintf("%s %02d:00-%02d:00", dayText, s.start, s.end)))
	}
	in := func(l time.Time) bool {
		h, d := l.Hour(), int(l.Weekday())
		for _, s := range specs {
			if s.end > s.start {
				if s.days[d] && h >= s.start && h < s.end {
					return true
				}
			} else if s.days[d] && h >= s.start || s.days[(d+6)%7] && h < s.end {
				return true
			}
		}
		return false
	}
	return wins, in
}

package actuator

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/policy"
)

func loadLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestYearOfDecisions steps every five minutes over a year with three
// leaking Web Bridges, restarts clearing the leak, and an operator resetting
// tripped breakers two days later; every restart is checked against the
// invariants, and the leak must be kept well away from the limit.
func TestYearOfDecisions(t *testing.T) {
	if testing.Short() {
		t.Skip("a year of five-minute steps")
	}
	loc := loadLoc(t, "Europe/Berlin")
	cfg := policy.Config{
		Mode: policy.ModeEnforce, Threshold: 20, Sustain: 2 * time.Hour,
		Windows:  []policy.Window{policy.MustParseWindow("daily 01:00-05:00"), policy.MustParseWindow("Sat 10:00-14:00")},
		Location: loc, MaxActiveSessions: 5, Cooldown: 24 * time.Hour, MaxPerDay: 2,
		RecoverTimeout: 30 * time.Minute, FlapMax: 3, FlapPeriod: 7 * 24 * time.Hour,
	}
	w := newWorld(t, 2025, cfg, 3)
	for i, b := range w.bs {
		b.rate = []float64{0.08, 0.15, 0.3}[i]
	}
	w.inWin = func(t time.Time) bool {
		l := t.In(loc)
		return l.Hour() >= 1 && l.Hour() < 5 || l.Weekday() == time.Saturday && l.Hour() >= 10 && l.Hour() < 14
	}
	aud := &memAudit{}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, loc)
	newSimActuator(t, w, ledger.NewMemory(), aud, start)
	maxLeak := map[string]int64{}
	resets := 0
	runWorld(t, w, start, 365*24*time.Hour, func() time.Duration { return 5 * time.Minute }, func(now time.Time) {
		for _, b := range w.bs {
			maxLeak[b.name] = max(maxLeak[b.name], b.leaked)
		}
		for _, bs := range w.act.Status().Bridges {
			if bs.Breaker.Tripped && now.Sub(bs.Breaker.Since) >= 48*time.Hour {
				w.reset(bs.Name, now)
				resets++
			}
		}
	})
	t.Logf("%d restarts, %d breaker resets, max leak per bridge %v, %d audit entries", w.restarts, resets, maxLeak, len(aud.entries))
	if w.restarts < 30 {
		t.Errorf("only %d restarts in a year of leaking", w.restarts)
	}
	for name, m := range maxLeak {
		if m >= 100 {
			t.Errorf("%s leaked %d sessions at some point: the policy failed to keep it down", name, m)
		}
	}
	if got := len(aud.events("restart_started")); got != w.restarts {
		t.Errorf("%d restart_started audit entries, %d restarts", got, w.restarts)
	}
	if h := w.act.History(); len(h) == 0 || len(h) > ledger.MaxEntries {
		t.Errorf("ledger history holds %d entries", len(h))
	}
}

// TestObserveModeNeverActs runs the same world in observe mode for a
// quarter: decisions are made (would_restart appears) and nothing is ever
// restarted.
func TestObserveModeNeverActs(t *testing.T) {
	loc := loadLoc(t, "America/New_York")
	cfg := policy.Config{
		Mode: policy.ModeObserve, Threshold: 10, Sustain: time.Hour,
		Windows:  []policy.Window{policy.MustParseWindow("daily 00:00-24:00")},
		Location: loc, MaxActiveSessions: 1000, Cooldown: time.Hour, MaxPerDay: 24,
		RecoverTimeout: 30 * time.Minute, FlapMax: 100, FlapPeriod: 24 * time.Hour, EmergencyAtLimit: true,
	}
	w := newWorld(t, 7, cfg, 3)
	w.inWin = func(time.Time) bool { return true }
	aud := &memAudit{}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, loc)
	newSimActuator(t, w, ledger.NewMemory(), aud, start)
	runWorld(t, w, start, 90*24*time.Hour, func() time.Duration { return 10 * time.Minute }, nil)
	if w.restarts != 0 {
		t.Fatalf("observe mode called the Restarter %d times", w.restarts)
	}
	would := 0
	for _, e := range aud.events("decision") {
		if e.Decision == "would_restart" && e.Reason == string(policy.ReasonObserveMode) {
			would++
		}
		if e.Decision == "restart" {
			t.Fatalf("observe mode audited a restart decision: %+v", e)
		}
	}
	if would == 0 {
		t.Fatal("observe mode never said it would restart: the test world does not exercise it")
	}
}

// TestRandomHistories is the property test: random configurations, worlds,
// failures and operator resets, with every invariant checked at every
// restart.
func TestRandomHistories(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	zones := []string{"UTC", "Europe/Berlin", "America/New_York"}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 1))
			loc := loadLoc(t, zones[rng.IntN(len(zones))])
			wins, inWin := randomWindows(rng)
			cfg := policy.Config{
				Mode:              policy.ModeEnforce,
				Threshold:         5 + rng.Int64N(35),
				Sustain:           time.Duration(rng.IntN(240)) * time.Minute,
				Windows:           wins,
				Location:          loc,
				MaxActiveSessions: rng.Int64N(20),
				Cooldown:          time.Duration(rng.IntN(48)) * time.Hour,
				MaxPerDay:         1 + rng.IntN(4),
				RecoverTimeout:    time.Duration(10+rng.IntN(110)) * time.Minute,
				EmergencyAtLimit:  rng.IntN(2) == 0,
				FlapMax:           1 + rng.IntN(5),
				FlapPeriod:        time.Duration(1+rng.IntN(10)) * 24 * time.Hour,
			}
			w := newWorld(t, uint64(seed)+1000, cfg, 1+rng.IntN(4))
			w.inWin = func(t time.Time) bool { return inWin(t.In(loc)) }
			if rng.IntN(3) == 0 {
				w.failP = rng.Float64() * 0.2
			}
			if rng.IntN(3) == 0 {
				w.bs[0].brokenRestarts = true
			}
			start := time.Date(2025, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, 0, 0, loc)
			newSimActuator(t, w, ledger.NewMemory(), &memAudit{}, start)
			runWorld(t, w, start, 21*24*time.Hour, func() time.Duration {
				return time.Duration(1+rng.IntN(15)) * time.Minute
			}, func(now time.Time) {
				if rng.Float64() < 0.002 {
					for _, b := range w.bs {
						w.reset(b.name, now)
					}
				}
			})
			t.Logf("config %+v windows %v: %d restarts", cfg, cfg.Windows, w.restarts)
		})
	}
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

package sim

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

var (
	wbStatsRE = regexp.MustCompile(` (\S+) "?webbridge"?: +INFO +: \[DEBUG(?:GING)?\] Stats (\d+), c:(\d+), d:(\d+)$`)
	cbStatsRE = regexp.MustCompile(` (\S+) host:server: +INFO +: STATS: \{.*"CMA": "(\d+)/(\d+)"`)
)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("bad number %q: %v", s, err)
	}
	return n
}

// checkInvariants verifies the model's bookkeeping after an event.
func (s *Sim) checkInvariants(t *testing.T) {
	t.Helper()
	webrtc := make([]int, len(s.cbs))
	total := 0
	for wi := range s.wbs {
		w := &s.wbs[wi]
		sum := 0
		for ci, n := range s.g[wi] {
			if n < 0 {
				t.Fatalf("g[%d][%d] = %d", wi, ci, n)
			}
			sum += n
			webrtc[ci] += n
		}
		if sum != w.genuine {
			t.Fatalf("%s: genuine %d, sessions by call bridge sum to %d", w.Name, w.genuine, sum)
		}
		if w.leaked < 0 || w.genuine+w.leaked > w.Limit {
			t.Fatalf("%s: genuine %d + leaked %d outside [0, %d]", w.Name, w.genuine, w.leaked, w.Limit)
		}
		if w.c-w.d < int64(w.genuine+w.leaked) {
			t.Fatalf("%s: c %d - d %d below sessions %d", w.Name, w.c, w.d, w.genuine+w.leaked)
		}
		total += w.genuine
	}
	if total != s.totalGenuine {
		t.Fatalf("totalGenuine %d, bridges sum to %d", s.totalGenuine, total)
	}
	for ci := range s.cbs {
		c := &s.cbs[ci]
		if c.webrtc != webrtc[ci] {
			t.Fatalf("call bridge %d: webrtc %d, sessions placed on it %d", ci, c.webrtc, webrtc[ci])
		}
		if c.desktop < 0 || c.sipStd < 0 || c.sipPeer < 0 {
			t.Fatalf("call bridge %d: negative count %+v", ci, *c)
		}
		if c.peakCMA < c.cma() || c.peakLegs < c.legs() {
			t.Fatalf("call bridge %d: peak %d below current %d", ci, c.peakCMA, c.cma())
		}
	}
}

type wbSample struct {
	at      int64
	wb      int
	n       int
	leaked  int
	genuine int
}

type cbReport struct {
	at   int64
	x, y int
}

// TestTruthConsistent drives a leaking cluster through restarts and checks
// after every event that the books balance, that every Stats line prints
// genuine + leaked ≤ 149, that every STATS line prints X = WebRTC + desktop
// and Y = the true maximum of X since the previous report, and that the
// domain's per-bridge bound N - ΣY never exceeds the true leak.
func TestTruthConsistent(t *testing.T) {
	s, err := New(Config{
		Seed:          21,
		Start:         time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC),
		Leak:          map[string]float64{"cms1": 4, "cms3": 30},
		InitialLeak:   map[string]int{"cms3": 100},
		NoisePerStats: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	hostWB := map[string]int{}
	for i, w := range s.wbs {
		hostWB[w.Host] = i
	}
	hostCB := map[string]int{}
	for i, c := range s.cbs {
		hostCB[s.hosts[c.host].name] = i
	}
	maxX := make([]int, len(s.cbs))
	for i := range s.cbs {
		maxX[i] = s.cbs[i].cma()
	}
	s.afterEvent = func() {
		s.checkInvariants(t)
		for i := range s.cbs {
			maxX[i] = max(maxX[i], s.cbs[i].cma())
		}
	}
	var samples []wbSample
	reports := make([][]cbReport, len(s.cbs))
	emit := func(l []byte) {
		if m := wbStatsRE.FindSubmatch(l); m != nil {
			wi := hostWB[string(m[1])]
			w := &s.wbs[wi]
			n := atoi(t, string(m[2]))
			if n != w.genuine+w.leaked || n > 149 {
				t.Fatalf("%s printed Stats %d; genuine %d + leaked %d", w.Name, n, w.genuine, w.leaked)
			}
			if c := atoi(t, string(m[3])); int64(c) != w.c {
				t.Fatalf("%s printed c:%d, counter is %d", w.Name, c, w.c)
			}
			samples = append(samples, wbSample{at: s.now, wb: wi, n: n, leaked: w.leaked, genuine: w.genuine})
		}
		if m := cbStatsRE.FindSubmatch(l); m != nil {
			ci := hostCB[string(m[1])]
			c := &s.cbs[ci]
			x, y := atoi(t, string(m[2])), atoi(t, string(m[3]))
			if x != c.webrtc+c.desktop || x < c.webrtc {
				t.Fatalf("CMA X %d, want webrtc %d + desktop %d", x, c.webrtc, c.desktop)
			}
			if want := max(maxX[ci], c.cma()); y != want {
				t.Fatalf("CMA Y %d, true max of X over the period %d", y, want)
			}
			maxX[ci] = x // the next period starts from the current value
			reports[ci] = append(reports[ci], cbReport{at: s.now, x: x, y: y})
		}
	}
	for day := range 2 {
		for hour := range 24 {
			s.Advance(time.Hour, emit)
			if hour == 3 || (day == 1 && hour == 12) {
				if err := s.RestartWebBridge("cms3"); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if len(samples) < 2*24*60*3-10 {
		t.Fatalf("only %d Web Bridge samples", len(samples))
	}

	// The domain's bound, from what the lines say, against the truth.
	proven, positive := 0, 0
	for _, smp := range samples {
		sumY, covered := 0, true
		for ci := range s.cbs {
			r := coveringReport(reports[ci], smp.at, int64(s.cfg.CBInterval))
			if r == nil {
				covered = false
				break
			}
			sumY += r.y
		}
		if !covered {
			continue
		}
		proven++
		bound := max(0, smp.n-sumY)
		if bound > smp.leaked {
			t.Fatalf("sample of %s at %v: bound %d > true leak %d", s.wbs[smp.wb].Name, time.Unix(0, smp.at).UTC(), bound, smp.leaked)
		}
		if bound > 0 {
			positive++
		}
	}
	t.Logf("%d of %d samples covered, %d with a positive bound", proven, len(samples), positive)
	if proven < len(samples)*9/10 || positive == 0 {
		t.Errorf("%d of %d samples covered, %d with a positive bound; want most covered and some leak proven", proven, len(samples), positive)
	}
	tr := s.Truth()
	if w, _ := tr.WebBridge("cms3"); w.Restarts != 3 {
		t.Errorf("cms3 restarts = %d, want 3", w.Restarts)
	}
}

// coveringReport returns the report whose period (at-interval, at] holds t.
func coveringReport(rs []cbReport, t, interval int64) *cbReport {
	for i := range rs {
		if rs[i].at >= t {
			if rs[i].at-interval < t {
				return &rs[i]
			}
			return nil
		}
	}
	return nil
}

func TestLeakRate(t *testing.T) {
	s, err := New(Config{Seed: 5, Leak: map[string]float64{"cms2": 2}, NoisePerStats: -1})
	if err != nil {
		t.Fatal(err)
	}
	s.Advance(50*time.Hour, func([]byte) {})
	w, _ := s.Truth().WebBridge("cms2")
	// Poisson with mean 100: 60 and 140 are four standard deviations away.
	if w.Leaked < 60 || w.Leaked > 140 {
		t.Errorf("leaked %d in 50h at 2/h, want about 100", w.Leaked)
	}
}

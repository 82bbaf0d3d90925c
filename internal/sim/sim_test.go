package sim_test

import (
	"bytes"
	"crypto/sha256"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/sim"
)

func mustNew(t testing.TB, cfg sim.Config) *sim.Sim {
	t.Helper()
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// collect advances s by d and returns the lines produced.
func collect(s *sim.Sim, d time.Duration) []string {
	var lines []string
	s.Advance(d, func(l []byte) { lines = append(lines, string(l)) })
	return lines
}

func digest(s *sim.Sim, steps []time.Duration) [32]byte {
	h := sha256.New()
	for _, d := range steps {
		s.Advance(d, func(l []byte) {
			h.Write(l)
			h.Write([]byte{'\n'})
		})
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

func TestDeterministicForSeed(t *testing.T) {
	cfg := func(seed int64) sim.Config {
		return sim.Config{Seed: seed, ClockSkew: 2 * time.Second, Leak: map[string]float64{"cms2": 3}}
	}
	whole := digest(mustNew(t, cfg(7)), []time.Duration{6 * time.Hour})
	tests := []struct {
		name  string
		seed  int64
		steps []time.Duration
		same  bool
	}{
		{"same seed, one step", 7, []time.Duration{6 * time.Hour}, true},
		{"same seed, uneven steps", 7, []time.Duration{time.Second, 0, 17 * time.Minute, 2*time.Hour + 3*time.Millisecond, 6*time.Hour - 2*time.Hour - 17*time.Minute - time.Second - 3*time.Millisecond}, true},
		{"other seed", 8, []time.Duration{6 * time.Hour}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := digest(mustNew(t, cfg(tt.seed)), tt.steps)
			if (got == whole) != tt.same {
				t.Errorf("digest equal to reference = %v, want %v", got == whole, tt.same)
			}
		})
	}
}

func TestNoiseShare(t *testing.T) {
	s := mustNew(t, sim.Config{Seed: 3})
	stats := regexp.MustCompile(`(?:webbridge"?: +INFO +: \[DEBUG(?:GING)?\] Stats \d+, c:\d+, d:\d+$)|(?:host:server: +INFO +: STATS: \{)`)
	lines := collect(s, 24*time.Hour)
	n := 0
	for _, l := range lines {
		if (strings.Contains(l, "Stats ") || strings.Contains(l, "STATS: {")) && stats.MatchString(l) {
			n++
		}
	}
	// 3 WBs every minute and 2 CBs every 5 minutes over a day.
	wantStats := 3*24*60 + 2*24*12
	if n < wantStats-5 || n > wantStats+5 {
		t.Errorf("stats lines = %d, want about %d", n, wantStats)
	}
	noise := 1 - float64(n)/float64(len(lines))
	if noise < 0.985 || noise > 0.995 {
		t.Errorf("noise share = %.4f over %d lines, want about 0.99", noise, len(lines))
	}
}

// TestEveryHeaderFormAppears checks that a default day writes every form
// domain.md quotes, and the look-alikes.
func TestEveryHeaderFormAppears(t *testing.T) {
	s := mustNew(t, sim.Config{Seed: 11, ClockSkew: 2 * time.Second})
	lines := collect(s, 24*time.Hour)
	const host = `[a-z0-9]+`
	forms := []struct {
		name string
		re   string
	}{
		{"bsd with millis", `^[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d\.\d{3} user\.info ` + host + ` `},
		{"bsd without millis", `^[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d user\.info ` + host + ` `},
		{"bsd single-digit day padded", `^[A-Z][a-z]{2}  \d \d\d:\d\d:\d\d`},
		{"iso with millis", `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} (?:user|local0)\.info ` + host + ` `},
		{"pri prefix", `^<\d{1,3}>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d user\.info ` + host + ` `},
		{"receiver prepended", `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +User\.Info +` + host + ` +[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d ` + host + ` `},
		{"local0 facility", ` local0\.info ` + host + ` cli: +User admin from `},
		{"warning severity", ` user\.warning ` + host + ` host:server: +WARNING : rejecting login attempt`},
		{"padded error level", ` client_backend: +ERROR   : SamlManager : Invalid SSO login attempt$`},
		{"authp without level", ` authp: +Using authentication server `},
		{"two spaces after tag", ` host:server:  INFO : `},
		{"one space after tag", ` host:server: INFO : `},
		{"quoted webbridge stats", ` "webbridge": +INFO +: \[DEBUGGING\] Stats \d+, c:\d+, d:\d+$`},
		{"unquoted webbridge stats", ` webbridge: +INFO +: \[DEBUG(?:GING)?\] Stats \d+, c:\d+, d:\d+$`},
		{"[DEBUG] stats", `webbridge"?: +INFO +: \[DEBUG\] Stats \d+, c:\d+, d:\d+$`},
		{"call bridge stats", ` host:server: +INFO +: STATS: \{"callLegsPS": \d+, "callLegs": "\d+/\d+", "CMA": "\d+/\d+", "sip": \{"std": "\d+/\d+", "peer": "\d+/\d+"\}`},
		{"call bridge stats with unknown key", ` STATS: \{.*"xmpp": "\d+/\d+"\}$`},
		{"stats with pri", `^<14>.*\] Stats \d+, c:\d+, d:\d+$`},
		{"stats with receiver header", `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +User\.Info .*\[DEBUG(?:GING)?\] Stats \d+`},
		{"look-alike wb stats in a name", `webbridge"?: +INFO +: \[DEBUG(?:GING)?\] guest display name "Stats \d+, c:1, d:1" accepted$`},
		{"look-alike cb stats in sip trace", `SIP trace: Subject: STATS: \{"CMA"`},
		{"look-alike whole stats line in api trace", `API trace \d+: POST .* name="webbridge: INFO : \[DEBUGGING\] Stats 5, c:1, d:1"$`},
		{"look-alike participant", `participant "Stats \d+, c:1, d:1" joined`},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			re := regexp.MustCompile(f.re)
			for _, l := range lines {
				if re.MatchString(l) {
					return
				}
			}
			t.Errorf("no line matches %s in %d lines", f.re, len(lines))
		})
	}
}

func TestHostKeepsItsForm(t *testing.T) {
	s := mustNew(t, sim.Config{Seed: 5})
	lines := collect(s, 3*time.Hour)
	headers := []struct {
		name string
		re   *regexp.Regexp
	}{
		{"receiver", regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\S+ +(\S+) +[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d (\S+) `)},
		{"iso", regexp.MustCompile(`^\d{4}-\d\d-\d\dT\S+ \S+ (\S+) `)},
		{"pri", regexp.MustCompile(`^<\d+>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d \S+ (\S+) `)},
		{"bsd-millis", regexp.MustCompile(`^[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d\.\d{3} \S+ (\S+) `)},
		{"bsd", regexp.MustCompile(`^[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d \S+ (\S+) `)},
	}
	formOf := map[string]string{}
	for _, l := range lines {
		matched := false
		for _, h := range headers {
			m := h.re.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			matched = true
			if prev, ok := formOf[m[1]]; ok && prev != h.name {
				t.Fatalf("host %s wrote %s then %s: %q", m[1], prev, h.name, l)
			}
			formOf[m[1]] = h.name
			break
		}
		if !matched {
			t.Fatalf("line matches no header form: %q", l)
		}
	}
	if len(formOf) != 5 {
		t.Errorf("hosts seen = %v, want the 5 default hosts", formOf)
	}
}

func TestDecemberToJanuary(t *testing.T) {
	start := time.Date(2026, time.December, 31, 23, 30, 0, 0, time.UTC)
	s := mustNew(t, sim.Config{Seed: 2, Start: start, ClockSkew: 2 * time.Second})
	lines := collect(s, time.Hour)
	want := []string{"Dec 31 23:", "Jan  1 00:", "2026-12-31T23:", "2027-01-01T00:", "2026-12-31 23:", "2027-01-01 00:"}
	for _, w := range want {
		found := false
		for _, l := range lines {
			if strings.Contains(l, w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no line contains %q", w)
		}
	}
	if got := s.Now(); !got.Equal(start.Add(time.Hour)) {
		t.Errorf("Now() = %v, want %v", got, start.Add(time.Hour))
	}
}

func TestRestartWebBridge(t *testing.T) {
	s := mustNew(t, sim.Config{
		Seed:        4,
		Start:       time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC), // Tuesday office hours
		Leak:        map[string]float64{"cms2": 6},
		InitialLeak: map[string]int{"cms2": 60},
	})
	collect(s, 2*time.Hour)
	before := s.Truth()
	wb, _ := before.WebBridge("cms2")
	if wb.Genuine == 0 || wb.Leaked < 60 {
		t.Fatalf("before restart: genuine %d leaked %d, want both well above 0", wb.Genuine, wb.Leaked)
	}
	cmaBefore := 0
	for _, c := range before.CallBridges {
		cmaBefore += c.CMA
	}
	if err := s.RestartWebBridge("cms2"); err != nil {
		t.Fatalf("RestartWebBridge: %v", err)
	}
	after := s.Truth()
	got, _ := after.WebBridge("cms2")
	if got.Genuine != 0 || got.Leaked != 0 || got.Sessions != 0 || got.Up || got.Restarts != 1 {
		t.Errorf("after restart: %+v, want no sessions, down, 1 restart", got)
	}
	if got.Connections != wb.Connections || got.Disconnections != wb.Disconnections {
		t.Errorf("counters reset: c %d→%d d %d→%d, want unchanged", wb.Connections, got.Connections, wb.Disconnections, got.Disconnections)
	}
	cmaAfter := 0
	for _, c := range after.CallBridges {
		cmaAfter += c.CMA
	}
	if cmaBefore-cmaAfter != wb.Genuine {
		t.Errorf("CMA fell by %d, want the %d genuine sessions dropped", cmaBefore-cmaAfter, wb.Genuine)
	}
	if after.Reconnecting == 0 || after.Reconnecting > wb.Genuine {
		t.Errorf("reconnecting = %d, want in (0, %d]", after.Reconnecting, wb.Genuine)
	}

	// During the downtime cms2 writes no Stats; the CLI audit line comes first.
	stats := regexp.MustCompile(` cms2 "?webbridge"?: +INFO +: \[DEBUG(?:GING)?\] Stats (\d+),`)
	down := collect(s, 25*time.Second)
	if len(down) == 0 || !strings.Contains(down[0], " cms2 cli:") || !strings.Contains(down[0], "< webbridge restart>") {
		t.Errorf("first line after restart = %q, want the cli audit of webbridge restart on cms2", down[0])
	}
	for _, l := range down {
		if stats.MatchString(l) {
			t.Errorf("Stats while down: %q", l)
		}
	}
	var first []string
	for _, l := range collect(s, 3*time.Minute) {
		if m := stats.FindStringSubmatch(l); m != nil {
			first = append(first, m[1])
		}
	}
	if len(first) == 0 {
		t.Fatal("no Stats from cms2 after it came back")
	}
	tr, _ := s.Truth().WebBridge("cms2")
	if !tr.Up || tr.Leaked > 3 {
		t.Errorf("3 minutes after restart: up %v leaked %d, want up with at most a few new leaks", tr.Up, tr.Leaked)
	}

	if err := s.RestartWebBridge("nosuch"); err == nil {
		t.Error("RestartWebBridge(nosuch) succeeded, want an error")
	}
	if err := s.RestartWebBridge("cms3"); err != nil { // by hostname
		t.Errorf("RestartWebBridge by host: %v", err)
	}
}

func TestLeakReachesLimitAndRefuses(t *testing.T) {
	s := mustNew(t, sim.Config{Seed: 9, Leak: map[string]float64{"cms1": 20}, NoisePerStats: -1})
	collect(s, 5*24*time.Hour)
	tr := s.Truth()
	wb, _ := tr.WebBridge("cms1")
	if wb.Sessions != wb.Limit {
		t.Errorf("cms1 sessions = %d after 5 days at 20/h, want the limit %d", wb.Sessions, wb.Limit)
	}
	if wb.Refused == 0 {
		t.Error("cms1 refused no users while at its limit")
	}
	for _, name := range []string{"cms2", "cms3"} {
		w, _ := tr.WebBridge(name)
		if w.Leaked != 0 || w.Refused != 0 {
			t.Errorf("%s leaked %d refused %d, want 0 (no leak configured)", name, w.Leaked, w.Refused)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  sim.Config
		want string
	}{
		{"no web bridges", sim.Config{WebBridges: []sim.Bridge{}}, "WebBridges"},
		{"duplicate web bridge", sim.Config{WebBridges: []sim.Bridge{{Name: "a", Host: "h1"}, {Name: "a", Host: "h2"}}}, "duplicate"},
		{"two bridges on a host", sim.Config{WebBridges: []sim.Bridge{{Name: "a", Host: "h"}, {Name: "b", Host: "h"}}}, "already carries"},
		{"no call bridges", sim.Config{CallBridges: []string{}}, "CallBridges"},
		{"leak of unknown bridge", sim.Config{Leak: map[string]float64{"cms9": 1}}, `Leak["cms9"]`},
		{"negative leak", sim.Config{Leak: map[string]float64{"cms1": -1}}, "negative rate"},
		{"initial leak of unknown bridge", sim.Config{InitialLeak: map[string]int{"x": 1}}, `InitialLeak["x"]`},
		{"negative interval", sim.Config{WBInterval: -time.Second}, "WBInterval"},
		{"other host is a bridge", sim.Config{OtherHosts: []string{"cms1"}}, "OtherHosts[0]"},
		{"unknown header", sim.Config{Forms: map[string]sim.Form{"cms1": {Header: 99}}}, "Forms"},
		{"negative skew", sim.Config{ClockSkew: -time.Second}, "ClockSkew"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sim.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNoNoise(t *testing.T) {
	s := mustNew(t, sim.Config{Seed: 1, NoisePerStats: -1})
	for _, l := range collect(s, time.Hour) {
		if !bytes.Contains([]byte(l), []byte("Stats ")) && !strings.Contains(l, "STATS: {") {
			t.Fatalf("noise line with NoisePerStats < 0: %q", l)
		}
	}
}

// TestConcurrentRestart is the demo's situation: one goroutine writes the
// log while the fake MMP restarts a bridge and a test reads the truth.
func TestConcurrentRestart(t *testing.T) {
	s := mustNew(t, sim.Config{Seed: 6, Leak: map[string]float64{"cms1": 5}})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			s.Advance(time.Minute, func([]byte) {})
		}
	}()
	for range 10 {
		if err := s.RestartWebBridge("cms1"); err != nil {
			t.Error(err)
		}
		if tr := s.Truth(); len(tr.WebBridges) != 3 {
			t.Errorf("truth has %d web bridges", len(tr.WebBridges))
		}
	}
	wg.Wait()
	if w, _ := s.Truth().WebBridge("cms1"); w.Restarts != 10 {
		t.Errorf("restarts = %d, want 10", w.Restarts)
	}
}

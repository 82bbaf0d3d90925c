package actuator

// The property test of issue 9: leakwatch's parser, cluster model, policy and
// actuator run together over random simulated histories (internal/sim), and
// every restart, breaker trip and open window is checked against the ground
// truth the simulator knows: real sessions, leaked sessions, the lines it
// really wrote and the restarts it applied. The oracle reads only the truth,
// never the model's numbers.

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/logline"
	"github.com/leakwatch/leakwatch/internal/policy"
	"github.com/leakwatch/leakwatch/internal/sim"
)

var (
	propDuration   = flag.Duration("property.duration", 0, "time budget of TestProperty (default 15s, 3s with -short)")
	propIterations = flag.Int("property.iterations", 0, "run exactly this many random histories instead of a time budget")
	propSeed       = flag.Uint64("property.seed", 0, "run only the history of this seed, as a failure prints it")
	propHeldBack   = flag.Bool("property.held-back", false, "switch on the hazards held back until a known defect is fixed")
)

// hazard is one way the simulated syslog lies; a history has a set of them.
type hazard uint

const (
	hzSkew      hazard = 1 << iota // fixed clock skew between hosts, within the model's clock_skew
	hzJitter                       // irregular Call Bridge reports
	hzLoss                         // lost Call Bridge reports
	hzSilence                      // hosts gone silent for a while
	hzHand                         // Web Bridges restarted by hand, counters back to zero
	hzStray                        // a lab host writing stats lines of its own
	hzLookalike                    // look-alike hostnames: cms-wbl, cms-wb1.
	hzFuture                       // lines stamped ahead, a forged Stats 149 among them
	hzPast                         // lines stamped behind
	hzDuplicate                    // lines written twice

	allHazards = hzDuplicate<<1 - 1
)

var hazardNames = []string{"skew", "jitter", "loss", "silence", "hand-restart", "stray", "look-alike", "future-stamp", "past-stamp", "duplicate"}

func (h hazard) String() string {
	var names []string
	for i, n := range hazardNames {
		if h&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// heldBack are hazards that make the test fail only because of a defect of
// issue 9 that is being fixed elsewhere. They stay off (unless
// -property.held-back) until the fix lands; then their entry goes.
var heldBack = map[hazard]string{}

// scenario is one random history: a cluster, its hazards and a policy.
type scenario struct {
	seed    uint64
	hazards hazard
	sim     sim.Config
	model   cluster.Options
	policy  policy.Config
	inWin   func(time.Time) bool // independent of policy.Window
	span    time.Duration
	tick    time.Duration
	// silences are the spans in which some host wrote no stats.
	silences []sim.Silence
}

// newScenario draws a history from seed. Every draw is made whatever the
// hazard set, so a scenario without some hazard is the same history minus
// that hazard.
func newScenario(seed uint64, hazards hazard) scenario {
	rng := rand.New(rand.NewPCG(seed, 0x70726f7065727479))
	sc := scenario{seed: seed, hazards: hazards, tick: 10 * time.Second}
	locs := []string{"UTC", "Europe/Berlin", "America/New_York"}
	loc, err := time.LoadLocation(locs[rng.IntN(len(locs))])
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, loc)
	sc.span = time.Duration(2+rng.IntN(5)) * 24 * time.Hour

	nWB, nCB := 1+rng.IntN(4), 1+rng.IntN(3)
	cfg := sim.Config{Seed: int64(seed), Start: start, NoisePerStats: 1, OtherHosts: []string{"cms-rec1"},
		Leak: map[string]float64{}, InitialLeak: map[string]int{}}
	for i := range nWB {
		name := fmt.Sprintf("cms-wb%d", i+1)
		cfg.WebBridges = append(cfg.WebBridges, sim.Bridge{Name: name, Host: name})
		sc.model.WebBridges = append(sc.model.WebBridges, cluster.Member{Name: name, Restartable: true})
		if rng.IntN(4) != 0 {
			cfg.Leak[name] = 0.2 + 4*rng.Float64()*rng.Float64()
		}
		cfg.InitialLeak[name] = rng.IntN(120)
	}
	combined := rng.IntN(3) == 0
	for i := range nCB {
		name := fmt.Sprintf("cms-cb%d", i+1)
		if i == 0 && combined {
			name = "cms-wb1"
		}
		cfg.CallBridges = append(cfg.CallBridges, name)
		sc.model.CallBridges = append(sc.model.CallBridges, cluster.Member{Name: name})
	}
	cfg.PeakSessions = float64(nWB) * (5 + 35*rng.Float64())
	cfg.NightFraction = 0.005 + 0.05*rng.Float64()
	cfg.DesktopShare = 0.05 + 0.4*rng.Float64()

	// Hazards, drawn in full and kept only if the set has them.
	hosts := append(slices.Clone(cfg.CallBridges), "cms-wb1")
	for _, b := range cfg.WebBridges[1:] {
		hosts = append(hosts, b.Host)
	}
	at := func() time.Time { return start.Add(time.Duration(rng.Int64N(int64(sc.span)))) }
	// The hosts' clocks are off by up to the model's clock_skew, which is
	// the default or set wider.
	maxSkew := []time.Duration{cluster.DefaultClockSkew, 30 * time.Second, 90 * time.Second}[rng.IntN(3)]
	skew := time.Duration(rng.Int64N(int64(maxSkew) + 1))
	hz := sim.Hazards{
		CBJitter:           time.Duration(rng.Int64N(int64(2 * time.Minute))),
		CBLoss:             0.01 + 0.1*rng.Float64(),
		HandRestartsPerDay: 0.1 + rng.Float64(),
		Misstamp:           0.0005 + 0.003*rng.Float64(),
		MisstampOffsets:    []time.Duration{-24 * time.Hour, -time.Hour, -10 * time.Minute, -90 * time.Second},
		Duplicate:          0.05 * rng.Float64(),
	}
	var silences []sim.Silence
	for range 1 + rng.IntN(3) {
		from := at()
		silences = append(silences, sim.Silence{Host: hosts[rng.IntN(len(hosts))], From: from,
			To: from.Add(5*time.Minute + time.Duration(rng.Int64N(int64(4*time.Hour))))})
	}
	var strays, lookalikes, forged []sim.Stray
	for range 1 + rng.IntN(2) {
		from := at()
		strays = append(strays, sim.Stray{Host: "cms-lab1", CallBridge: rng.IntN(2) == 0, From: from,
			To: from.Add(3*time.Minute + time.Duration(rng.Int64N(int64(6*time.Hour)))), Sessions: rng.IntN(150)})
	}
	for _, name := range []string{"cms-wbl", "cms-wb1."} {
		from := at()
		lookalikes = append(lookalikes, sim.Stray{Host: name, CallBridge: rng.IntN(3) == 0, From: from,
			To: from.Add(time.Minute + time.Duration(rng.Int64N(int64(2*time.Hour)))), Sessions: []int{0, 149}[rng.IntN(2)]})
	}
	var misstamps []sim.Misstamp
	for range 1 + rng.IntN(3) {
		misstamps = append(misstamps, sim.Misstamp{Host: hosts[rng.IntN(len(hosts))], At: at(),
			Offset: []time.Duration{24 * time.Hour, time.Hour, 10 * time.Minute}[rng.IntN(3)]})
	}
	from := at()
	forged = append(forged, sim.Stray{Host: cfg.WebBridges[rng.IntN(nWB)].Host, From: from, To: from.Add(time.Minute),
		Sessions: 149, Offset: 24 * time.Hour})

	if hazards&hzSkew != 0 {
		cfg.ClockSkew = skew
		if maxSkew != cluster.DefaultClockSkew {
			sc.model.ClockSkew = maxSkew
		}
	}
	if hazards&hzJitter == 0 {
		hz.CBJitter = 0
	}
	if hazards&hzLoss == 0 {
		hz.CBLoss = 0
	}
	if hazards&hzSilence != 0 {
		hz.Silences, sc.silences = silences, silences
	}
	if hazards&hzHand == 0 {
		hz.HandRestartsPerDay = 0
	}
	if hazards&hzStray != 0 {
		hz.Strays = append(hz.Strays, strays...)
	}
	if hazards&hzLookalike != 0 {
		hz.Strays = append(hz.Strays, lookalikes...)
	}
	if hazards&hzFuture != 0 {
		hz.Misstamps = misstamps
		hz.Strays = append(hz.Strays, forged...)
	}
	if hazards&hzPast == 0 {
		hz.Misstamp = 0
	}
	if hazards&hzDuplicate == 0 {
		hz.Duplicate = 0
	}
	cfg.Hazards = hz
	sc.sim = cfg

	wins, in := randomWindows(rng)
	sc.inWin = func(t time.Time) bool { return in(t.In(loc)) }
	sc.policy = policy.Config{
		Mode:              policy.ModeEnforce,
		Threshold:         5 + rng.Int64N(36),
		Sustain:           time.Duration(rng.IntN(121)) * time.Minute,
		Windows:           wins,
		Location:          loc,
		MaxActiveSessions: rng.Int64N(21),
		Cooldown:          time.Duration(rng.IntN(25)) * time.Hour,
		MaxPerDay:         1 + rng.IntN(12),
		RecoverTimeout:    time.Duration(10+rng.IntN(51)) * time.Minute,
		EmergencyAtLimit:  rng.IntN(2) == 0,
		FlapMax:           2 + rng.IntN(5),
		FlapPeriod:        time.Duration(1+rng.IntN(4)) * 24 * time.Hour,
	}
	if rng.IntN(8) == 0 {
		sc.policy.Mode = policy.ModeObserve
	}
	if seed%3 == 0 {
		// A quiet cluster with room in the guards, where liveness can be
		// checked: nights nearly empty, a nightly window, a budget for
		// every bridge, never flapping.
		sc.sim.NightFraction, sc.sim.DesktopShare = 0.002, 0.05
		sc.policy.Windows = append(sc.policy.Windows, policy.MustParseWindow("daily 00:00-05:00"))
		in := sc.inWin
		sc.inWin = func(t time.Time) bool { return in(t) || t.In(loc).Hour() < 5 }
		sc.policy.MaxActiveSessions = max(sc.policy.MaxActiveSessions, 8)
		sc.policy.MaxPerDay = max(sc.policy.MaxPerDay, 2*nWB)
		sc.policy.Cooldown = min(sc.policy.Cooldown, 6*time.Hour)
		sc.policy.FlapMax = max(sc.policy.FlapMax, 8)
	}
	return sc
}

func (sc *scenario) String() string {
	p := sc.policy
	var wins []string
	for _, w := range p.Windows {
		wins = append(wins, w.String())
	}
	var wbs []string
	for _, b := range sc.sim.WebBridges {
		wbs = append(wbs, fmt.Sprintf("%s (leak %.2f/h from %d)", b.Name, sc.sim.Leak[b.Name], sc.sim.InitialLeak[b.Name]))
	}
	return fmt.Sprintf("seed %d, hazards %s, %s from %s\n  web bridges %s; call bridges %v; peak %.0f sessions\n"+
		"  policy %s threshold %d sustain %s windows %q (%s) max_active %d cooldown %s max_per_day %d recover %s emergency %v flap %d/%s",
		sc.seed, sc.hazards, sc.span, sc.sim.Start.Format(time.RFC3339), strings.Join(wbs, ", "), sc.sim.CallBridges, sc.sim.PeakSessions,
		p.Mode, p.Threshold, p.Sustain, wins, p.Location, p.MaxActiveSessions, p.Cooldown, p.MaxPerDay, p.RecoverTimeout,
		p.EmergencyAtLimit, p.FlapMax, p.FlapPeriod)
}

// violation is an invariant that failed, at true time at.
type violation struct {
	at   time.Time
	what string
}

// event is one entry of a run's trace.
type event struct {
	at     time.Time
	bridge string // "" for the whole cluster
	what   string
}

// runner runs one scenario: the simulator writes lines, leakwatch reads
// them and acts, and its Restarter restarts the simulated bridge.
type runner struct {
	sc     scenario
	s      *sim.Sim
	model  *cluster.Model
	act    *Actuator
	parser *logline.Parser
	line   logline.Line
	stopAt time.Time
	// deadline, when set, is the wall-clock time the run must end by.
	deadline time.Time

	now   time.Time
	truth sim.Truth
	start time.Time

	trace      []event
	hazards    []hazardEvent        // every traced hazard, in order
	handAt     map[string]time.Time // latest hand restart per bridge
	restarts   []event              // leakwatch's restarts, as applied to the simulation
	lastOf     map[string]time.Time // latest leakwatch restart per bridge
	restarted  string               // bridge restarted in the current step
	loads      []loadAt             // recent cluster loads, for a window's start
	quietSince map[string]time.Time // start of each bridge's quiet stretch
	windows    int                  // quiet stretches that reached the liveness deadline
	liveOK     int                  // quiet stretches ended by a restart of their bridge
	would      int                  // would_restart decisions audited (observe mode)
	decisions  map[string][]event   // the last few decisions of each bridge
	skipped    map[string]int
	violations []violation
}

type loadAt struct {
	at   time.Time
	load int64
}

const maxTrace = 4000

// traceSpan is how far back a failure's trace goes.
var traceSpan = 30 * time.Minute

func (r *runner) tracef(at time.Time, bridge, format string, args ...any) {
	if len(r.trace) == maxTrace {
		r.trace = append(r.trace[:0], r.trace[maxTrace/2:]...)
	}
	r.trace = append(r.trace, event{at: at, bridge: bridge, what: fmt.Sprintf(format, args...)})
}

func (r *runner) violatef(bridge, format string, args ...any) {
	what := fmt.Sprintf(format, args...)
	r.violations = append(r.violations, violation{at: r.now, what: what})
	r.tracef(r.now, bridge, "VIOLATION: %s", what)
}

// newRunner builds the scenario's simulation and leakwatch.
func newRunner(sc scenario, stopAt time.Time) (*runner, error) {
	r := &runner{sc: sc, stopAt: stopAt, skipped: map[string]int{}, decisions: map[string][]event{}, quietSince: map[string]time.Time{}, handAt: map[string]time.Time{}, lastOf: map[string]time.Time{}}
	cfg := sc.sim
	cfg.Hazards.Trace = func(at time.Time, what string) {
		e := hazardEvent{at: at, what: what}
		f := strings.Fields(what)
		switch {
		case strings.Contains(what, "restarted by hand"):
			e.host = f[2]
			r.handAt[e.host] = at
		case strings.HasPrefix(what, "report of call bridge"):
			e.host, e.lost = f[4], true
		case strings.HasPrefix(what, "line of"):
			e.host = f[2]
		case strings.HasPrefix(what, "stray") && strings.Contains(what, "] Stats "):
			e.host, e.strayWB = f[1], true
		}
		r.hazards = append(r.hazards, e)
		r.tracef(at, e.host, "hazard: %s", what)
	}
	var err error
	if r.s, err = sim.New(cfg); err != nil {
		return nil, err
	}
	if r.model, err = cluster.New(sc.model); err != nil {
		return nil, err
	}
	r.start = r.s.Now()
	r.now = r.start
	r.parser = logline.NewParser(sc.sim.Start.Location(), r.start)
	r.act, err = New(Options{Config: sc.policy, Ledger: ledger.NewMemory(), Audit: r, Restarter: r,
		Clock: func() time.Time { return r.now }}, r.start)
	return r, err
}

// run steps the scenario to its end, or to stopAt, or to the first
// violation when stopEarly.
func (r *runner) run(stopEarly bool) {
	ctx := context.Background()
	end := r.start.Add(r.sc.span)
	if !r.stopAt.IsZero() && r.stopAt.Before(end) {
		end = r.stopAt
	}
	for steps := 0; r.now.Before(end); steps++ {
		if steps%1024 == 0 && !r.deadline.IsZero() && time.Now().After(r.deadline) {
			return // out of time: the history so far was checked
		}
		r.s.AdvanceTimed(r.sc.tick, r.observe)
		r.now = r.s.Now()
		r.truth = r.s.Truth()
		r.watchWindow()
		r.restarted = ""
		if _, err := r.act.Step(ctx, r.model.Snapshot(r.now), r.now); err != nil {
			r.tracef(r.now, "", "step: %v", err)
		}
		if r.restarted != "" {
			// As the daemon does after each step: the samples before a
			// restart leakwatch sent prove nothing about the bridge now.
			r.model.MarkRestart(r.restarted, r.now)
		}
		if stopEarly && len(r.violations) > 0 {
			return
		}
	}
}

// observe is the simulator's emit: leakwatch reads the line as it arrives.
func (r *runner) observe(at time.Time, b []byte) {
	// The Sim is locked while it emits: the trace takes the line's own time.
	switch r.parser.Parse(b, &r.line) {
	case logline.WebBridgeStats, logline.CallBridgeStats:
		r.model.Observe(&r.line, at)
		bridge := ""
		if r.line.Kind == logline.WebBridgeStats {
			bridge = strings.ToLower(string(r.line.Host))
		}
		r.tracef(r.line.Time, bridge, "line: %s", b)
	case logline.Malformed:
		r.tracef(r.now, "", "malformed (%s): %s", r.line.Reason, b)
	}
}

// load is the most CMA sessions, summed over the Call Bridges, that a proof
// or the load guard may count now: each one's peak of the period in
// progress or of its last report, whichever is larger.
func (r *runner) load() int64 {
	var n int64
	for _, c := range r.truth.CallBridges {
		n += int64(max(c.CMA, c.CMAPeak, c.LastCMAPeak))
	}
	return n
}

// hazardEvent is a hazard the simulator traced; host is "" when it is not
// about one host of the cluster (a stray line).
type hazardEvent struct {
	at   time.Time
	host string
	what string
	lost bool // a lost Call Bridge report
	// strayWB is a Web Bridge line of a stray host: left out of the sums,
	// it must not touch any listed bridge's proof.
	strayWB bool
}

// hazardIn reports whether a hazard struck, or a silence overlapped, [from, to).
func (r *runner) hazardIn(from, to time.Time) bool { return r.hazardFor("", from, to) }

// hazardFor is hazardIn for the proof of one Web Bridge: it ignores what
// cannot touch that proof nor the data's validity. Another bridge's hand
// restart or misstamped line concerns that bridge alone, and a Call Bridge
// report lost alone leaves a gap shorter than stale_after, unless the
// reports are so irregular that two periods and their jitter exceed it.
func (r *runner) hazardFor(bridge string, from, to time.Time) bool {
	if r.sc.sim.Hazards.CBJitter > 0 && r.sc.model.ClockSkew > cluster.DefaultClockSkew {
		// A late report's CMA peak covers only its last peak_window, as
		// Cisco documents it, so irregular reports leave gaps that no proof
		// may use, and a wide clock_skew widens each gap on both sides:
		// with several Call Bridges out of phase, nothing may be provable.
		return true
	}
	i, _ := slices.BinarySearchFunc(r.hazards, from, func(e hazardEvent, t time.Time) int { return e.at.Compare(t) })
	wbHost := map[string]bool{}
	for _, w := range r.truth.WebBridges {
		wbHost[w.Host] = true
	}
	cbHost := map[string]bool{}
	for _, c := range r.truth.CallBridges {
		cbHost[c.Host] = true
	}
	for j := i; j < len(r.hazards) && r.hazards[j].at.Before(to); j++ {
		e := r.hazards[j]
		switch {
		case bridge == "":
			return true
		case e.lost && 2*5*time.Minute+2*r.sc.sim.Hazards.CBJitter+r.staleTolerance() > cluster.DefaultStaleAfter:
			return true
		case e.lost:
			for k := j - 1; k >= 0 && e.at.Sub(r.hazards[k].at) < 11*time.Minute; k-- {
				if r.hazards[k].lost && r.hazards[k].host == e.host {
					return true // two in a row: stale
				}
			}
		case e.host != "" && e.host != bridge && wbHost[e.host] && !cbHost[e.host]:
		case e.strayWB && !wbHost[e.host] && !cbHost[e.host]:
		default:
			return true
		}
	}
	for _, s := range r.sc.silences {
		if s.From.Before(to) && s.To.After(from) {
			return true
		}
	}
	return false
}

// staleTolerance is how much older than stale_after a component's last
// true line may be at a restart: the model reads the sender's clock.
func (r *runner) staleTolerance() time.Duration {
	return max(r.sc.model.ClockSkew, cluster.DefaultClockSkew) + time.Second
}

// Restart is the Restarter leakwatch calls: it checks every invariant
// against the truth, then restarts the simulated Web Bridge.
func (r *runner) Restart(_ context.Context, bridge string) (string, error) {
	r.restarted = bridge
	p := &r.sc.policy
	r.tracef(r.now, bridge, "RESTART %s", bridge)
	w, listed := r.truth.WebBridge(bridge)
	if !listed {
		r.violatef(bridge, "restart of %s, which is not a listed web bridge", bridge)
		return "", fmt.Errorf("no such web bridge %q", bridge)
	}
	if p.Mode != policy.ModeEnforce {
		r.violatef(bridge, "restart of %s in %s mode", bridge, p.Mode)
	}
	if int64(w.Leaked) < p.Threshold {
		// A hand restart after the bridge's last line cannot be known yet.
		if h, ok := r.handAt[bridge]; !ok || !h.After(w.LastStats) {
			r.violatef(bridge, "restart of %s with a true leak of %d < threshold %d (sessions %d)", bridge, w.Leaked, p.Threshold, w.Sessions)
		}
	}
	atLimit := w.Sessions >= w.Limit || w.StatsWritten && w.LastStatsSessions >= w.Limit
	if !r.sc.inWin(r.now) && !(p.EmergencyAtLimit && atLimit) {
		r.violatef(bridge, "restart of %s outside every window (local %s), emergency rule %v, truly at limit %v",
			bridge, r.now.In(p.Location).Format("Mon 15:04"), p.EmergencyAtLimit, atLimit)
	}
	var peak, cur int64
	for _, c := range r.truth.CallBridges {
		peak += int64(max(c.LastCMA, c.LastCMAPeak))
		cur += int64(c.LastCMA)
	}
	if peak > p.MaxActiveSessions {
		r.violatef(bridge, "restart of %s while the call bridges' last reports show %d CMA sessions, %d at the last count (max_active_sessions %d)", bridge, peak, cur, p.MaxActiveSessions)
	}
	stale := cluster.DefaultStaleAfter + r.staleTolerance()
	if !w.StatsWritten || r.now.Sub(w.LastStats) > stale {
		r.violatef(bridge, "restart of %s on stale data: its last true line at %s", bridge, w.LastStats.Format(time.TimeOnly))
	}
	for _, c := range r.truth.CallBridges {
		if !c.Reported || r.now.Sub(c.LastReport) > stale {
			r.violatef(bridge, "restart of %s on stale data: call bridge %s last reported at %s", bridge, c.Host, c.LastReport.Format(time.TimeOnly))
		}
	}
	for _, o := range r.truth.WebBridges {
		last, ok := r.lastOf[o.Name]
		switch {
		case !o.Up:
			r.violatef(bridge, "restart of %s while %s is down", bridge, o.Name)
		case ok && !(o.StatsWritten && o.LastStats.After(last)):
			r.violatef(bridge, "restart of %s before %s came back from its restart at %s", bridge, o.Name, last.Format(time.TimeOnly))
		}
	}
	if last, ok := r.lastOf[bridge]; ok && r.now.Sub(last) < p.Cooldown {
		r.violatef(bridge, "restart of %s %s after its last (cooldown %s)", bridge, r.now.Sub(last), p.Cooldown)
	}
	if n := r.restartsSince("", r.now.Add(-24*time.Hour)); n >= p.MaxPerDay {
		r.violatef(bridge, "restart of %s is number %d within 24h (max_per_day %d)", bridge, n+1, p.MaxPerDay)
	}
	r.restarts = append(r.restarts, event{at: r.now, bridge: bridge})
	r.lastOf[bridge] = r.now
	if err := r.s.RestartWebBridge(bridge); err != nil {
		return "", err
	}
	return "webbridge restarted", nil
}

func (r *runner) restartsSince(bridge string, t time.Time) int {
	n := 0
	for _, e := range r.restarts {
		if !e.at.Before(t) && (bridge == "" || e.bridge == bridge) {
			n++
		}
	}
	return n
}

// Write receives the actuator's audit entries: decision changes go to the
// trace, and every breaker trip must be one the truth justifies.
func (r *runner) Write(e audit.Entry) error {
	switch e.Event {
	case audit.EventDecision:
		r.tracef(r.now, e.Bridge, "decision %s: %s (%s)", e.Decision, e.Reason, e.Detail)
		d := append(r.decisions[e.Bridge], r.trace[len(r.trace)-1])
		r.decisions[e.Bridge] = d[max(0, len(d)-3):]
		if e.Decision == "would_restart" {
			r.would++
		}
	case audit.EventBreakerTripped:
		r.tracef(r.now, e.Bridge, "breaker tripped: %s (%s)", e.Reason, e.Detail)
		r.checkTrip(e)
	case audit.EventRecovered:
		r.tracef(r.now, e.Bridge, "recovered")
	}
	return nil
}

func (r *runner) checkTrip(e audit.Entry) {
	p := &r.sc.policy
	switch e.Reason {
	case policy.TripFlapping:
		if n := r.restartsSince(e.Bridge, r.now.Add(-p.FlapPeriod)); n < p.FlapMax {
			r.violatef(e.Bridge, "breaker of %s tripped as flapping after %d restarts in flap_period (flap_max %d)", e.Bridge, n, p.FlapMax)
		}
	case policy.TripNotRecovered:
		last, ok := r.lastOf[e.Bridge]
		w, listed := r.truth.WebBridge(e.Bridge)
		if !ok || !listed || r.hazardIn(last.Add(-cluster.DefaultStaleAfter), r.now.Add(time.Second)) {
			return // a hazard may hide the recovery
		}
		if w.StatsWritten && w.LastStats.After(last) && int64(w.Leaked) < p.Threshold && int64(w.Sessions) < p.Threshold {
			r.violatef(e.Bridge, "breaker of %s tripped as not recovered, but it came back and truly leaks %d (sessions %d)", e.Bridge, w.Leaked, w.Sessions)
		}
	}
}

// liveMargin is how much longer than sustain a quiet stretch of an open
// window must last for the liveness check: a Call Bridge report or two to
// cover a sample, and the restarts of other bridges that go first.
const liveMargin = 25 * time.Minute

// watchWindow keeps the liveness check. A bridge whose true leak stays at
// or above threshold above any load the proofs may subtract, with that load
// within max_active_sessions, throughout sustain plus a margin of an open
// window, with nothing in the way (no hazard, budget, cooldown, flapping
// or tripped breaker), must have been restarted by then. A whole quiet
// window is the case the issue names; any long enough quiet stretch of one
// holds for the same reason.
func (r *runner) watchWindow() {
	load := r.load()
	r.loads = append(r.loads, loadAt{at: r.now, load: load})
	if cut := r.now.Add(-20 * time.Minute); r.loads[0].at.Before(cut) {
		i, _ := slices.BinarySearchFunc(r.loads, cut, func(a loadAt, t time.Time) int { return a.at.Compare(t) })
		r.loads = append(r.loads[:0], r.loads[i:]...)
	}
	var recent int64
	for _, l := range r.loads {
		recent = max(recent, l.load)
	}
	p := &r.sc.policy
	quiet := p.Mode == policy.ModeEnforce && r.sc.inWin(r.now) && recent <= p.MaxActiveSessions
	for _, w := range r.truth.WebBridges {
		if !quiet || !w.Up || int64(w.Leaked)-recent < p.Threshold {
			if since, ok := r.quietSince[w.Name]; ok && r.lastOf[w.Name].After(since) {
				r.liveOK++ // the stretch ended with the restart it called for
			}
			delete(r.quietSince, w.Name)
			continue
		}
		since, ok := r.quietSince[w.Name]
		if !ok {
			r.quietSince[w.Name] = r.now
			continue
		}
		if r.now.Sub(since) >= p.Sustain+liveMargin {
			delete(r.quietSince, w.Name) // check once, then start over
			r.checkLiveness(w.Name, since, recent)
		}
	}
}

func (r *runner) checkLiveness(name string, since time.Time, load int64) {
	p := &r.sc.policy
	skip := func(why string) { r.skipped[why]++ }
	last, restarted := r.lastOf[name]
	switch {
	case since.Sub(r.start) < time.Hour:
		skip("warming up")
		return
	case r.hazardFor(name, since.Add(-time.Hour), r.now):
		skip("hazard")
		return
	case r.restartsSince("", since.Add(-24*time.Hour)) >= p.MaxPerDay:
		skip("daily budget")
		return
	case restarted && last.Add(p.Cooldown).After(since):
		skip("cooldown")
		return
	case r.restartsSince(name, since.Add(-p.FlapPeriod)) >= p.FlapMax:
		skip("flap_max")
		return
	}
	for _, b := range r.act.Status().Bridges {
		if b.Name == name && b.Breaker.Tripped {
			skip("breaker tripped")
			return
		}
	}
	r.windows++
	r.violatef(name, "%s truly leaked ≥ threshold %d above a load of at most %d in an open window from %s to %s, with room in every guard, and was not restarted",
		name, p.Threshold, load, since.Format(time.DateTime), r.now.Format(time.DateTime))
}

// minimalTrace returns the trace of the minutes before the first violation
// that concern its bridge or the whole cluster.
func (r *runner) minimalTrace() string {
	if len(r.violations) == 0 {
		return ""
	}
	first := r.violations[0].at
	var bridge string
	for _, e := range slices.Backward(r.trace) {
		if strings.HasPrefix(e.what, "VIOLATION") {
			bridge = e.bridge
		}
	}
	var out []string
	// The bridge's decisions in force when the trace starts.
	for _, e := range r.decisions[bridge] {
		if e.at.Before(first.Add(-traceSpan)) {
			out = append(out, fmt.Sprintf("  %s %s", e.at.Format("01-02 15:04:05"), e.what))
		}
	}
	for _, e := range r.trace {
		if e.at.Before(first.Add(-traceSpan)) || e.at.After(first) {
			continue
		}
		relevant := e.bridge == bridge || e.bridge == "" && !strings.HasPrefix(e.what, "line:") ||
			strings.HasPrefix(e.what, "line:") && (e.bridge == "" || e.bridge == bridge) && e.at.After(first.Add(-6*time.Minute))
		if strings.HasPrefix(e.what, "hazard") || strings.HasPrefix(e.what, "RESTART") || strings.HasPrefix(e.what, "VIOLATION") {
			relevant = true
		}
		if relevant {
			out = append(out, fmt.Sprintf("  %s %s", e.at.Format("01-02 15:04:05"), e.what))
		}
	}
	if len(out) > 80 {
		out = append([]string{fmt.Sprintf("  ... %d earlier entries", len(out)-80)}, out[len(out)-80:]...)
	}
	return strings.Join(out, "\n")
}

// runScenario runs the history of seed with the hazards given.
func runScenario(seed uint64, hazards hazard, stopAt time.Time, stopEarly bool, deadline time.Time) (*runner, error) {
	r, err := newRunner(newScenario(seed, hazards), stopAt)
	if err != nil {
		return nil, err
	}
	r.deadline = deadline
	r.run(stopEarly)
	return r, nil
}

// shrink drops hazards one at a time while the history still fails before
// (or soon after) the time it first failed, and returns the smallest set.
func shrink(seed uint64, hazards hazard, failedAt time.Time) hazard {
	for i := range hazardNames {
		h := hazard(1) << i
		if hazards&h == 0 {
			continue
		}
		r, err := runScenario(seed, hazards&^h, failedAt.Add(24*time.Hour), true, time.Time{})
		if err == nil && len(r.violations) > 0 {
			hazards &^= h
		}
	}
	return hazards
}

// TestProperty runs random histories for a time budget (or a number of
// iterations) and checks every invariant against the simulator's truth.
// A failure prints the seed, the smallest hazard set that still fails and a
// trace; rerun it with -property.seed=N.
func TestProperty(t *testing.T) {
	budget := 15 * time.Second
	if testing.Short() {
		budget = 3 * time.Second
	}
	if *propDuration > 0 {
		budget = *propDuration
	}
	enabled := allHazards
	if !*propHeldBack {
		for h, why := range heldBack {
			enabled &^= h
			t.Logf("hazard %s held back: %s", h, why)
		}
	}
	deadline := time.Now().Add(budget)
	var histories, restarts, windows, liveOK, observed, would int
	var simulated time.Duration
	skipped := map[string]int{}
	failures := 0
	for seed := uint64(1); ; seed++ {
		if *propSeed != 0 {
			seed = *propSeed
		}
		// Most histories get a random half of the hazards; every fourth
		// gets them all.
		hz := enabled
		if seed%4 != 0 {
			hz &= hazard(rand.New(rand.NewPCG(seed, 7)).Uint64())
		}
		var until time.Time
		if *propIterations == 0 && *propSeed == 0 {
			until = deadline
		}
		r, err := runScenario(seed, hz, time.Time{}, false, until)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		histories++
		restarts += len(r.restarts)
		windows += r.windows
		liveOK += r.liveOK
		if r.sc.policy.Mode == policy.ModeObserve {
			observed++
			would += r.would
		}
		simulated += r.now.Sub(r.start)
		for why, n := range r.skipped {
			skipped[why] += n
		}
		if len(r.violations) > 0 {
			failures++
			v := r.violations[0]
			min := shrink(seed, hz, v.at)
			mr, _ := runScenario(seed, min, v.at.Add(24*time.Hour), true, time.Time{})
			if len(mr.violations) == 0 {
				mr = r
			}
			t.Errorf("%s\n  %d violations, the first at %s: %s\n  smallest failing hazard set: %s (rerun: go test ./internal/actuator -run TestProperty -property.seed=%d)\n%s",
				&r.sc, len(r.violations), v.at.Format(time.RFC3339), v.what, min, seed, mr.minimalTrace())
		}
		if *propSeed != 0 || failures >= 3 ||
			*propIterations > 0 && histories >= *propIterations ||
			*propIterations == 0 && time.Now().After(deadline) {
			break
		}
	}
	t.Logf("%d histories (%s simulated), %d restarts; liveness: %d quiet stretches of an open window ended by the restart they called for, %d reached the deadline (skipped as excused: %v)",
		histories, simulated.Round(time.Hour), restarts, liveOK, windows, skipped)
	if observed >= 3 && would == 0 {
		t.Errorf("%d histories in observe mode never said they would restart: observe mode is not exercised", observed)
	}
	if histories >= 10 && (restarts == 0 || liveOK == 0) {
		t.Errorf("%d histories gave %d restarts and %d quiet stretches ended by a restart: the test exercises nothing", histories, restarts, liveOK)
	}
}

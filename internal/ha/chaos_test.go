package ha

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ha/etcdtest"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/policy"
)

var (
	chaosDays   = flag.Int("ha.chaos.days", 0, "simulated days of the HA chaos run (0: 7, or 3 under the race detector)")
	chaosEvents = flag.Int("ha.chaos.events", 0, "kills, pauses and etcd restarts in the HA chaos run (0: 8, or 4 under the race detector)")
	chaosSeed   = flag.Uint64("ha.chaos.seed", 1, "seed of the HA chaos run's events")
)

// chaosSize returns the run's days and events: the flags, or defaults that
// keep CI's run (under -race, which slows the etcd client tenfold) near a
// minute.
func chaosSize() (days, events int) {
	days, events = *chaosDays, *chaosEvents
	if days == 0 {
		days = 7
		if raceEnabled {
			days = 3
		}
	}
	if events == 0 {
		events = 8
		if raceEnabled {
			events = 4
		}
	}
	return days, events
}

const chaosStep = 5 * time.Minute

// chaosWorld is a cluster of three leaking Web Bridges on simulated time.
// It is a pure function of the time and of the restarts it received, so
// the single-instance run and the HA run see the same world exactly when
// they restart the same bridges at the same times.
type chaosWorld struct {
	mu     sync.Mutex
	rate   map[string]float64 // leaked sessions per hour
	leaked map[string]float64
}

var chaosBridges = []string{"wb1", "wb2", "wb3"}

func newChaosWorld() *chaosWorld {
	return &chaosWorld{rate: map[string]float64{"wb1": 1.1, "wb2": 0.7, "wb3": 0.35}, leaked: map[string]float64{}}
}

func (w *chaosWorld) advance() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for b, r := range w.rate {
		w.leaked[b] = min(w.leaked[b]+r*chaosStep.Hours(), 140)
	}
}

func (w *chaosWorld) restart(bridge string) {
	w.mu.Lock()
	w.leaked[bridge] = 0
	w.mu.Unlock()
}

// snap is what leakwatch's model would show at now: real users by the hour
// (few at night), each bridge's leak proven exactly.
func (w *chaosWorld) snap(now time.Time) cluster.Snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	users := int64(25)
	if h := now.Hour(); h >= 1 && h < 6 {
		users = 2
	}
	s := cluster.Snapshot{Now: now, Leak: cluster.Leak{Valid: true, CMAActive: users}}
	for _, b := range chaosBridges {
		leak := int64(w.leaked[b])
		s.WebBridges = append(s.WebBridges, cluster.WebBridge{Name: b, Limit: 149, Listed: true, Restartable: true,
			Seen: true, LastSeen: now.Add(-10 * time.Second), Sessions: leak + users/3, LeakKnown: true,
			LeakLowerBound: leak, LeakAt: now.Add(-10 * time.Second)})
	}
	return s
}

func chaosPolicy() policy.Config {
	return policy.Config{
		Mode: policy.ModeEnforce, Threshold: 20, Sustain: time.Hour,
		Windows:  []policy.Window{policy.MustParseWindow("daily 01:00-05:00")},
		Location: time.UTC, MaxActiveSessions: 5, Cooldown: 24 * time.Hour, MaxPerDay: 2,
		RecoverTimeout: 30 * time.Minute, FlapMax: 10, FlapPeriod: 7 * 24 * time.Hour,
	}
}

// command is one restart the fake MMP received.
type command struct {
	Bridge string
	At     time.Time // simulated
	By     string
}

// chaosMMP records every restart, checks that no two overlap, and can make
// the leader die while the command runs.
type chaosMMP struct {
	w          *chaosWorld
	mu         sync.Mutex
	cmds       []command
	running    int
	overlaps   int
	killDuring func(by string) // set: kill the sender mid-command
}

type chaosRestarter struct {
	m   *chaosMMP
	by  string
	now func() time.Time
}

func (r chaosRestarter) Restart(ctx context.Context, bridge string) (string, error) {
	m := r.m
	m.mu.Lock()
	m.running++
	if m.running > 1 {
		m.overlaps++
	}
	m.cmds = append(m.cmds, command{Bridge: bridge, At: r.now(), By: r.by})
	kill := m.killDuring
	m.killDuring = nil
	m.mu.Unlock()
	m.w.restart(bridge) // the MMP runs it
	defer func() {
		m.mu.Lock()
		m.running--
		m.mu.Unlock()
	}()
	if kill != nil {
		kill(r.by) // the sender dies before the command returns
		<-ctx.Done()
		return "", ctx.Err()
	}
	return "SUCCESS: webbridge restarted", nil
}

func (m *chaosMMP) record() []command {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.cmds)
}

// reference runs the week with one leakwatch alone (a memory ledger, no
// HA) and returns the restarts its MMP received.
func reference(t *testing.T, start time.Time, steps int) []command {
	w := newChaosWorld()
	m := &chaosMMP{w: w}
	now := start
	act, err := actuator.New(actuator.Options{Config: chaosPolicy(), Ledger: ledger.NewMemory(),
		Restarter: chaosRestarter{m: m, by: "alone", now: func() time.Time { return now }},
		Clock:     func() time.Time { return now }}, now)
	if err != nil {
		t.Fatal(err)
	}
	for range steps {
		act.Step(context.Background(), w.snap(now), now)
		w.advance()
		now = now.Add(chaosStep)
	}
	return m.record()
}

// chaosInstance is one leakwatch of the pair: its election node and its
// actuator, as the daemon wires them.
type chaosInstance struct {
	name   string
	node   *Node
	cancel context.CancelFunc
	done   chan struct{}
	act    *actuator.Actuator
	term   *Term // the term whose ledger act holds
	paused bool
	dead   bool
}

func TestChaosWeekMatchesSingleInstance(t *testing.T) {
	etcd := etcdtest.Start(t)
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	days, events := chaosSize()
	steps := days * 24 * int(time.Hour/chaosStep)
	want := reference(t, start, steps)
	if len(want) < 2 {
		t.Fatalf("the reference run restarted only %d times; the world must leak more", len(want))
	}

	w := newChaosWorld()
	m := &chaosMMP{w: w}
	var nowMu sync.Mutex
	now := start
	simNow := func() time.Time { nowMu.Lock(); defer nowMu.Unlock(); return now }
	rng := rand.New(rand.NewPCG(*chaosSeed, 0x1eaf))
	opts := func(name string) Options { return testOptions(etcd.Endpoint, "/lw/chaos", name) }

	start1 := func(name string) *chaosInstance {
		n, err := New(opts(name), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		in := &chaosInstance{name: name, node: n, cancel: cancel, done: make(chan struct{})}
		go func() { n.Run(ctx); close(in.done) }()
		in.act, err = actuator.New(actuator.Options{Config: chaosPolicy(), Ledger: ledger.NewMemory(),
			Restarter: chaosRestarter{m: m, by: name, now: simNow}, Clock: simNow}, simNow())
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	// crash ends an instance as SIGKILL would: its lease is not revoked,
	// so the other takes over only when the lease expires.
	crash := func(in *chaosInstance) {
		in.dead = true
		in.node.cli.Close()
		in.cancel()
		<-in.done
	}
	insts := []*chaosInstance{start1("lw-a"), start1("lw-b")}
	t.Cleanup(func() {
		for _, in := range insts {
			if !in.dead {
				in.cancel()
				<-in.done
				in.node.Close()
			}
		}
	})

	// turn is the daemon's haTurn: a new term adopts the ledger from etcd.
	turn := func(in *chaosInstance) *Term {
		term := in.node.Term()
		switch {
		case term != nil && term == in.term:
			return term
		case term != nil:
			led, err := OpenLedger(context.Background(), in.node, term, nil)
			if err == nil {
				err = in.act.Adopt(led, simNow(), true)
			}
			if err != nil {
				return nil
			}
			in.term = term
			return term
		}
		in.term = nil
		return nil
	}
	observe := func(in *chaosInstance) {
		in.term = nil // as the daemon: a view replaces the term's ledger
		rec, _, err := ReadRecord(context.Background(), in.node.cli, "/lw/chaos")
		if err == nil {
			view, _ := ledger.NewWithStore(rec, readOnly{})
			in.act.Adopt(view, simNow(), false)
		}
		in.act.Observe(w.snap(simNow()), simNow())
	}

	// The events, at random steps.
	eventAt := map[int]string{}
	kinds := []string{"kill", "pause", "etcd", "kill-mid-restart"}
	// Events are at least two hours apart (more than the sustain): an
	// instance started fresh has no leak streaks yet and waits a full
	// sustain before a restart, HA or not, so two failures closer than that
	// may delay a restart (never hasten or repeat one). Pauses and kills
	// mid-restart fall on steps where a restart is due.
	spacing := int(2 * time.Hour / chaosStep)
	free := func(at int) bool {
		for e := range eventAt {
			if at > e-spacing && at < e+spacing {
				return false
			}
		}
		return at > 0 && at < steps
	}
	for i := range events {
		kind := kinds[i%len(kinds)]
		for try := 0; try < 1000; try++ {
			at := 1 + rng.IntN(steps-1)
			if kind == "pause" || kind == "kill-mid-restart" {
				at = int(want[rng.IntN(len(want))].At.Sub(start) / chaosStep)
			}
			if free(at) {
				eventAt[at] = kind
				break
			}
		}
	}
	var (
		snapPre   cluster.Snapshot // what a paused leader saw last
		pausedAt  time.Time
		midKills  int
		fenceHits int
		fenced    int // steps of a stale believer whose write failed
	)
	var log []string
	wallStart := time.Now()
	deadline := wallStart.Add(time.Duration(events)*6*testTTL + 2*time.Minute)
	var pendingMidRestart, retake bool
	for step := 0; step < steps; {
		if time.Now().After(deadline) {
			t.Fatalf("chaos run stuck at step %d of %d (events: %v)", step, steps, log)
		}
		if ev, ok := eventAt[step]; ok {
			delete(eventAt, step)
			log = append(log, fmt.Sprintf("%s@%s", ev, simNow().Format("Mon 15:04")))
			switch ev {
			case "kill":
				i := rng.IntN(len(insts))
				crash(insts[i])
				insts[i] = start1(insts[i].name)
			case "pause":
				// Stopped past its lease: etcd expires it behind its back.
				snapPre, pausedAt = w.snap(simNow()), simNow()
				for _, in := range insts {
					if in.term != nil {
						in.paused = true
						r, err := in.node.cli.Get(context.Background(), in.term.Key)
						if err == nil && len(r.Kvs) == 1 {
							in.node.cli.Revoke(context.Background(), clientLease(r.Kvs[0].Lease))
						}
					}
				}
			case "etcd":
				etcd.Stop()
				time.Sleep(testTTL)
				etcd.Restart()
			case "kill-mid-restart":
				pendingMidRestart = true
			}
		}
		if pendingMidRestart {
			m.mu.Lock()
			if m.killDuring == nil {
				// Called by the sender's own Restart, on this goroutine: the
				// crash ends the term, which ends the command's wait.
				m.killDuring = func(by string) {
					midKills++
					for _, in := range insts {
						if in.name == by {
							crash(in)
						}
					}
				}
			}
			m.mu.Unlock()
		}
		for i, in := range insts {
			if in.dead { // killed mid-restart: its service manager starts it again
				insts[i] = start1(in.name)
			}
		}
		cur := slices.Clone(insts)
		// Every instance that believes it leads steps, as each daemon does;
		// one whose lease etcd has already expired (its probe has not yet
		// noticed) cannot write. The world moves on when the instance etcd
		// says leads has stepped.
		var believers []*chaosInstance
		terms := map[*chaosInstance]*Term{}
		for _, in := range cur {
			if in.paused || in.dead {
				continue
			}
			if tm := turn(in); tm != nil {
				believers = append(believers, in)
				terms[in] = tm
			}
		}
		var leader *chaosInstance
		if len(believers) > 0 {
			r, err := believers[0].node.cli.Get(context.Background(), believers[0].node.electionPrefix()+"/", clientv3.WithFirstCreate()...)
			if err == nil && len(r.Kvs) == 1 {
				for _, b := range believers {
					if tm := terms[b]; string(r.Kvs[0].Key) == tm.Key && r.Kvs[0].CreateRevision == tm.Rev {
						leader = b
					}
				}
			}
		}
		// A paused instance resumes once another leads. Before it can notice,
		// it tries to act with the ledger of its old term: an operator's
		// forced restart of the bridge restarted longest ago. The write of
		// its in-flight record must fail, so nothing reaches the MMP.
		for _, in := range cur {
			if !in.paused || leader == nil {
				continue
			}
			in.paused = false
			n := len(m.record())
			ds, err := in.act.Step(context.Background(), snapPre, pausedAt)
			ordered := slices.ContainsFunc(ds, func(d policy.Decision) bool { return d.RestartNow })
			switch {
			case len(m.record()) != n:
				t.Errorf("the deposed leader %s sent a restart", in.name)
			case ordered && errors.Is(err, ErrDeposed):
				fenceHits++
			case ordered:
				t.Errorf("the deposed leader ordered a restart that failed otherwise: %v", err)
			}
		}
		if leader == nil {
			time.Sleep(20 * time.Millisecond) // the world waits for a leader
			continue
		}
		if retake {
			// The step whose sender was killed mid-command is done: the new
			// leader took its ledger over at that step's time, finishing the
			// restart as interrupted then (the lone instance finished it
			// then too), and acts from the next step on.
			retake = false
		} else {
			leaderStepped := false
			for _, b := range believers {
				n := len(m.record())
				_, err := b.act.Step(terms[b].Context(), w.snap(simNow()), simNow())
				if len(m.record()) > n && m.killDuring == nil {
					pendingMidRestart = false
				}
				if b.dead {
					// Killed while the MMP ran its command: the world waits
					// for the next leader to take this step's ledger over.
					retake = true
					break
				}
				if b != leader {
					if len(m.record()) != n {
						t.Errorf("%s, not the leader, sent a restart", b.name)
					}
					if errors.Is(err, ErrDeposed) {
						fenced++
					}
					continue
				}
				leaderStepped = !errors.Is(err, ErrDeposed)
			}
			if retake {
				continue
			}
			if !leaderStepped {
				time.Sleep(10 * time.Millisecond)
				continue
			}
		}
		for _, in := range cur {
			if terms[in] == nil && !in.paused && !in.dead {
				observe(in)
			}
		}
		w.advance()
		nowMu.Lock()
		now = now.Add(chaosStep)
		nowMu.Unlock()
		step++
	}
	got := m.record()
	rec, _, err := ReadRecord(context.Background(), insts[0].node.cli, "/lw/chaos")
	if err != nil {
		t.Fatal(err)
	}
	interrupted := 0
	for _, r := range rec.History {
		if r.Result == ledger.ResultInterrupted {
			interrupted++
		}
	}
	if len(rec.History) != len(got) || interrupted != midKills {
		t.Errorf("the ledger in etcd holds %d restarts (%d interrupted), the MMP got %d with %d senders killed mid-command",
			len(rec.History), interrupted, len(got), midKills)
	}
	if events >= len(kinds) && (midKills == 0 || fenceHits == 0) {
		t.Errorf("the run proved little: %d kills mid-restart, %d deposed restarts fenced", midKills, fenceHits)
	}
	t.Logf("%d simulated days, %d restarts, events %v (%d kills mid-restart, %d deposed restarts fenced, %d stale steps fenced), %s of wall time",
		days, len(got), log, midKills, fenceHits, fenced, time.Since(wallStart).Round(time.Second))
	if m.overlaps != 0 {
		t.Errorf("%d restarts overlapped", m.overlaps)
	}
	if len(got) != len(want) {
		t.Errorf("%d restarts with HA, %d alone", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i].Bridge != want[i].Bridge || !got[i].At.Equal(want[i].At) {
			t.Errorf("restart %d: %s at %s by %s with HA, %s at %s alone", i, got[i].Bridge, got[i].At.Format(time.DateTime), got[i].By,
				want[i].Bridge, want[i].At.Format(time.DateTime))
		}
	}
}

// readOnly is a standby's view store, as the daemon's.
type readOnly struct{}

func (readOnly) Save(ledger.Record) error { return errors.New("standby") }

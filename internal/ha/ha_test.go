package ha

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/ha/etcdtest"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/ledger"
)

const testTTL = 3 * time.Second

var t0 = time.Date(2026, 3, 7, 2, 0, 0, 0, time.UTC)

func testOptions(endpoint, prefix, name string) Options {
	return Options{Endpoints: []string{endpoint}, DialTimeout: time.Second, Prefix: prefix, LeaseTTL: testTTL, Name: name}
}

// runNode starts a node; the returned stop ends its Run and closes it.
func runNode(t *testing.T, o Options) (*Node, func()) {
	t.Helper()
	n, err := New(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		n.Close()
	}
	t.Cleanup(stop)
	return n, stop
}

func leaderOf(nodes ...*Node) (*Node, int) {
	var l *Node
	count := 0
	for _, n := range nodes {
		if n.Term() != nil {
			l = n
			count++
		}
	}
	return l, count
}

func TestExactlyOneLeaderAndStandbyNamesIt(t *testing.T) {
	etcd := etcdtest.Start(t)
	a, _ := runNode(t, testOptions(etcd.Endpoint, "/lw/one", "alpha"))
	b, _ := runNode(t, testOptions(etcd.Endpoint, "/lw/one", "beta"))
	harness.Eventually(t, 10*time.Second, "a leader", func() bool { _, c := leaderOf(a, b); return c == 1 })
	l, _ := leaderOf(a, b)
	standby := a
	if l == a {
		standby = b
	}
	harness.Eventually(t, 5*time.Second, "the standby to name the leader", func() bool {
		return standby.Status().Words() == "standby; the leader is "+l.opts.Name
	})
	if st := l.Status(); !st.Leader || !st.Up || st.Words() != "leader ("+l.opts.Name+")" {
		t.Errorf("leader status = %+v", st)
	}
	// Over a few probe rounds, never two leaders.
	for range 20 {
		if _, c := leaderOf(a, b); c != 1 {
			t.Fatalf("%d leaders", c)
		}
		time.Sleep(testTTL / 20)
	}
}

func TestResignOnShutdownHandsOverAtOnce(t *testing.T) {
	etcd := etcdtest.Start(t)
	a, stopA := runNode(t, testOptions(etcd.Endpoint, "/lw/handover", "alpha"))
	harness.Eventually(t, 10*time.Second, "alpha leads", func() bool { return a.Term() != nil })
	b, _ := runNode(t, testOptions(etcd.Endpoint, "/lw/handover", "beta"))
	time.Sleep(testTTL / 3)
	if b.Term() != nil {
		t.Fatal("beta leads while alpha does")
	}
	start := time.Now()
	stopA()
	harness.Eventually(t, testTTL, "beta to lead after alpha resigned", func() bool { return b.Term() != nil })
	t.Logf("handover after a clean stop took %s (lease %s)", time.Since(start), testTTL)
}

func TestDeposedLeaderWriteFails(t *testing.T) {
	etcd := etcdtest.Start(t)
	a, _ := runNode(t, testOptions(etcd.Endpoint, "/lw/fence", "alpha"))
	harness.Eventually(t, 10*time.Second, "alpha leads", func() bool { return a.Term() != nil })
	term := a.Term()
	led, err := OpenLedger(context.Background(), a, term, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := led.BeginRestart(ledger.Restart{Bridge: "wb1", Started: t0, LeakBound: 30}); err != nil {
		t.Fatal(err)
	}
	if err := led.Save(); err != nil {
		t.Fatalf("leader's fenced write: %v", err)
	}
	// A store fenced on the same key whose local context never ends: only
	// etcd's compare can stop its write, as for a leader paused past its
	// lease that has not noticed yet.
	blind := &Store{cli: a.cli, opts: a.opts, term: &Term{Key: term.Key, Rev: term.Rev, ctx: context.Background()}, stored: map[string]string{}}
	// Depose alpha: its lease is revoked behind its back.
	lease := a.Client()
	resp, err := lease.Get(context.Background(), term.Key)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("election key: %v %v", resp, err)
	}
	if _, err := lease.Revoke(context.Background(), clientLease(resp.Kvs[0].Lease)); err != nil {
		t.Fatal(err)
	}
	b, _ := runNode(t, testOptions(etcd.Endpoint, "/lw/fence", "beta"))
	harness.Eventually(t, 10*time.Second, "beta leads", func() bool { return b.Term() != nil })

	rec := led.Record()
	rec.InFlight = nil
	rec.Breakers["wb1"] = ledger.Breaker{Tripped: true, Reason: "x"}
	if err := blind.Save(rec); !errors.Is(err, ErrDeposed) {
		t.Fatalf("deposed leader's write = %v, want ErrDeposed", err)
	}
	// Its own store notices too, and the record is what alpha wrote last.
	if err := led.Save(); !errors.Is(err, ErrDeposed) {
		t.Errorf("deposed leader's ledger Save = %v, want ErrDeposed", err)
	}
	nl, err := OpenLedger(context.Background(), b, b.Term(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := nl.InFlight(); !ok || f.Bridge != "wb1" || !f.Started.Equal(t0) {
		t.Errorf("new leader sees in flight %+v %v, want wb1's restart", f, ok)
	}
	if nl.Breaker("wb1").Tripped {
		t.Error("a deposed leader's write reached etcd")
	}
	// The new leader can write.
	if _, _, err := nl.AbandonInFlight(t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := nl.Save(); err != nil {
		t.Fatalf("new leader's write: %v", err)
	}
}

func TestEtcdDownStopsActingAndReturns(t *testing.T) {
	etcd := etcdtest.Start(t)
	a, _ := runNode(t, testOptions(etcd.Endpoint, "/lw/down", "alpha"))
	harness.Eventually(t, 10*time.Second, "alpha leads", func() bool { return a.Term() != nil })
	etcd.Stop()
	start := time.Now()
	harness.Eventually(t, testTTL, "alpha to stop acting", func() bool { return a.Term() == nil })
	t.Logf("stopped acting %s after etcd died (lease %s)", time.Since(start), testTTL)
	st := a.Status()
	if st.Up || st.Leader || st.Reason == "" {
		t.Errorf("status while etcd is down = %+v", st)
	}
	t.Logf("page says: %s", st.Words())
	etcd.Restart()
	harness.Eventually(t, 4*testTTL, "alpha to lead again", func() bool { return a.Term() != nil })
	if st := a.Status(); !st.Up || !st.Leader {
		t.Errorf("status after etcd returned = %+v", st)
	}
}

func TestLargeRecordIsWrittenInBatches(t *testing.T) {
	etcd := etcdtest.Start(t)
	a, _ := runNode(t, testOptions(etcd.Endpoint, "/lw/big", "alpha"))
	harness.Eventually(t, 10*time.Second, "alpha leads", func() bool { return a.Term() != nil })
	rec := ledger.EmptyRecord()
	for i := range 250 {
		at := t0.Add(time.Duration(i) * time.Hour)
		rec.History = append(rec.History, ledger.Restart{Bridge: fmt.Sprintf("wb%d", i%3), Started: at, Finished: at.Add(time.Second), Result: ledger.ResultOK})
	}
	led, err := OpenLedger(context.Background(), a, a.Term(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := led.Save(); err != nil { // nothing to write yet
		t.Fatal(err)
	}
	st := &Store{cli: a.cli, opts: a.opts, term: a.Term(), stored: map[string]string{}}
	if err := st.Save(rec); err != nil {
		t.Fatalf("saving 250 entries: %v", err)
	}
	got, _, err := ReadRecord(context.Background(), a.cli, "/lw/big")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.History) != 250 || !got.History[0].Started.Equal(t0) || !got.History[249].Started.Equal(t0.Add(249*time.Hour)) {
		t.Errorf("read back %d entries", len(got.History))
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	rec := ledger.EmptyRecord()
	rec.History = []ledger.Restart{
		{Bridge: "wb1", Started: t0, Finished: t0.Add(time.Second), Result: ledger.ResultOK, LeakBound: 40, Output: "ok"},
		{Bridge: "wb2", Started: t0, Finished: t0.Add(2 * time.Second), Result: ledger.ResultFailed, Error: "dial"},
	}
	rec.InFlight = &ledger.Restart{Bridge: "wb3", Started: t0.Add(time.Hour), Forced: true}
	rec.Breakers["wb2"] = ledger.Breaker{Tripped: true, Reason: "restart_failed", Since: t0.Add(2 * time.Second)}
	rec.Recovering["wb1"] = ledger.Recovery{RestartEnded: t0.Add(time.Second)}
	kv, err := encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decode(kv)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalised(t, rec), normalised(t, back)) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, rec)
	}
	kv["surprise"] = "{}"
	if _, err := decode(kv); err == nil {
		t.Error("unknown key accepted")
	}
	delete(kv, "surprise")
	kv[keyVersion] = "9"
	if _, err := decode(kv); err == nil {
		t.Error("unknown version accepted")
	}
}

func normalised(t *testing.T, r ledger.Record) ledger.Record {
	s, err := ledger.NewWithStore(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.Record()
}

func TestFirstTermImportsTheLocalLedger(t *testing.T) {
	etcd := etcdtest.Start(t)
	a, stopA := runNode(t, testOptions(etcd.Endpoint, "/lw/import", "alpha"))
	harness.Eventually(t, 10*time.Second, "alpha leads", func() bool { return a.Term() != nil })
	local := ledger.EmptyRecord()
	local.History = []ledger.Restart{{Bridge: "wb1", Started: t0, Finished: t0.Add(time.Second), Result: ledger.ResultOK}}
	local.Breakers["wb2"] = ledger.Breaker{Tripped: true, Reason: "flapping", Since: t0}
	seeded := 0
	seed := func() (ledger.Record, bool, error) { seeded++; return local, true, nil }
	led, err := OpenLedger(context.Background(), a, a.Term(), seed)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := led.LastRestart("wb1"); !ok || !r.Started.Equal(t0) || !led.Breaker("wb2").Tripped {
		t.Errorf("imported ledger: %+v", led.Record())
	}
	stopA()
	b, _ := runNode(t, testOptions(etcd.Endpoint, "/lw/import", "beta"))
	harness.Eventually(t, 10*time.Second, "beta leads", func() bool { return b.Term() != nil })
	led, err = OpenLedger(context.Background(), b, b.Term(), seed)
	if err != nil {
		t.Fatal(err)
	}
	if seeded != 1 {
		t.Errorf("the local ledger was imported %d times; only into an empty etcd", seeded)
	}
	if !led.Breaker("wb2").Tripped || len(led.History()) != 1 {
		t.Errorf("the next leader reads %+v", led.Record())
	}
}

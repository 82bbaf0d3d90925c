package ha

import (
	"context"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/leakwatch/leakwatch/internal/control"
	"github.com/leakwatch/leakwatch/internal/ha/etcdtest"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

func TestRequestReachesTheLeaderAndBack(t *testing.T) {
	etcd := etcdtest.Start(t)
	o := testOptions(etcd.Endpoint, "/lw/req", "alpha")
	a, _ := runNode(t, o)
	harness.Eventually(t, 10*time.Second, "alpha leads", func() bool { return a.Term() != nil })
	c, err := Dial(testOptions(etcd.Endpoint, "/lw/req", "operator"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan control.Request, 1)
	go func() {
		term := a.Term()
		for ctx.Err() == nil {
			reqs, _ := a.Take(ctx, term)
			for _, r := range reqs {
				served <- r
				a.Respond(ctx, term, control.Response{ID: r.ID, OK: true, Message: "breaker of " + r.Bridge + " reset"})
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	resp, err := c.Ask(ctx, control.Request{Kind: control.KindReset, Bridge: "wb1", User: "ops"}, 10*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.OK || resp.Message != "breaker of wb1 reset" {
		t.Errorf("answer = %+v", resp)
	}
	r := <-served
	if r.Kind != control.KindReset || r.Bridge != "wb1" || r.User != "ops" || r.Deadline.Sub(r.Time) != 10*time.Second {
		t.Errorf("leader got %+v", r)
	}
	if err := r.Stale(time.Now(), 10*time.Second); err != nil {
		t.Errorf("fresh request refused as stale: %v", err)
	}
	// Nothing is left behind: the request was claimed, the answer read.
	left, err := a.cli.Get(context.Background(), "/lw/req/re", clientv3.WithPrefix())
	if err != nil || len(left.Kvs) != 0 {
		t.Errorf("keys left under /lw/req: %v %v", left.Kvs, err)
	}
}

// A request no leader takes expires: the command gives up at its deadline
// and the request is gone, so no leader elected later carries it out.
func TestRequestWithoutLeaderExpires(t *testing.T) {
	etcd := etcdtest.Start(t)
	c, err := Dial(testOptions(etcd.Endpoint, "/lw/nobody", "operator"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, err = c.Ask(context.Background(), control.Request{Kind: control.KindRestart, Bridge: "wb1"}, 2*time.Second, nil)
	if err == nil || !strings.Contains(err.Error(), "no leakwatch leader answered within 2s") {
		t.Fatalf("Ask without a leader = %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("gave up after %s", d)
	}
	a, _ := runNode(t, testOptions(etcd.Endpoint, "/lw/nobody", "alpha"))
	harness.Eventually(t, 10*time.Second, "alpha leads", func() bool { return a.Term() != nil })
	reqs, err := a.Take(context.Background(), a.Term())
	if err != nil || len(reqs) != 0 {
		t.Errorf("a leader elected later found %v (%v)", reqs, err)
	}
}

// A deposed leader cannot claim a request: the claim is fenced.
func TestDeposedLeaderCannotClaimRequests(t *testing.T) {
	etcd := etcdtest.Start(t)
	a, stopA := runNode(t, testOptions(etcd.Endpoint, "/lw/claim", "alpha"))
	harness.Eventually(t, 10*time.Second, "alpha leads", func() bool { return a.Term() != nil })
	old := a.Term()
	blind := &Term{Key: old.Key, Rev: old.Rev, ctx: context.Background()}
	b, _ := runNode(t, testOptions(etcd.Endpoint, "/lw/claim", "beta"))
	c, err := Dial(testOptions(etcd.Endpoint, "/lw/claim", "operator"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Alpha resigns (its key is gone) but keeps its old term's identity.
	n2, err := New(testOptions(etcd.Endpoint, "/lw/claim", "alpha-ghost"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	stopA()
	harness.Eventually(t, 10*time.Second, "beta leads", func() bool { return b.Term() != nil })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	go c.Ask(ctx, control.Request{Kind: control.KindReset, Bridge: "wb1"}, 3*time.Second, nil)
	harness.Eventually(t, 2*time.Second, "the request in etcd", func() bool {
		r, err := n2.cli.Get(context.Background(), requestsPrefix("/lw/claim"), clientv3.WithPrefix())
		return err == nil && len(r.Kvs) == 1
	})
	if reqs, err := n2.Take(context.Background(), blind); err != nil || len(reqs) != 0 {
		t.Errorf("deposed leader claimed %v (%v)", reqs, err)
	}
	if reqs, err := b.Take(context.Background(), b.Term()); err != nil || len(reqs) != 1 {
		t.Errorf("leader claimed %v (%v), want the one request", reqs, err)
	}
}

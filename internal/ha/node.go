package ha

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Term is one leadership: the election key this instance created and its
// create revision. Writes fenced on a Term succeed only while the key still
// exists with that revision.
type Term struct {
	Key string
	Rev int64
	ctx context.Context
}

// Context is done when the term has ended (lease lost, shutdown, or another
// instance seen as leader).
func (t *Term) Context() context.Context { return t.ctx }

// Status is what an instance knows of the election, for the status page,
// /api/v1/status and the metrics.
type Status struct {
	// Name is this instance's name.
	Name string
	// Up is true while the last call to etcd succeeded.
	Up bool
	// Leader is true while this instance holds a live term and reached
	// etcd recently enough to be sure of it: it may act.
	Leader bool
	// LeaderName is the elected leader's name; "" when none is elected or
	// etcd cannot be reached.
	LeaderName string
	// Reason says, in words, why this instance does not act (empty for an
	// acting leader).
	Reason string
	// LastContact is the last successful call to etcd.
	LastContact time.Time
}

// Words returns the one line the status page shows.
func (s Status) Words() string {
	switch {
	case s.Leader:
		return "leader (" + s.Name + ")"
	case s.Reason != "":
		return s.Reason
	case s.LeaderName != "":
		return "standby; the leader is " + s.LeaderName
	}
	return "standby; no leader elected"
}

// Node is one instance's part in the election.
type Node struct {
	opts Options
	cli  *clientv3.Client
	log  *slog.Logger
	// endClient ends every call of cli: the last step of Run, since the
	// election library may otherwise wait on etcd without a deadline.
	endClient context.CancelFunc

	mu       sync.Mutex
	st       Status
	term     *Term
	endTerm  context.CancelFunc
	lastOK   time.Time
	lastErr  error
	errSince time.Time
	lease    clientv3.LeaseID // the session's, while one is held
}

// New returns a Node for opts. It does not contact etcd yet.
func New(opts Options, logger *slog.Logger) (*Node, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cli, err := dialContext(ctx, opts)
	if err != nil {
		cancel()
		return nil, err
	}
	return &Node{opts: opts, cli: cli, log: logger, endClient: cancel, st: Status{Name: opts.Name}}, nil
}

// Client returns the etcd client.
func (n *Node) Client() *clientv3.Client { return n.cli }

// Options returns the node's options.
func (n *Node) Options() Options { return n.opts }

// Close closes the etcd client. Call it after Run has returned.
func (n *Node) Close() error {
	n.endClient()
	return n.cli.Close()
}

func (n *Node) electionPrefix() string { return n.opts.Prefix + "/election" }

// staleAfter is how long after its last successful call to etcd a leader
// stops acting: half the lease, so it stops well before another instance
// could be elected.
func (n *Node) staleAfter() time.Duration { return n.opts.LeaseTTL / 2 }

func (n *Node) probeInterval() time.Duration {
	return max(n.opts.LeaseTTL/6, 100*time.Millisecond)
}

// Term returns the current term if this instance may act now, else nil.
func (n *Node) Term() *Term {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.term == nil || n.term.ctx.Err() != nil || time.Since(n.lastOK) > n.staleAfter() {
		return nil
	}
	return n.term
}

// Status returns what the node knows now.
func (n *Node) Status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	st := n.st
	st.LastContact = n.lastOK
	st.Up = n.lastErr == nil && !n.lastOK.IsZero()
	st.Leader = n.term != nil && n.term.ctx.Err() == nil && time.Since(n.lastOK) <= n.staleAfter()
	st.Reason = ""
	switch {
	case n.lastErr != nil:
		st.LeaderName = ""
		st.Reason = fmt.Sprintf("not acting: etcd unreachable since %s (%v)", n.errSince.UTC().Format(time.RFC3339), n.lastErr)
	case !st.Up:
		st.Reason = "standby; not yet in contact with etcd"
	case n.term != nil && !st.Leader:
		st.Reason = "not acting: no contact with etcd for " + time.Since(n.lastOK).Round(time.Millisecond).String()
	}
	return st
}

// Run takes part in the election until ctx ends: it holds a session,
// campaigns, keeps the term while the lease lives, and probes etcd. On
// return this instance has resigned (its lease is revoked, when etcd can be
// reached), so a standby takes over at once rather than after the TTL.
//
// A Node runs once: when Run returns, its client is spent.
func (n *Node) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { n.probeLoop(ctx) })
	wg.Go(func() {
		<-ctx.Done()
		n.resign()
		n.endClient()
	})
	for ctx.Err() == nil {
		if err := n.session(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("ha: election session ended; campaigning again", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(n.probeInterval()):
		}
	}
}

func (n *Node) session(ctx context.Context) error {
	gctx, cancel := n.opts.withTimeout(ctx)
	lease, err := n.cli.Grant(gctx, int64(n.opts.LeaseTTL/time.Second))
	cancel()
	if err != nil {
		n.failed(err)
		return fmt.Errorf("granting a lease: %w", err)
	}
	n.mu.Lock()
	n.lease = lease.ID
	n.mu.Unlock()
	sess, err := concurrency.NewSession(n.cli, concurrency.WithLease(lease.ID), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("keeping the lease alive: %w", err)
	}
	defer func() {
		sess.Orphan()
		if ctx.Err() == nil {
			n.resign() // the session ended on its own: drop what is left
		}
	}()
	e := concurrency.NewElection(sess, n.electionPrefix())
	cctx, cancelCampaign := context.WithCancel(ctx)
	defer cancelCampaign()
	go func() {
		select {
		case <-sess.Done():
			cancelCampaign()
		case <-cctx.Done():
		}
	}()
	if err := e.Campaign(cctx, n.opts.Name); err != nil {
		return fmt.Errorf("campaigning: %w", err)
	}
	tctx, endTerm := context.WithCancel(cctx)
	term := &Term{Key: e.Key(), Rev: e.Rev(), ctx: tctx}
	n.mu.Lock()
	n.term, n.endTerm = term, endTerm
	n.mu.Unlock()
	n.log.Info("ha: elected leader", "name", n.opts.Name, "key", term.Key, "revision", term.Rev)
	defer func() {
		endTerm()
		n.mu.Lock()
		n.term, n.endTerm = nil, nil
		n.mu.Unlock()
	}()
	select {
	case <-tctx.Done():
	case <-sess.Done():
	}
	if ctx.Err() != nil {
		n.log.Info("ha: resigning leadership on shutdown", "name", n.opts.Name)
		return nil
	}
	return errors.New("leadership lost (lease expired or another leader seen)")
}

// resign revokes the session's lease, deleting the election key, so that a
// standby takes over at once. It runs with a deadline of its own: the
// caller's context may be done (shutdown).
func (n *Node) resign() {
	n.mu.Lock()
	id := n.lease
	n.lease = clientv3.NoLease
	n.mu.Unlock()
	if id == clientv3.NoLease {
		return
	}
	rctx, cancel := n.opts.withTimeout(context.Background())
	defer cancel()
	if _, err := n.cli.Revoke(rctx, id); err != nil {
		n.log.Debug("ha: revoking the lease", "err", err)
	}
}

// probeLoop reads the election's leader every probe interval: it is how the
// node knows etcd is reachable, who leads, and that its own term still holds.
func (n *Node) probeLoop(ctx context.Context) {
	t := time.NewTicker(n.probeInterval())
	defer t.Stop()
	for {
		n.probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) probe(ctx context.Context) {
	pctx, cancel := n.opts.withTimeout(ctx)
	defer cancel()
	resp, err := n.cli.Get(pctx, n.electionPrefix()+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		if ctx.Err() == nil {
			n.failed(err)
		}
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lastErr != nil {
		n.log.Info("ha: etcd reachable again", "was", n.lastErr)
	}
	n.lastOK, n.lastErr = time.Now(), nil
	n.st.LeaderName = ""
	if len(resp.Kvs) > 0 {
		kv := resp.Kvs[0]
		n.st.LeaderName = string(kv.Value)
		if n.term != nil && (string(kv.Key) != n.term.Key || kv.CreateRevision != n.term.Rev) {
			n.log.Error("ha: another instance holds the election; ending this term", "leader", n.st.LeaderName)
			n.endTerm()
		}
	} else if n.term != nil {
		n.log.Error("ha: this instance's election key is gone; ending this term")
		n.endTerm()
	}
}

func (n *Node) failed(err error) {
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer from %s within %s", strings.Join(n.opts.Endpoints, ", "), n.opts.callTimeout())
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lastErr == nil {
		n.errSince = time.Now()
		n.log.Error("ha: etcd unreachable; not acting until it is back", "err", err)
	}
	n.lastErr = err
}

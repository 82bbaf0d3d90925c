package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/control"
	"github.com/leakwatch/leakwatch/internal/ha"
	"github.com/leakwatch/leakwatch/internal/ledger"
)

// viewEvery is how often a standby reads the leader's ledger from etcd for
// its page and metrics.
const viewEvery = 5 * time.Second

// haRole is the daemon's part in an HA pair. Its fields other than node
// are the policy loop's alone, but for the guarded ones State reads.
type haRole struct {
	node *ha.Node
	log  *slog.Logger
	// term is the term whose ledger the actuator holds, nil as standby.
	term   *ha.Term
	viewAt time.Time

	mu sync.Mutex
	// acting is the term the actuator acts in (State reads it).
	acting *ha.Term
	// problem says why an elected instance does not act yet.
	problem string
}

// errStandby refuses every write to a standby's view of the ledger.
var errStandby = errors.New("standby: only the HA leader writes the restart ledger")

type standbyStore struct{}

func (standbyStore) Save(ledger.Record) error { return errStandby }

func newHARole(cfg *config.Config, logger *slog.Logger) (*haRole, error) {
	opts, err := ha.OptionsFrom(cfg)
	if err != nil {
		return nil, err
	}
	node, err := ha.New(opts, logger)
	if err != nil {
		return nil, err
	}
	logger.Info("ha: warm standby through etcd", "name", opts.Name, "prefix", opts.Prefix,
		"endpoints", opts.Endpoints, "lease_ttl", opts.LeaseTTL)
	return &haRole{node: node, log: logger}, nil
}

// haTurn decides, once per policy step, whether this instance acts, and
// returns its term if so. A term new to it first adopts the ledger from
// etcd, fenced on that term, closing any restart its predecessor left in
// flight as interrupted; until that succeeds it does not act.
func (d *Daemon) haTurn(ctx context.Context, now time.Time) *ha.Term {
	h := d.ha
	term := h.node.Term()
	switch {
	case term != nil && term == h.term:
		return term
	case term != nil:
		led, err := ha.OpenLedger(ctx, h.node, term, d.localLedger)
		if err == nil {
			err = d.act.Adopt(led, now, true)
		}
		if err != nil {
			if ctx.Err() == nil {
				h.log.Error("ha: elected, but not acting: the ledger could not be taken over from etcd", "err", err)
			}
			h.set(nil, "elected, but not acting: the ledger could not be taken over from etcd: "+err.Error())
			return nil
		}
		h.term = term
		h.set(term, "")
		h.log.Info("ha: acting as leader", "name", h.node.Options().Name)
		return term
	}
	if h.term != nil {
		h.log.Warn("ha: stopped acting", "why", h.node.Status().Words())
		h.term, h.viewAt = nil, time.Time{}
		h.set(nil, "")
	}
	if time.Since(h.viewAt) >= viewEvery {
		d.refreshView(ctx, now)
	}
	return nil
}

// refreshView gives a standby's actuator the leader's ledger as it is in
// etcd, read only, so that its page and metrics show the same restarts,
// breakers and in-flight restart. On failure the last view stays.
func (d *Daemon) refreshView(ctx context.Context, now time.Time) {
	h := d.ha
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	rec, _, err := ha.ReadRecord(rctx, h.node.Client(), h.node.Options().Prefix)
	if err != nil {
		h.log.Debug("ha: reading the leader's ledger", "err", err)
		return
	}
	view, err := ledger.NewWithStore(rec, standbyStore{})
	if err != nil {
		h.log.Error("ha: the leader's ledger in etcd is unreadable", "err", err)
		return
	}
	if err := d.act.Adopt(view, now, false); err == nil {
		h.viewAt = time.Now()
	}
}

func (h *haRole) set(acting *ha.Term, problem string) {
	h.mu.Lock()
	h.acting, h.problem = acting, problem
	h.mu.Unlock()
}

// status is the node's status, with Leader true only while the actuator
// really acts in the node's current term.
func (h *haRole) status() ha.Status {
	st := h.node.Status()
	cur := h.node.Term()
	h.mu.Lock()
	acting, problem := h.acting, h.problem
	h.mu.Unlock()
	if st.Leader && (cur == nil || acting != cur) {
		st.Leader = false
		if problem != "" {
			st.Reason = problem
		} else {
			st.Reason = "elected, taking over the ledger from etcd"
		}
	}
	return st
}

// serveHARequests carries out the operator requests left in etcd, as the
// leader of term: each is claimed with a write fenced on the term, aged
// like a local request, and answered the same way.
func (d *Daemon) serveHARequests(term *ha.Term) {
	ctx := term.Context()
	reqs, err := d.ha.node.Take(ctx, term)
	if err != nil && ctx.Err() == nil {
		d.ha.log.Error("ha: taking operator requests", "err", err)
	}
	cfg := d.cfg.Load()
	for _, req := range reqs {
		now := d.now()
		var resp control.Response
		if err := req.Stale(time.Now(), control.AnswerTimeout(cfg.SSH)); err != nil {
			resp = d.refuseRequest(req, err, now)
		} else {
			resp = d.answer(ctx, req, now)
		}
		if err := d.ha.node.Respond(ctx, term, resp); err != nil {
			d.ha.log.Error("ha: answering an operator request", "id", req.ID, "err", err)
		}
	}
}

// localLedger is the seed of a pair's first term: the ledger this instance
// kept in state_dir before ha was configured, if there is one.
func (d *Daemon) localLedger() (ledger.Record, bool, error) {
	dir := d.cfg.Load().StateDir
	if _, err := os.Stat(filepath.Join(dir, ledger.FileName)); errors.Is(err, fs.ErrNotExist) {
		return ledger.Record{}, false, nil
	}
	led, err := ledger.Load(dir)
	if err != nil {
		return ledger.Record{}, false, err
	}
	return led.Record(), true, nil
}

// leaderOnly sends a restart only while this instance still acts in the
// term whose ledger recorded it in flight. It is checked at the last
// moment before the SSH connection: a leader paused after that write and
// resumed after losing its term (a stale lease, no contact with etcd for
// half of it) sends nothing, even before its election node has noticed.
type leaderOnly struct {
	h    *haRole
	next actuator.Restarter
}

func (g leaderOnly) Restart(ctx context.Context, bridge string) (string, error) {
	g.h.mu.Lock()
	acting := g.h.acting
	g.h.mu.Unlock()
	if acting == nil || g.h.node.Term() != acting {
		return "", fmt.Errorf("restart of %s not sent: %w", bridge, ha.ErrDeposed)
	}
	return g.next.Restart(ctx, bridge)
}

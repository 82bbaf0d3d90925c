package ha

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/leakwatch/leakwatch/internal/ledger"
)

// ErrDeposed is returned by a fenced write whose term has ended: another
// instance may lead now, so nothing was written.
var ErrDeposed = errors.New("this instance no longer leads (its election key is gone or was replaced): nothing written")

// maxOps keeps each transaction under etcd's default limit of 128
// operations (--max-txn-ops).
const maxOps = 100

// Ledger keys, under <prefix>/ledger/. Cooldowns, the daily budget and
// flapping are counted from the history, as in the file ledger, so they can
// never disagree with it.
const (
	keyVersion    = "version"
	keyInFlight   = "in_flight"
	dirHistory    = "history/"
	dirBreakers   = "breakers/"
	dirRecovering = "recovering/"
	recordVersion = "1"
)

func ledgerPrefix(prefix string) string { return prefix + "/ledger/" }

// encode lays a record out as keys (relative to the ledger prefix) and JSON
// values: one key per history entry, breaker and recovery, so that a
// change writes only what changed.
func encode(rec ledger.Record) (map[string]string, error) {
	kv := map[string]string{keyVersion: recordVersion}
	put := func(k string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", k, err)
		}
		kv[k] = string(b)
		return nil
	}
	if rec.InFlight != nil {
		if err := put(keyInFlight, rec.InFlight); err != nil {
			return nil, err
		}
	}
	for _, r := range rec.History {
		// The start in nanoseconds, zero-padded, orders the keys as the
		// history; the bridge keeps two bridges' equal starts apart.
		k := fmt.Sprintf("%s%020d/%s", dirHistory, r.Started.UnixNano(), r.Bridge)
		if err := put(k, r); err != nil {
			return nil, err
		}
	}
	for b, br := range rec.Breakers {
		if err := put(dirBreakers+b, br); err != nil {
			return nil, err
		}
	}
	for b, rc := range rec.Recovering {
		if err := put(dirRecovering+b, rc); err != nil {
			return nil, err
		}
	}
	return kv, nil
}

// decode rebuilds a record from its keys. An empty map is an empty ledger.
func decode(kv map[string]string) (ledger.Record, error) {
	rec := ledger.EmptyRecord()
	if len(kv) == 0 {
		return rec, nil
	}
	if v := kv[keyVersion]; v != recordVersion {
		return ledger.Record{}, fmt.Errorf("ledger version %q, want %q", v, recordVersion)
	}
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		v := []byte(kv[k])
		var err error
		switch {
		case k == keyVersion:
		case k == keyInFlight:
			var r ledger.Restart
			err = json.Unmarshal(v, &r)
			rec.InFlight = &r
		case strings.HasPrefix(k, dirHistory):
			var r ledger.Restart
			err = json.Unmarshal(v, &r)
			rec.History = append(rec.History, r)
		case strings.HasPrefix(k, dirBreakers):
			var br ledger.Breaker
			err = json.Unmarshal(v, &br)
			rec.Breakers[strings.TrimPrefix(k, dirBreakers)] = br
		case strings.HasPrefix(k, dirRecovering):
			var rc ledger.Recovery
			err = json.Unmarshal(v, &rc)
			rec.Recovering[strings.TrimPrefix(k, dirRecovering)] = rc
		default:
			err = errors.New("unknown key")
		}
		if err != nil {
			return ledger.Record{}, fmt.Errorf("ledger key %s: %w", k, err)
		}
	}
	return rec, nil
}

// ReadRecord reads the ledger kept under prefix, with the keys as stored.
func ReadRecord(ctx context.Context, cli *clientv3.Client, prefix string) (ledger.Record, map[string]string, error) {
	resp, err := cli.Get(ctx, ledgerPrefix(prefix), clientv3.WithPrefix())
	if err != nil {
		return ledger.Record{}, nil, fmt.Errorf("reading the ledger from etcd: %w", err)
	}
	kv := make(map[string]string, len(resp.Kvs))
	for _, e := range resp.Kvs {
		kv[strings.TrimPrefix(string(e.Key), ledgerPrefix(prefix))] = string(e.Value)
	}
	rec, err := decode(kv)
	if err != nil {
		return ledger.Record{}, nil, fmt.Errorf("the ledger in etcd under %s is corrupt: %w", ledgerPrefix(prefix), err)
	}
	if rec.Version == 0 {
		rec.Version = 1
	}
	return rec, kv, nil
}

// Store keeps the ledger in etcd for one term. Every Save is fenced on the
// term: it writes only while the term's election key exists with its create
// revision, so a deposed leader writes nothing.
type Store struct {
	cli    *clientv3.Client
	opts   Options
	term   *Term
	mu     sync.Mutex
	stored map[string]string // what etcd holds, as last read or written
}

var _ ledger.Store = (*Store)(nil)

// OpenLedger reads the ledger from etcd and returns it with a Store fenced
// on term. A new leader calls it at the start of each term.
//
// When etcd holds no ledger yet (the pair's first term) and seed is not
// nil, the record seed returns is written first, fenced like every write:
// a leakwatch switched to HA keeps the cooldowns, budget and breakers of
// its local ledger.
func OpenLedger(ctx context.Context, n *Node, term *Term, seed func() (ledger.Record, bool, error)) (*ledger.State, error) {
	rctx, cancel := n.opts.withTimeout(ctx)
	defer cancel()
	rec, kv, err := ReadRecord(rctx, n.cli, n.opts.Prefix)
	if err != nil {
		return nil, err
	}
	st := &Store{cli: n.cli, opts: n.opts, term: term, stored: kv}
	if len(kv) == 0 && seed != nil {
		local, ok, err := seed()
		if err != nil {
			return nil, fmt.Errorf("importing the local ledger into etcd: %w", err)
		}
		if ok {
			led, err := ledger.NewWithStore(local, st)
			if err != nil {
				return nil, fmt.Errorf("importing the local ledger into etcd: %w", err)
			}
			if err := led.Save(); err != nil {
				return nil, fmt.Errorf("importing the local ledger into etcd: %w", err)
			}
			n.log.Info("ha: imported the local restart ledger into etcd", "restarts", len(local.History), "prefix", ledgerPrefix(n.opts.Prefix))
			return led, nil
		}
	}
	return ledger.NewWithStore(rec, st)
}

// Save writes what changed since the last Save, fenced on the term.
func (s *Store) Save(rec ledger.Record) error {
	if s.term.ctx.Err() != nil {
		return ErrDeposed
	}
	want, err := encode(rec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pfx := ledgerPrefix(s.opts.Prefix)
	var ops []clientv3.Op
	// The in-flight record first: it is the write that guards a command.
	keys := slices.Sorted(maps.Keys(want))
	slices.SortStableFunc(keys, func(a, b string) int {
		if a == keyInFlight {
			return -1
		}
		if b == keyInFlight {
			return 1
		}
		return 0
	})
	for _, k := range keys {
		if v, ok := s.stored[k]; !ok || v != want[k] {
			ops = append(ops, clientv3.OpPut(pfx+k, want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.stored)) {
		if _, ok := want[k]; !ok {
			ops = append(ops, clientv3.OpDelete(pfx+k))
		}
	}
	fence := clientv3.Compare(clientv3.CreateRevision(s.term.Key), "=", s.term.Rev)
	// Even with nothing to change, one fenced transaction runs: a Save that
	// succeeds says this instance led at that moment.
	for first := true; first || len(ops) > 0; first = false {
		batch := ops[:min(len(ops), maxOps)]
		ctx, cancel := s.opts.withTimeout(s.term.ctx)
		resp, err := s.cli.Txn(ctx).If(fence).Then(batch...).Commit()
		cancel()
		if err != nil {
			if s.term.ctx.Err() != nil {
				return ErrDeposed
			}
			return fmt.Errorf("writing the ledger to etcd: %w", err)
		}
		if !resp.Succeeded {
			return ErrDeposed
		}
		for _, op := range batch {
			k := strings.TrimPrefix(string(op.KeyBytes()), pfx)
			if op.IsDelete() {
				delete(s.stored, k)
			} else {
				s.stored[k] = string(op.ValueBytes())
			}
		}
		ops = ops[len(batch):]
	}
	return nil
}

package ha

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/leakwatch/leakwatch/internal/control"
)

// ResponseTTL is how long an answer waits for the command that asked.
const ResponseTTL = time.Minute

func requestsPrefix(prefix string) string  { return prefix + "/requests/" }
func responsesPrefix(prefix string) string { return prefix + "/responses/" }

// Client is what an operator command needs: the etcd client and the
// options (prefix, timeouts).
type Client struct {
	cli  *clientv3.Client
	opts Options
}

// Dial connects an operator command to etcd.
func Dial(o Options) (*Client, error) {
	c, err := dial(o)
	if err != nil {
		return nil, err
	}
	return &Client{cli: c, opts: o}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.cli.Close() }

// Ask hands req to whichever instance leads and waits up to timeout for its
// answer. It sets req's ID, Time, Deadline and PID as control.Ask does, and
// the leader refuses it past its deadline the same way. The request is
// written with a lease of timeout, so etcd deletes it if no leader takes it
// in time; on every other return path it is withdrawn if still waiting, and
// if a leader has taken it the error says so, since the action may still
// happen. The answer comes back under <prefix>/responses/.
func (c *Client) Ask(ctx context.Context, req control.Request, timeout time.Duration, started func(id string)) (control.Response, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return control.Response{}, err
	}
	req.ID = hex.EncodeToString(b[:])
	req.Time = time.Now()
	req.Deadline = req.Time.Add(timeout)
	req.PID = os.Getpid()
	data, err := json.Marshal(req)
	if err != nil {
		return control.Response{}, err
	}
	reqKey := requestsPrefix(c.opts.Prefix) + req.ID
	wctx, cancel := c.opts.withTimeout(ctx)
	lease, err := c.cli.Grant(wctx, int64(max((timeout+time.Second-1)/time.Second, 1)))
	if err == nil {
		_, err = c.cli.Put(wctx, reqKey, string(data), clientv3.WithLease(lease.ID))
	}
	cancel()
	if err != nil {
		return control.Response{}, fmt.Errorf("leaving the request in etcd (%s): %w", strings.Join(c.opts.Endpoints, ","), err)
	}
	if started != nil {
		started(req.ID)
	}
	// withdraw deletes the request if no leader took it, and says whether
	// it did: exactly one of the leader's claim and this delete succeeds.
	withdraw := func() (bool, error) {
		dctx, cancel := c.opts.withTimeout(context.WithoutCancel(ctx))
		defer cancel()
		tr, err := c.cli.Txn(dctx).If(clientv3.Compare(clientv3.CreateRevision(reqKey), ">", 0)).
			Then(clientv3.OpDelete(reqKey)).Commit()
		if err != nil {
			return false, err
		}
		return tr.Succeeded, nil
	}
	giveUp := func(why error) (control.Response, error) {
		gone, err := withdraw()
		switch {
		case err != nil:
			return control.Response{}, fmt.Errorf("%w; withdrawing the request failed too (%v): etcd deletes it at its deadline", why, err)
		case !gone:
			return control.Response{}, fmt.Errorf("%w; the leader had taken the request, so the action may still happen: see its audit log", why)
		}
		return control.Response{}, why
	}
	respKey := responsesPrefix(c.opts.Prefix) + req.ID
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		gctx, cancel := c.opts.withTimeout(ctx)
		resp, err := c.cli.Get(gctx, respKey)
		cancel()
		if err == nil && len(resp.Kvs) == 1 {
			var r control.Response
			if err := json.Unmarshal(resp.Kvs[0].Value, &r); err != nil {
				return control.Response{}, fmt.Errorf("reading the answer %s: %w", respKey, err)
			}
			dctx, cancel := c.opts.withTimeout(context.WithoutCancel(ctx))
			c.cli.Delete(dctx, respKey)
			cancel()
			return r, nil
		}
		select {
		case <-ctx.Done():
			return giveUp(ctx.Err())
		case <-timer.C:
			return giveUp(fmt.Errorf("no leakwatch leader answered within %s (is one running and elected under %s? its status page says)", timeout, c.opts.Prefix))
		case <-tick.C:
		}
	}
}

// Take claims the waiting requests for the leader of term, oldest first.
// Each is deleted in a transaction fenced on the term, so only a live
// leader takes it, and only once. Unreadable ones are deleted and logged.
func (n *Node) Take(ctx context.Context, term *Term) ([]control.Request, error) {
	gctx, cancel := n.opts.withTimeout(ctx)
	defer cancel()
	resp, err := n.cli.Get(gctx, requestsPrefix(n.opts.Prefix), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("reading operator requests: %w", err)
	}
	fence := clientv3.Compare(clientv3.CreateRevision(term.Key), "=", term.Rev)
	var out []control.Request
	for _, kv := range resp.Kvs {
		claimed := clientv3.Compare(clientv3.ModRevision(string(kv.Key)), "=", kv.ModRevision)
		tr, err := n.cli.Txn(gctx).If(fence, claimed).Then(clientv3.OpDelete(string(kv.Key))).Commit()
		if err != nil {
			return out, fmt.Errorf("claiming operator request %s: %w", kv.Key, err)
		}
		if !tr.Succeeded {
			continue // taken by another, expired, or this term is over
		}
		var req control.Request
		if err := json.Unmarshal(kv.Value, &req); err != nil || req.ID == "" || strings.TrimPrefix(string(kv.Key), requestsPrefix(n.opts.Prefix)) != req.ID {
			n.log.Warn("ha: ignoring unreadable operator request", "key", string(kv.Key), "err", err)
			continue
		}
		out = append(out, req)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// Respond leaves the answer to a request taken in term, with a lease of
// ResponseTTL so that an answer nobody reads does not stay.
func (n *Node) Respond(ctx context.Context, term *Term, resp control.Response) error {
	data, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	wctx, cancel := n.opts.withTimeout(context.WithoutCancel(ctx))
	defer cancel()
	lease, err := n.cli.Grant(wctx, int64(ResponseTTL/time.Second))
	if err != nil {
		return fmt.Errorf("answering request %s: %w", resp.ID, err)
	}
	fence := clientv3.Compare(clientv3.CreateRevision(term.Key), "=", term.Rev)
	tr, err := n.cli.Txn(wctx).If(fence).Then(clientv3.OpPut(responsesPrefix(n.opts.Prefix)+resp.ID, string(data), clientv3.WithLease(lease.ID))).Commit()
	if err != nil {
		return fmt.Errorf("answering request %s: %w", resp.ID, err)
	}
	if !tr.Succeeded {
		return fmt.Errorf("answering request %s: %w", resp.ID, ErrDeposed)
	}
	return nil
}

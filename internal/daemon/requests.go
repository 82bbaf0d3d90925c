package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/control"
)

// serveRequests carries out the requests that `leakwatch reset` and
// `leakwatch restart` leave in the state directory while the daemon runs:
// the daemon is the only writer of the ledger.
func (d *Daemon) serveRequests(ctx context.Context) {
	cfg := d.cfg.Load()
	for _, req := range control.Pending(cfg.StateDir, d.log) {
		now := d.now()
		// Requests are aged on the host's wall clock, which their command
		// read too, never on the model's clock (simulated in the demo).
		if err := req.Stale(time.Now(), control.AnswerTimeout(cfg.SSH)); err != nil {
			if err := control.Respond(cfg.StateDir, d.refuseRequest(req, err, now)); err != nil {
				d.log.Error("answering a control request", "id", req.ID, "err", err)
			}
			continue
		}
		resp := d.answer(ctx, req, now)
		if err := control.Respond(cfg.StateDir, resp); err != nil {
			d.log.Error("answering a control request", "id", req.ID, "err", err)
		}
	}
}

// answer carries out one operator request that may be carried out.
func (d *Daemon) answer(ctx context.Context, req control.Request, now time.Time) control.Response {
	resp := control.Response{ID: req.ID}
	switch req.Kind {
	case control.KindReset:
		return d.reset(req, now)
	case control.KindRestart:
		return d.restart(ctx, req, now)
	case control.KindForget:
		resp, err := d.forget(req, now)
		if err != nil {
			d.log.Error("audit entry lost", "event", audit.EventForget, "err", err)
		}
		d.log.Info("leakwatch forget", "host", req.Host, "user", req.User, "ok", resp.OK, "result", resp.Message)
		d.reportDepartures(now)
		return resp
	default:
		resp.Message = fmt.Sprintf("unknown request kind %q", req.Kind)
	}
	return resp
}

// reset resets a Web Bridge's breaker for `leakwatch reset`.
func (d *Daemon) reset(req control.Request, now time.Time) control.Response {
	resp := control.Response{ID: req.ID}
	was, err := d.act.ResetBreaker(req.Bridge, now)
	switch {
	case err != nil:
		resp.Message = err.Error()
	case was:
		resp.OK, resp.Message = true, "breaker of "+req.Bridge+" reset: automatic action resumes"
	default:
		resp.OK, resp.Message = true, "breaker of "+req.Bridge+" was not tripped"
	}
	return resp
}

// refuseRequest audits and logs a request that must not be carried out,
// and returns the answer to send in case its command still waits.
func (d *Daemon) refuseRequest(req control.Request, why error, now time.Time) control.Response {
	d.log.Warn("refusing a control request", "id", req.ID, "kind", req.Kind, "webbridge", req.Bridge,
		"force", req.Force, "user", req.User, "pid", req.PID, "reason", why)
	if err := d.audit.Write(audit.Entry{Time: now, Event: audit.EventRequestRefused, Bridge: req.Bridge,
		Forced: req.Force, Reason: "stale_request",
		By: req.Requester(), Detail: fmt.Sprintf("%s request %s: %v", req.Kind, req.ID, why)}); err != nil {
		d.log.Error("auditing a refused control request", "id", req.ID, "err", err)
	}
	return control.Response{ID: req.ID, Message: "refused: " + why.Error()}
}

// restart carries out a `leakwatch restart` request through the actuator:
// with Force, the window and load guards are lifted; without, every guard
// applies. The answer names the guard that blocks.
func (d *Daemon) restart(ctx context.Context, req control.Request, now time.Time) control.Response {
	resp := control.Response{ID: req.ID}
	r, err := d.act.Manual(ctx, d.model.Snapshot(now), req.Bridge, req.Force, req.Requester(), now)
	var refused *actuator.RefusedError
	switch {
	case errors.As(err, &refused):
		resp.Message = fmt.Sprintf("not restarted: %s (%s)", refused.Decision.Detail, refused.Decision.Reason)
	case err != nil:
		resp.Message = err.Error()
		resp.Output = r.Output
	default:
		resp.OK = true
		resp.Output = r.Output
		resp.Message = fmt.Sprintf("%s restarted; waiting for its stats to show the leak gone", req.Bridge)
	}
	return resp
}

// forget carries out a `leakwatch forget HOST` request on the daemon's
// model and audits it: a discovered component with that host leaves the
// sums, and the host's unlisted records are cleared. Listed, ignored and
// unknown hosts are refused with the reason (and audited too).
func (d *Daemon) forget(req control.Request, now time.Time) (control.Response, error) {
	resp := control.Response{ID: req.ID}
	deps, err := d.model.Forget(req.Host, now)
	entry := audit.Entry{Time: now, Event: audit.EventForget}
	if err != nil {
		resp.Message = "not forgotten: " + err.Error()
		entry.Reason, entry.Detail = "refused", fmt.Sprintf("host %s, user %q: %v", req.Host, req.User, err)
		return resp, d.audit.Write(entry)
	}
	var what []string
	for _, dep := range deps {
		what = append(what, fmt.Sprintf("%s %s left the sums", dep.Role, dep.Name))
	}
	if len(what) == 0 {
		what = append(what, "its unlisted records were cleared")
	}
	resp.OK = true
	resp.Message = fmt.Sprintf("host %s forgotten: %s; if it reports again it counts as new (list it, or name it in inventory.ignore, to decide for good)",
		cluster.FoldHost(req.Host), strings.Join(what, "; "))
	entry.Reason, entry.Detail = "forgotten", fmt.Sprintf("host %s, user %q: %s", req.Host, req.User, strings.Join(what, "; "))
	return resp, d.audit.Write(entry)
}

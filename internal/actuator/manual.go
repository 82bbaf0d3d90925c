package actuator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/policy"
)

// RefusedError is returned by Manual when a guard blocks the
// restart the operator asked for.
type RefusedError struct {
	Decision policy.Decision
	Forced   bool
}

func (e *RefusedError) Error() string {
	what := "restart"
	if e.Forced {
		what = "forced restart"
	}
	return fmt.Sprintf("%s of %s refused (%s): %s", what, e.Decision.WebBridge, e.Decision.Reason, e.Decision.Detail)
}

// Manual restarts bridge for `leakwatch restart`, in either mode: the
// operator asked. Without force every guard applies. With force
// (`leakwatch restart --force`) the window and load (max_active_sessions)
// guards are lifted and every other guard holds, the breaker included (reset
// it first); the restart is audited as forced. A refusal is a
// *RefusedError naming the guard that blocks, and audited. by names who
// asked, in every audit entry of the attempt.
func (a *Actuator) Manual(ctx context.Context, snap cluster.Snapshot, bridge string, force bool, by string, now time.Time) (ledger.Restart, error) {
	evaluate, refused := a.eng.EvaluateManual, audit.EventRestartRefused
	if force {
		evaluate, refused = a.eng.EvaluateForced, audit.EventForceRefused
	}
	a.mu.Lock()
	d, ok := evaluate(snap, a.led, bridge, now)
	if !ok {
		a.mu.Unlock()
		return ledger.Restart{}, fmt.Errorf("restart: no Web Bridge named %q", bridge)
	}
	err := a.applyTransitions([]policy.Decision{d}, now)
	if !d.RestartNow {
		a.write(audit.Entry{Time: now, Event: refused, Bridge: bridge, Forced: force, By: by,
			Reason: string(d.Reason), Detail: d.Detail, Inputs: &d.Inputs})
		a.mu.Unlock()
		return ledger.Restart{}, errors.Join(err, &RefusedError{Decision: d, Forced: force})
	}
	r, rerr := a.restartLocked(ctx, d, force, by, now) // unlocks
	return r, errors.Join(err, rerr)
}

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

// Manual restarts bridge for `leakwatch restart`. With force it is Force;
// without, every guard applies (in either mode: the operator asked) and a
// refusal is a *RefusedError naming the guard that blocks.
func (a *Actuator) Manual(ctx context.Context, snap cluster.Snapshot, bridge string, force bool, now time.Time) (ledger.Restart, error) {
	if force {
		return a.Force(ctx, snap, bridge, now)
	}
	a.mu.Lock()
	d, ok := a.eng.EvaluateManual(snap, a.led, bridge, now)
	if !ok {
		a.mu.Unlock()
		return ledger.Restart{}, fmt.Errorf("restart: no Web Bridge named %q", bridge)
	}
	err := a.applyTransitions([]policy.Decision{d}, now)
	if !d.Restart {
		a.write(audit.Entry{Time: now, Event: audit.EventForceRefused, Bridge: bridge,
			Reason: string(d.Reason), Detail: d.Detail, Inputs: &d.Inputs})
		a.mu.Unlock()
		return ledger.Restart{}, errors.Join(err, &RefusedError{Decision: d})
	}
	r, rerr := a.restartLocked(ctx, d, false, now) // unlocks
	return r, errors.Join(err, rerr)
}

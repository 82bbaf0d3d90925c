package policy

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
)

// EvaluateManual decides for one bridge as for `leakwatch restart` without
// --force: every guard applies except the mode, since an operator asked
// for this restart explicitly. Restart is set when the guards pass. ok is
// false if the bridge is not in snap.
func (e *Engine) EvaluateManual(snap cluster.Snapshot, led ledger.Reader, bridge string, now time.Time) (d Decision, ok bool) {
	wb, ok := snap.WebBridge(bridge)
	if !ok {
		return Decision{}, false
	}
	e.track(snap, led, now)
	d = e.decide(snap, wb, led, now, Lift{})
	if d.WouldRestart {
		d.RestartNow, d.Reason, d.Detail = true, ReasonNone, "requested by the operator; every guard holds"
	}
	return d, true
}

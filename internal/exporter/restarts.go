package exporter

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/policy"
)

// bridgePolicy exports one Web Bridge's restart counters, last restart,
// verdict and breaker.
func (e emitter) bridgePolicy(bs actuator.BridgeStatus) {
	for _, r := range ledger.Results {
		e.emit(restarts, float64(bs.Restarts[r]), bs.Name, string(r))
	}
	if !bs.LastRestart.Started.IsZero() {
		e.emit(lastRestart, unixSeconds(bs.LastRestart.Started), bs.Name)
	}
	switch bs.Reason {
	case "":
		// No decision yet: nothing is known about what blocks a restart.
	case policy.ReasonNone:
		e.emit(blocked, 0, bs.Name, string(policy.ReasonNone))
	default:
		e.emit(blocked, 1, bs.Name, string(bs.Reason))
	}
	e.emit(breaker, boolValue(bs.Breaker.Tripped), bs.Name)
}

// actuatorStatus is the status of a bridge the actuator does not know yet.
func actuatorStatus(name string) actuator.BridgeStatus {
	return actuator.BridgeStatus{Name: name}
}

func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

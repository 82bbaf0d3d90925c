package actuator

import (
	"context"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/logline"
)

// TestForgedFutureStatsCannotLiftTheWindowGuard runs the model and the
// actuator together. With emergency_at_limit on, outside every window, a
// leaking bridge below its limit must wait. One forged "Stats 149" stamped a
// day ahead once pinned the bridge at its limit, lifted the window guard and
// had it restarted; afterwards recovery could never be seen. It must be
// rejected instead, and change nothing.
func TestForgedFutureStatsCannotLiftTheWindowGuard(t *testing.T) {
	cfg := baseConfig(t)
	cfg.EmergencyAtLimit = true
	rg := newRig(t, cfg)
	rg.now = t0.Add(10 * time.Hour) // 13:00 in Berlin, outside the window
	m, err := cluster.New(cluster.Options{
		WebBridges:  []cluster.Member{{Name: "wb1", Restartable: true}},
		CallBridges: []cluster.Member{{Name: "cb1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wb := func(at time.Time, active int64) *logline.Line {
		return &logline.Line{Kind: logline.WebBridgeStats, Host: []byte("wb1"), Time: at,
			WebBridge: logline.WebBridge{Active: active, Connections: 1000, Disconnections: 900}}
	}
	cb := func(at time.Time) *logline.Line {
		return &logline.Line{Kind: logline.CallBridgeStats, Host: []byte("cb1"), Time: at,
			CallBridge: logline.CallBridge{CMA: logline.Pair{Current: 1, Peak: 2}}}
	}
	start := rg.now
	m.Observe(cb(start), start)
	var last string
	for i := range 24 { // two hours of 5-minute reports
		now := start.Add(time.Duration(i+1) * 5 * time.Minute)
		m.Observe(wb(now.Add(-time.Minute), 100), now.Add(-time.Minute))
		if i == 20 {
			forged := wb(now.Add(24*time.Hour), 149)
			if got := m.Observe(forged, now.Add(-30*time.Second)); got != cluster.RejectedFuture {
				t.Errorf("forged line: outcome %d, want RejectedFuture", got)
			}
		}
		m.Observe(cb(now), now)
		rg.now = now
		ds, _ := rg.a.Step(context.Background(), m.Snapshot(now), now)
		if ds[0].Emergency || ds[0].RestartNow {
			t.Fatalf("at %s: %s (%s); a forged line lifted the window guard", now, ds[0].Reason, ds[0].Detail)
		}
		last = string(ds[0].Reason)
	}
	if last != "outside_window" {
		t.Errorf("last decision %s, want outside_window: the leak is proven and sustained, only the window holds it", last)
	}
	if rg.r.n() != 0 {
		t.Errorf("%d restarts outside the window", rg.r.n())
	}
}

package cli

import (
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/logline"
)

// The what-if takes what its restarts freed off later counts, counts the
// minutes at the limit in that world, and forgets the freed sessions when
// the logs show a real restart.
func TestWhatIfWorld(t *testing.T) {
	w := newWhatIfWorld(cluster.Options{DefaultLimit: 149, WebBridges: []cluster.Member{{Name: "wb1", Hosts: []string{"CMS1"}}}})
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	c := int64(1000)
	sample := func(min int, active int64) int64 {
		c += 10
		l := &logline.Line{Kind: logline.WebBridgeStats, Host: []byte("cms1"), Time: t0.Add(time.Duration(min) * time.Minute),
			WebBridge: logline.WebBridge{Active: active, Connections: c, Disconnections: c - active}}
		w.rewrite(l)
		return l.WebBridge.Active
	}
	sample(0, 149) // at the limit for 3 minutes
	sample(1, 149)
	sample(3, 140)
	if cut := w.restarted("wb1", 140, 120); cut != 20 {
		t.Errorf("real sessions cut = %d, want 140 - 120", cut)
	}
	if got := sample(4, 150); got != 30 {
		t.Errorf("count after the what-if restart = %d, want 150 - 120", got)
	}
	c = 5 // a real restart: the counters went back
	if got := sample(5, 4); got != 4 {
		t.Errorf("count after a real restart = %d, want the logged 4", got)
	}
	sample(6, 149)
	sample(30, 149) // a 24-minute gap at the limit counts 5
	r := w.report()["wb1"]
	if r.Restarts != 1 || r.RealSessionsCut != 20 || r.MinutesAtLimit != 3+5 {
		t.Errorf("report = %+v, want 1 restart, 20 cut, 8 minutes at limit", r)
	}
}

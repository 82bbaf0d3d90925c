package exporter

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
	"github.com/leakwatch/leakwatch/internal/logline"
	"github.com/leakwatch/leakwatch/internal/policy"
	"github.com/leakwatch/leakwatch/internal/status"
)

// largeState returns a fresh cluster of nwb Web Bridges and ncb Call
// Bridges, each Web Bridge with a proven leak and a decision.
func largeState(nwb, ncb int) status.State {
	st := fixture()
	st.Cluster.WebBridges, st.Cluster.CallBridges, st.Policy.Bridges = nil, nil, nil
	for i := range nwb {
		name := fmt.Sprintf("wb%03d", i)
		st.Cluster.WebBridges = append(st.Cluster.WebBridges, cluster.WebBridge{Name: name, Limit: 149, Seen: true,
			LastSeen: now.Add(-time.Minute), Sessions: int64(i % 149), Connections: 10000 + int64(i), Disconnections: 9000,
			LeakKnown: true, LeakLowerBound: int64(i % 40)})
		st.Policy.Bridges = append(st.Policy.Bridges, actuator.BridgeStatus{Name: name, Reason: policy.ReasonOutsideWindow,
			LastRestart: ledger.Restart{Bridge: name, Started: now.Add(-24 * time.Hour), Result: ledger.ResultOK},
			Restarts:    map[ledger.Result]uint64{ledger.ResultOK: 1}})
	}
	for i := range ncb {
		st.Cluster.CallBridges = append(st.Cluster.CallBridges, cluster.CallBridge{Name: fmt.Sprintf("cb%02d", i), Seen: true,
			LastSeen: now.Add(-2 * time.Minute), Sample: logline.CallBridge{CMA: logline.Pair{Current: 14, Peak: 17},
				CallLegs: logline.Pair{Current: 20, Peak: 24}, HasCallLegs: true}})
	}
	return st
}

// BenchmarkScrape100WebBridges measures a whole /metrics request (state
// collector, Go and process collectors, text encoding) with 100 Web Bridges
// and 10 Call Bridges known. Target: under 5 ms a scrape.
func BenchmarkScrape100WebBridges(b *testing.B) {
	st := largeState(100, 10)
	h := promhttp.HandlerFor(NewRegistry(func() status.State { return st }), promhttp.HandlerOpts{})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

package exporter

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"

	"github.com/leakwatch/leakwatch/internal/ha"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/status"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// scrape serves the registry over HTTP as Prometheus would scrape it and
// returns the body.
func scrape(t *testing.T, h http.Handler) []byte {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("scraping: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading scrape: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape status %s: %s", resp.Status, body)
	}
	return body
}

// TestPromtoolCheckMetrics lints a full scrape with promtool check metrics:
// no error and no warning (names, units, _total suffixes, help texts).
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := harness.Need(t, "promtool")
	// With every optional family present: an HA pair's, labelled with its
	// cms_cluster.
	withHA := func() status.State {
		st := fixture()
		st.HA = &ha.Status{Name: "lw-a", Up: true, Leader: true, LeaderName: "lw-a"}
		return st
	}
	reg := NewRegistry(withHA, "site-a")
	body := scrape(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	if !bytes.Contains(body, []byte(`leakwatch_ha_leader{cms_cluster="site-a"} 1`)) {
		t.Fatalf("scrape lacks the HA gauge:\n%s", body)
	}

	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

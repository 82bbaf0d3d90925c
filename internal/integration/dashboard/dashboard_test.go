package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// emptyByDesign lists the dashboard queries that may return nothing after
// a healthy demo run, keyed by panel title and refId. Each query here is
// still sent to Prometheus and must be accepted (HTTP 200); its witness,
// the same series without the filter that makes it empty, must return data,
// so that a renamed metric cannot hide behind this list.
var emptyByDesign = map[string]struct {
	reason  string
	witness string
}{
	// The panel draws the periods when the estimate was invalid. In the
	// demo the model warms up after one Call Bridge report period (5
	// simulated minutes, 2.5 s at 120x), usually before Prometheus's first
	// scrape, and nothing goes stale afterwards: no invalid period to draw.
	"Cluster leak: estimate and lower bound/C": {
		reason:  "shows only periods when the estimate is invalid; the demo's estimate is valid from the first scrapes on",
		witness: `cms_cluster_leak_estimate_valid{instance=~".+"}`,
	},
	// The demo runs one leakwatch without ha, which exports no HA series
	// by design (a lone leakwatch exports exactly what it did before). The
	// witness shows Prometheus scraped the demo and has no such series;
	// the metric names themselves are checked against the exporter by
	// internal/integration/opskit and exported by internal/integration/ha's pair.
	"HA: which instance acts/A": {
		reason:  "the demo runs without ha configured, so no instance has an HA role",
		witness: `leakwatch_build_info{instance=~".+"} unless on(instance) leakwatch_ha_leader`,
	},
	// The demo's inventory lists every host that logs and ignores none, so
	// no line is unlisted or ignored and no proof is withheld.
	"Statistics lines rejected or left out/B": {
		reason:  "the demo's inventory lists every host that logs: nothing is unlisted",
		witness: `leakwatch_build_info{instance=~".+"} unless on(instance) leakwatch_unlisted_lines_total`,
	},
	"Statistics lines rejected or left out/C": {
		reason:  "the demo ignores no host (inventory.ignore is empty)",
		witness: `leakwatch_build_info{instance=~".+"} unless on(instance) leakwatch_ignored_lines_total`,
	},
	"Proofs withheld by unlisted Call Bridges/A": {
		reason:  "no unlisted Call Bridge reports in the demo",
		witness: `leakwatch_build_info{instance=~".+"} unless on(instance) leakwatch_proofs_withheld`,
	},
	"HA: etcd reachable/A": {
		reason:  "the demo runs without ha configured, so nothing talks to etcd",
		witness: `leakwatch_build_info{instance=~".+"} unless on(instance) leakwatch_ha_up`,
	},
	// A forecast needs a day of proven history after a restart (two after
	// a start); the demo runs an hour or two of simulated time. The witness
	// is the forecast saying how much history it still needs.
	"Days until full (forecast)/A": {
		reason:  "no bridge has the day of history a forecast needs in a short demo",
		witness: `cms_webbridge_forecast_history_needed_seconds{instance=~".+"} > 0`,
	},
	"Forecast: leak growth, usual real peak, history still needed/A": {
		reason:  "no bridge has the day of history a forecast needs in a short demo",
		witness: `cms_webbridge_forecast_history_needed_seconds{instance=~".+"} > 0`,
	},
}

const (
	// demoSpeed runs an hour of simulated logs in 30 s: the demo's leak
	// passes the threshold, is sustained, and cms2 is restarted within
	// about 30 s of the start.
	demoSpeed = "120"
	// demoDuration bounds the demo if the test dies without stopping it.
	demoDuration = 170 * time.Second
	// eventTimeout bounds the wait for the leak, restart and recovery.
	eventTimeout = 100 * time.Second
)

// TestDashboardQueriesReturnData starts `leakwatch demo`, lets a real
// Prometheus scrape it (with the alerting rules loaded) until the demo has
// shown a leak, a restart and the recovery, then runs every query of the
// Grafana dashboard: each must be accepted and return data, either at the
// end (instant query) or at some point of the run (range query, for the
// panels that show events such as a restart), unless emptyByDesign lists
// it. Every alerting rule must also evaluate without error on the demo's
// series.
func TestDashboardQueriesReturnData(t *testing.T) {
	harness.Need(t, "prometheus") // before the demo starts
	bin := harness.Binary(t)
	root := harness.RepoRoot(t)
	queries, err := harness.DashboardQueries(filepath.Join(root, "dashboards", "cms-webbridge-leaks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(queries) == 0 {
		t.Fatal("the dashboard has no queries")
	}

	ctx := t.Context()
	client := &http.Client{Timeout: 10 * time.Second}
	demoAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	demoURL := "http://" + demoAddr
	start := time.Now()
	demo := harness.Start(t, nil, bin, "demo",
		"--speed", demoSpeed,
		"--web.listen-address", demoAddr,
		"--duration", demoDuration.String(),
		"--log.level", "warn")
	harness.Eventually(t, 20*time.Second, "the demo's /-/ready", func() bool {
		code, _ := harness.Get(demoURL + "/-/ready")
		return code == http.StatusOK
	})

	prom := harness.StartPrometheus(t, prometheusConfig(filepath.Join(root, "config", "prometheus", "alerts.yml"), demoAddr))

	// The leak, seen by Prometheus; then the restart, seen by Prometheus;
	// then the recovery, which the status API reports (it lasts less than
	// a scrape interval in the demo, so no metric is sure to catch it).
	deadline := time.Now().Add(eventTimeout)
	waitQuery(t, client, prom.URL, deadline, "a proven leak in Prometheus",
		`max_over_time(cms_webbridge_leaked_sessions_lower_bound[10m]) > 0`)
	waitQuery(t, client, prom.URL, deadline, "a successful restart in Prometheus",
		`leakwatch_restarts_total{result="ok"} >= 1`)
	waitFor(t, deadline, "a Web Bridge recovered after its restart (/api/v1/status)", func() error {
		return recovered(ctx, client, demoURL)
	})
	// A few more scrapes after the restart, so that rates over the restart
	// and the series that appear with it have more than one sample.
	waitQuery(t, client, prom.URL, deadline, "three scrapes after the restart",
		`count_over_time(leakwatch_last_restart_timestamp_seconds[1m]) >= 3`)

	end := time.Now()
	// Controls: the checks below must be able to fail on this server. A
	// misspelled metric is empty both ways, and bad PromQL is an error.
	if how, n, err := evaluate(ctx, client, prom.URL, `cms_webbridge_sesions{instance=~".+"}`, start, end); err != nil || n != 0 {
		t.Fatalf("control: a misspelled metric gave %d series (%s query), err %v; want none", n, how, err)
	}
	if _, _, err := evaluate(ctx, client, prom.URL, `sum(cms_webbridge_sessions`, start, end); err == nil {
		t.Fatal("control: unbalanced parentheses were accepted")
	}

	var nonEmpty, allowed int
	for _, q := range queries {
		name := q.Panel + "/" + q.RefID
		how, series, err := evaluate(ctx, client, prom.URL, q.Expr, start, end)
		if err != nil {
			t.Errorf("panel %q %s: %s: %v", q.Panel, q.RefID, q.Expr, err)
			continue
		}
		if series > 0 {
			nonEmpty++
			t.Logf("ok    %-45s %s query: %d series", name, how, series)
			continue
		}
		entry, ok := emptyByDesign[name]
		if !ok {
			t.Errorf("panel %q %s returns no data after a demo run with a leak, a restart and a recovery (instant and range): %s", q.Panel, q.RefID, q.Expr)
			continue
		}
		allowed++
		t.Logf("empty %-45s allowed: %s", name, entry.reason)
		res, err := harness.InstantQuery(ctx, client, prom.URL, entry.witness, time.Time{})
		switch {
		case err != nil:
			t.Errorf("witness of %s: %s: %v", name, entry.witness, err)
		case res.Series == 0:
			t.Errorf("witness of %s returns no data, so the allowed empty query hides a missing metric: %s", name, entry.witness)
		}
	}
	t.Logf("%d dashboard queries: %d returned data, %d empty by design", len(queries), nonEmpty, allowed)

	checkRules(t, ctx, client, prom.URL)

	if err := demo.Stop(10 * time.Second); err != nil {
		t.Errorf("stopping the demo: %v", err)
	}
}

// prometheusConfig scrapes the demo every second and evaluates the alerting
// rules every second.
func prometheusConfig(rules, target string) string {
	return fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: leakwatch
    static_configs:
      - targets: [%s]
`, strconv.Quote(rules), strconv.Quote(target))
}

// evaluate runs expr as an instant query at the server's now and, when
// that returns nothing, as a range query over [start, end] at a 1 s step:
// panels such as "restarts in the last 2 minutes" are empty at most
// instants but must show the restart somewhere in the run. It returns which
// query answered and the number of series.
func evaluate(ctx context.Context, client *http.Client, base, expr string, start, end time.Time) (string, int, error) {
	res, err := harness.InstantQuery(ctx, client, base, expr, time.Time{})
	if err != nil {
		return "", 0, fmt.Errorf("instant query: %w", err)
	}
	if res.Series > 0 {
		return "instant", res.Series, nil
	}
	n, err := rangeQuery(ctx, client, base, expr, start, end, time.Second)
	if err != nil {
		return "", 0, fmt.Errorf("range query: %w", err)
	}
	return "range", n, nil
}

// rangeQuery evaluates expr through /api/v1/query_range and returns the
// number of series that have at least one point.
func rangeQuery(ctx context.Context, client *http.Client, base, expr string, start, end time.Time, step time.Duration) (int, error) {
	form := url.Values{
		"query": {expr},
		"start": {harness.PromSeconds(start)},
		"end":   {harness.PromSeconds(end)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	if err := harness.PromAPI(ctx, client, http.MethodPost, base+"/api/v1/query_range", form, &data); err != nil {
		return 0, err
	}
	if data.ResultType != "matrix" {
		return 0, fmt.Errorf("range query %q answered a %s, want a matrix", expr, data.ResultType)
	}
	n := 0
	for _, s := range data.Result {
		if len(s.Values) > 0 {
			n++
		}
	}
	return n, nil
}

// waitQuery polls Prometheus until expr returns at least one series.
func waitQuery(t *testing.T, client *http.Client, base string, deadline time.Time, what, expr string) {
	t.Helper()
	waitFor(t, deadline, what+" ("+expr+")", func() error {
		res, err := harness.InstantQuery(t.Context(), client, base, expr, time.Time{})
		switch {
		case err != nil:
			return err
		case res.Series == 0:
			return errors.New("no series yet")
		}
		return nil
	})
}

// waitFor polls cond every 250 ms until it returns nil, failing the test
// at deadline with the last reason cond gave.
func waitFor(t *testing.T, deadline time.Time, what string, cond func() error) {
	t.Helper()
	began := time.Now()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("waiting for %s: %v", what, t.Context().Err())
		case <-tick.C:
		}
	}
	t.Logf("%s: after %s", what, time.Since(began).Round(100*time.Millisecond))
}

// recovered returns nil when the demo's status API shows a Web Bridge whose
// last restart succeeded and which is no longer recovering, with its
// breaker closed: the restart's effect was seen in its stats.
func recovered(ctx context.Context, client *http.Client, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/status", nil)
	if err != nil {
		return fmt.Errorf("building status request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("fetching status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching status: HTTP %d", resp.StatusCode)
	}
	var status struct {
		WebBridges []struct {
			Name   string `json:"name"`
			Policy struct {
				Reason     string `json:"reason"`
				Recovering bool   `json:"recovering"`
				Breaker    struct {
					Tripped bool `json:"tripped"`
				} `json:"breaker"`
				LastRestart *struct {
					Result string `json:"result"`
				} `json:"last_restart"`
			} `json:"policy"`
		} `json:"web_bridges"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&status); err != nil {
		return fmt.Errorf("decoding status: %w", err)
	}
	var states []string
	for _, wb := range status.WebBridges {
		p := wb.Policy
		if p.LastRestart != nil && p.LastRestart.Result == "ok" && !p.Recovering && !p.Breaker.Tripped {
			return nil
		}
		states = append(states, fmt.Sprintf("%s: %s, recovering %t, breaker tripped %t", wb.Name, p.Reason, p.Recovering, p.Breaker.Tripped))
	}
	return fmt.Errorf("no Web Bridge recovered from a restart: %s", strings.Join(states, "; "))
}

// checkRules fails the test for every alerting rule that Prometheus could
// not evaluate on the demo's series, and for a rules file that did not load.
func checkRules(t *testing.T, ctx context.Context, client *http.Client, base string) {
	t.Helper()
	var data struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name      string `json:"name"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
				State     string `json:"state"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := harness.PromAPI(ctx, client, http.MethodGet, base+"/api/v1/rules", nil, &data); err != nil {
		t.Errorf("listing rules: %v", err)
		return
	}
	n := 0
	for _, g := range data.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health == "err" {
				t.Errorf("rule %s/%s fails to evaluate: %s", g.Name, r.Name, r.LastError)
			}
			if r.State == "firing" || r.State == "pending" {
				t.Logf("rule %s/%s is %s during the demo", g.Name, r.Name, r.State)
			}
		}
	}
	if n == 0 {
		t.Error("prometheus loaded no rules from config/prometheus/alerts.yml")
	}
}

package web

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/policy"
	"github.com/leakwatch/leakwatch/internal/status"
)

func TestStatusPage(t *testing.T) {
	resp, body := do(t, newTestHandler(t, realistic(), ""), "GET", "/")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="10">`,
		`<span class="mode">ENFORCE</span>`,
		`href="/metrics"`, `href="/api/v1/status"`,
		// Cluster summary: sums, unknown estimate and why.
		`<div class="n">290</div>`, `17 / 22`,
		`Estimate unknown: call bridge cb2 stale (last report 20m ago)`,
		// wb1: bar at 80 % in amber, proven leak, fresh age, blocked verdict.
		`<div class="fill warn" style="width: 80%">`, `120 / 149`, `≥ 40`, `42s ago`,
		`blocked: outside window (next: Sat 02:00 CET)`,
		// wb2: recovering; 20 % green bar.
		`<div class="fill ok" style="width: 20%">`,
		`blocked: restarted, waiting for recovery: restarted at 15:55`,
		// wb3: stale, grey bar, breaker.
		`stale: 14m ago`, `<div class="fill muted" style="width: 93%">`,
		`breaker tripped: no sample within recover_timeout 15m showed the leak gone — run leakwatch reset wb3`,
		// wb4 never seen, no decision; wbold only on record.
		`last restart 5m ago: ok`,
		`never reported`, `no decision yet`, `not in the cluster any more`,
		`not monitored: kept only in the restart record`, `last restart 2d ago: failed`,
		// Call Bridges.
		`14 / 17`, `20 / 24`, `stale: 20m ago`,
		// Inputs.
		`<span class="down">DOWN</span>`, `bind 0.0.0.0:5514: address already in use`, `source_not_allowed 5, too_large 2`,
		`No audit log configured.`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<no value>", "ZgotmplZ", "<script", "src=", "<link", "http://", "https://", "<form"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
}

// TestStatusPageEscapes: names come from syslog hostnames, which an
// attacker on the network may choose; they must come out as text.
func TestStatusPageEscapes(t *testing.T) {
	st := realistic()
	st.Cluster.WebBridges[0].Name = `<img onerror=alert(1)>`
	st.Inputs[0].Detail = `"><b>x</b>`
	_, body := do(t, newTestHandler(t, st, ""), "GET", "/")
	if strings.Contains(body, "<img") || strings.Contains(body, "<b>x") {
		t.Error("page renders markup from state strings")
	}
	if !strings.Contains(body, "&lt;img onerror=alert(1)&gt;") {
		t.Error("page lacks the escaped name")
	}
}

func TestStatusPageObserveMode(t *testing.T) {
	st := realistic()
	st.Policy.Mode = policy.ModeObserve
	st.Policy.Bridges[0].Reason = policy.ReasonObserveMode
	st.Policy.Bridges[0].Detail = "would restart (observe mode): proven leak 40 ≥ 20 since 14:00"
	st.Ready = false
	_, body := do(t, newTestHandler(t, st, ""), "GET", "/")
	for _, want := range []string{`<span class="mode">OBSERVE</span>`, "never restarts anything",
		"would restart (observe mode): proven leak 40", "Not ready"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestStatusPageEmptyState(t *testing.T) {
	_, body := do(t, newTestHandler(t, status.State{Now: now}, ""), "GET", "/")
	for _, want := range []string{"No Web Bridge known yet", "No Call Bridge known yet", "No input configured", "UNKNOWN"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<no value>") {
		t.Error("page contains <no value>")
	}
}

func writeAudit(t *testing.T, entries []audit.Entry) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := log.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStatusPageAuditTail(t *testing.T) {
	var entries []audit.Entry
	for i := range 30 {
		entries = append(entries, audit.Entry{Time: ago(time.Duration(30-i) * time.Minute), Event: audit.EventDecision,
			Bridge: "wb1", Decision: "hold", Reason: "outside_window", Detail: fmt.Sprintf("decision number %02d", i)})
	}
	entries = append(entries,
		audit.Entry{Time: ago(20 * time.Second), Event: audit.EventRestartFinished, Bridge: "wb2", Result: "failed", Error: "ssh: handshake failed"},
		audit.Entry{Time: ago(10 * time.Second), Event: audit.EventBreakerTripped, Bridge: "wb2", Reason: policy.TripRestartFailed, Detail: "restart command failed"})
	_, body := do(t, newTestHandler(t, realistic(), writeAudit(t, entries)), "GET", "/")

	// Newest first: the breaker, the failed restart, then decisions 29 down to 12.
	order := []string{"restart_failed: restart command failed", "result failed: ssh: handshake failed"}
	for i := 29; i >= 12; i-- {
		order = append(order, fmt.Sprintf("decision number %02d", i))
	}
	last := -1
	for _, want := range order {
		i := strings.Index(body, want)
		if i < 0 {
			t.Fatalf("page lacks audit entry %q", want)
		}
		if i < last {
			t.Errorf("audit entry %q out of order", want)
		}
		last = i
	}
	if strings.Contains(body, "decision number 11") {
		t.Error("page shows more than 20 audit entries")
	}
	if !strings.Contains(body, `<td class="crit">breaker tripped</td>`) {
		t.Error("breaker trip not marked critical")
	}
}

func TestStatusPageAuditUnreadable(t *testing.T) {
	dir := t.TempDir() // a directory cannot be read as a file
	_, body := do(t, newTestHandler(t, realistic(), dir), "GET", "/")
	if !strings.Contains(body, "Cannot read the audit log") {
		t.Error("page does not say the audit log is unreadable")
	}
}

func TestAPIStatus(t *testing.T) {
	_, body := do(t, newTestHandler(t, realistic(), ""), "GET", "/api/v1/status")
	var doc struct {
		Time    string `json:"time"`
		Cluster struct {
			EstimateValid  bool   `json:"estimate_valid"`
			InvalidReason  string `json:"invalid_reason"`
			LeakEstimate   *int64 `json:"leak_estimate"`
			LeakLowerBound *int64 `json:"leak_lower_bound"`
		} `json:"cluster"`
		WebBridges []map[string]any `json:"web_bridges"`
		Counters   struct {
			StatsLines     map[string]uint64 `json:"stats_lines"`
			MalformedLines map[string]uint64 `json:"malformed_lines"`
		} `json:"counters"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("decoding: %v\n%s", err, body)
	}
	if _, err := time.Parse(time.RFC3339, doc.Time); err != nil {
		t.Errorf("time %q is not RFC 3339: %v", doc.Time, err)
	}
	if doc.Cluster.EstimateValid || doc.Cluster.LeakEstimate != nil || doc.Cluster.LeakLowerBound != nil || doc.Cluster.InvalidReason == "" {
		t.Errorf("invalid estimate exported as %+v", doc.Cluster)
	}
	if !strings.Contains(body, `"leak_estimate": null`) {
		t.Error("unknown estimate is not null")
	}
	if len(doc.WebBridges) != 5 {
		t.Fatalf("%d web bridges, want 5 (4 in the cluster, 1 on record)", len(doc.WebBridges))
	}
	wb1, wb4, wbold := doc.WebBridges[0], doc.WebBridges[3], doc.WebBridges[4]
	if wb1["leak_lower_bound"] != 40.0 || wb1["sessions"] != 120.0 {
		t.Errorf("wb1 = %v", wb1)
	}
	if last, _ := wb1["last_report"].(string); !strings.HasPrefix(last, "2025-03-20T15:59:18+01:00") {
		t.Errorf("wb1 last_report %v, want 2025-03-20T15:59:18+01:00", wb1["last_report"])
	}
	if wb4["sessions"] != nil || wb4["last_report"] != nil || wb4["leak_lower_bound"] != nil {
		t.Errorf("never-seen wb4 has values: %v", wb4)
	}
	if wbold["in_cluster"] != false {
		t.Errorf("wbold in_cluster = %v", wbold["in_cluster"])
	}
	if doc.Counters.StatsLines["callbridge"] != 300 || len(doc.Counters.MalformedLines) != 2 {
		t.Errorf("counters = %+v", doc.Counters)
	}
}

func TestAPIStatusValidEstimate(t *testing.T) {
	st := realistic()
	st.Cluster.Leak.Valid, st.Cluster.Leak.Estimate, st.Cluster.Leak.BoundKnown, st.Cluster.Leak.LowerBound = true, 113, true, 108
	_, body := do(t, newTestHandler(t, st, ""), "GET", "/api/v1/status")
	for _, want := range []string{`"leak_estimate": 113`, `"leak_lower_bound": 108`, `"estimate_valid": true`} {
		if !strings.Contains(body, want) {
			t.Errorf("API lacks %s", want)
		}
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// TestAPIFieldNamesSnakeCase checks every JSON name of the document.
func TestAPIFieldNamesSnakeCase(t *testing.T) {
	for _, name := range jsonNames(t, apiStatus{}) {
		if !snakeCase.MatchString(name) {
			t.Errorf("JSON field %q is not snake_case", name)
		}
	}
}

func TestAuditRowSaysTheVerdictOnce(t *testing.T) {
	at := time.Date(2026, 3, 18, 10, 0, 0, 0, time.UTC)
	for _, e := range []audit.Entry{
		{Time: at, Event: audit.EventDecision, Bridge: "cms2", Decision: "restart", Detail: "restart: proven leak 30 >= 25"},
		{Time: at, Event: audit.EventRestartStarted, Bridge: "cms2", Reason: "none", Detail: "restart: proven leak 30 >= 25"},
	} {
		text := auditRowOf(e, at, time.UTC).Text
		if strings.Count(text, "restart") != 1 || strings.HasPrefix(text, "none") {
			t.Errorf("%s row reads %q", e.Event, text)
		}
	}
}

// TestStatusPageAnswersAtAGlance: charts, the forecast, the policy block,
// colours by meaning, no repeated hostnames, error counters only when
// non-zero.
func TestStatusPageAnswersAtAGlance(t *testing.T) {
	st := realistic()
	_, body := do(t, newTestHandler(t, st, ""), "GET", "/")
	for _, want := range []string{
		// Two inline charts per bridge seen, with the limit and forecast.
		`<svg class="chart"`, `class="c-limit"`, `class="c-forecast"`, `class="c-full"`,
		"wb1: sessions and proven leak, last 24 hours", "wb1: sessions and proven leak, last 7 days",
		"forecast full Sun 2025-03-23 00:00 (in 2d): leak 41 growing 12.0/day &#43; usual real peak 80",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The policy block, as loaded, changes marked.
	for _, want := range []string{"Policy in force", `<tr class="changed"><td>plan</td><td>forecast</td><td class="sub">changed; default threshold</td>`,
		`<td>sustain</td><td>1h0m0s</td><td class="sub">default</td>`,
		"Sat 02:00-04:00; next Sat 2025-03-22 02:00 CET (in 34h)", "<td>forecast_margin</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("policy block lacks %q", want)
		}
	}
	// A proven leak of 40 over the threshold of 30 is amber, never green.
	if !strings.Contains(body, `<td class="num warn">≥ 40</td>`) {
		t.Error("a leak over the threshold is not amber")
	}
	// wb2's only host is its name: not repeated; wb1's is shown.
	if strings.Contains(body, `<strong>wb2</strong><div class="sub">wb2</div>`) || !strings.Contains(body, `<strong>wb1</strong><div class="sub">cms01</div>`) {
		t.Error("hostnames: want cms01 under wb1 and nothing under wb2")
	}
	// Zero error counters are not shown.
	for _, bad := range []string{"audit entries lost", "lines dropped", "malformed stats lines: callbridge"} {
		if strings.Contains(body, bad) {
			t.Errorf("page shows the zero counter %q", bad)
		}
	}
	if !strings.Contains(body, "malformed stats lines: webbridge") {
		t.Error("the non-zero malformed counter is missing")
	}

	// Without any input error the Errors column goes.
	st.Inputs[1].Errors = map[string]uint64{"too_large": 0}
	_, body = do(t, newTestHandler(t, st, ""), "GET", "/")
	if strings.Contains(body, "<th>Errors</th>") || strings.Contains(body, "too_large") {
		t.Error("an Errors column with nothing in it")
	}
}

// "hold" (no restart needed) and "blocked" look different.
func TestHoldAndBlockedLookDifferent(t *testing.T) {
	hold, hc := verdict(actuator.BridgeStatus{Name: "a", Reason: policy.ReasonForecastNotDue, Detail: "forecast full in 23 days"}, nil, cet)
	blocked, bc := verdict(actuator.BridgeStatus{Name: "a", Reason: policy.ReasonCooldown, Detail: "cooldown"}, nil, cet)
	if !strings.HasPrefix(hold, "hold: ") || !strings.HasPrefix(blocked, "blocked: ") || hc == bc {
		t.Errorf("hold %q (%s) and blocked %q (%s) must differ in word and colour", hold, hc, blocked, bc)
	}
}

// The demo's footer says so.
func TestFooterNamesTheDemo(t *testing.T) {
	st := realistic()
	st.ConfigFile = "demo"
	_, body := do(t, newTestHandler(t, st, ""), "GET", "/")
	if !strings.Contains(body, "Configuration demo,") || strings.Contains(body, "(defaults)") {
		t.Error("footer does not say demo")
	}
}

// A large cluster leak is amber or red on the cards, never green.
func TestClusterLeakCardsColouredBySize(t *testing.T) {
	st := realistic()
	st.Cluster.Leak = cluster.Leak{Valid: true, Sessions: 290, Estimate: 151, BoundKnown: true, LowerBound: 320}
	_, body := do(t, newTestHandler(t, st, ""), "GET", "/")
	// Threshold 30, limits 4 x 149: 151 is amber, 320 (over half) red.
	if !strings.Contains(body, `<div class="n warn">151</div>`) || !strings.Contains(body, `<div class="n crit">320</div>`) {
		t.Error("large cluster leaks are not amber and red")
	}
	st.Cluster.Leak = cluster.Leak{Valid: true, Sessions: 290, Estimate: 3, BoundKnown: true, LowerBound: 2}
	_, body = do(t, newTestHandler(t, st, ""), "GET", "/")
	if !strings.Contains(body, `<div class="n ok">3</div>`) {
		t.Error("a small cluster leak is not green")
	}
}

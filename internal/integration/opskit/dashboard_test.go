package opskit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

const instanceFilter = `instance=~"$instance"`

func dashboardPath(t *testing.T) string {
	t.Helper()
	return repoPath(t, "dashboards", "cms-webbridge-leaks.json")
}

// rawDashboard is the dashboard model as the structure tests read it.
type rawDashboard struct {
	UID           string     `json:"uid"`
	Title         string     `json:"title"`
	SchemaVersion int        `json:"schemaVersion"`
	Panels        []rawPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Datasource *rawDatasource  `json:"datasource"`
			IncludeAll bool            `json:"includeAll"`
			AllValue   string          `json:"allValue"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name       string         `json:"name"`
			BuiltIn    int            `json:"builtIn"`
			Expr       string         `json:"expr"`
			Datasource *rawDatasource `json:"datasource"`
		} `json:"list"`
	} `json:"annotations"`
}

type rawDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type rawPanel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *rawDatasource `json:"datasource"`
	GridPos    struct{ H, W, X, Y int }
	Targets    []struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Datasource *rawDatasource `json:"datasource"`
	} `json:"targets"`
	Panels []rawPanel `json:"panels"`
}

func loadDashboard(t *testing.T) rawDashboard {
	t.Helper()
	data, err := os.ReadFile(dashboardPath(t))
	if err != nil {
		t.Fatalf("reading dashboard: %v", err)
	}
	var d rawDashboard
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("parsing dashboard: %v", err)
	}
	return d
}

// allPanels flattens collapsed rows.
func allPanels(ps []rawPanel) []rawPanel {
	var out []rawPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

func isPromDatasource(ds *rawDatasource) bool {
	return ds != nil && ds.Type == "prometheus" && ds.UID == "${datasource}"
}

func TestDashboardVariables(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard uid %q, title %q: both are needed for provisioning", d.UID, d.Title)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want at least 36", d.SchemaVersion)
	}
	vars := map[string]int{}
	for i, v := range d.Templating.List {
		vars[v.Name] = i
	}
	ds, ok := vars["datasource"]
	if !ok {
		t.Fatal("no datasource variable")
	}
	if v := d.Templating.List[ds]; v.Type != "datasource" || string(v.Query) != `"prometheus"` {
		t.Errorf("datasource variable: type %q query %s, want datasource / \"prometheus\"", v.Type, v.Query)
	}
	in, ok := vars["instance"]
	if !ok {
		t.Fatal("no instance variable")
	}
	v := d.Templating.List[in]
	if v.Type != "query" || v.Definition != "label_values(leakwatch_build_info, instance)" {
		t.Errorf("instance variable: type %q definition %q", v.Type, v.Definition)
	}
	if !strings.Contains(string(v.Query), "label_values(leakwatch_build_info, instance)") {
		t.Errorf("instance variable query %s does not list leakwatch instances", v.Query)
	}
	if !isPromDatasource(v.Datasource) {
		t.Errorf("instance variable datasource %+v, want ${datasource}", v.Datasource)
	}
	if !v.IncludeAll || v.AllValue != ".+" {
		t.Errorf("instance variable: includeAll %v allValue %q, want true and .+", v.IncludeAll, v.AllValue)
	}
}

func TestDashboardPanels(t *testing.T) {
	d := loadDashboard(t)
	ids := map[int]string{}
	n := 0
	for _, p := range allPanels(d.Panels) {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panel %q reuses id %d of %q", p.Title, p.ID, prev)
		}
		ids[p.ID] = p.Title
		if p.Type == "row" {
			continue
		}
		n++
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if !isPromDatasource(p.Datasource) {
			t.Errorf("panel %q: datasource %+v, want ${datasource}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no target", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource != nil && !isPromDatasource(tg.Datasource) {
				t.Errorf("panel %q target %s: datasource %+v, want ${datasource}", p.Title, tg.RefID, tg.Datasource)
			}
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q target %s has no expression", p.Title, tg.RefID)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d panels", n)
	}
	for _, a := range d.Annotations.List {
		if a.BuiltIn == 0 && !isPromDatasource(a.Datasource) {
			t.Errorf("annotation %q: datasource %+v, want ${datasource}", a.Name, a.Datasource)
		}
	}
}

// TestDashboardLayout checks that no two panels overlap on Grafana's grid
// of 24 columns (overlapping panels are pushed around and hide each other).
func TestDashboardLayout(t *testing.T) {
	d := loadDashboard(t)
	type cell struct{ x, y int }
	used := map[cell]string{}
	for _, p := range d.Panels {
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, g)
			continue
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := used[cell{x, y}]; ok {
					t.Errorf("panel %q overlaps %q at column %d row %d", p.Title, other, x, y)
					return
				}
				used[cell{x, y}] = p.Title
			}
		}
	}
}

// selectorsWithoutInstance returns the metric selectors of expr that do not
// filter on the instance variable.
func selectorsWithoutInstance(expr string) []string {
	var bad []string
	for _, loc := range metricRef.FindAllStringIndex(expr, -1) {
		name := expr[loc[0]:loc[1]]
		rest := expr[loc[1]:]
		if !strings.HasPrefix(rest, "{") {
			bad = append(bad, name)
			continue
		}
		end := strings.Index(rest, "}")
		if end < 0 || !strings.Contains(rest[:end], instanceFilter) {
			bad = append(bad, name)
		}
	}
	return bad
}

func TestSelectorsWithoutInstance(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`cms_webbridge_sessions{instance=~"$instance"}`, nil},
		{`sum by (webbridge) (rate(leakwatch_lines_total{source="x",instance=~"$instance"}[5m]))`, nil},
		{`cms_webbridge_sessions / cms_webbridge_session_limit{instance=~"$instance"}`, []string{"cms_webbridge_sessions"}},
		{`leakwatch_mode{mode="enforce"} == 1`, []string{"leakwatch_mode"}},
	}
	for _, tt := range tests {
		if got := selectorsWithoutInstance(tt.expr); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("selectorsWithoutInstance(%q) = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestDashboardQueriesFilterInstanceAndUseExportedMetrics(t *testing.T) {
	qs, err := harness.DashboardQueries(dashboardPath(t))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, q := range qs {
		if bad := selectorsWithoutInstance(q.Raw); len(bad) > 0 {
			t.Errorf("%s %s: %v not filtered by %s: %s", q.Panel, q.RefID, bad, instanceFilter, q.Raw)
		}
		if bad := unknownMetrics(q.Raw); len(bad) > 0 {
			t.Errorf("%s %s: unknown metrics %v", q.Panel, q.RefID, bad)
		}
		for _, m := range metricRef.FindAllString(q.Raw, -1) {
			used[m] = true
		}
	}
	// Every leakwatch metric is on the dashboard somewhere.
	var missing []string
	for m := range exportedMetrics {
		if !used[m] {
			missing = append(missing, m)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("metrics on no panel: %v", missing)
	}
}

func TestExpandVariables(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: `up{instance=~"$instance"}`, want: `up{instance=~".+"}`},
		{in: `up{instance=~"${instance}"}`, want: `up{instance=~".+"}`},
		{in: `up{instance=~"${instance:regex}"}`, want: `up{instance=~".+"}`},
		{in: `up{instance=~"[[instance]]"}`, want: `up{instance=~".+"}`},
		{in: `rate(x[$__rate_interval])`, want: `rate(x[1m])`},
		{in: `increase(x[$__range]) / $__range_s`, want: `increase(x[1h]) / 3600`},
		{in: `changes(x[$__interval])`, want: `changes(x[15s])`},
		{in: `up{job=~"lw$"}`, want: `up{job=~"lw$"}`},
		{in: `up{webbridge=~"$webbridge"}`, wantErr: true},
		{in: `rate(x[$__rate_intervals])`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := harness.ExpandVariables(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("harness.ExpandVariables(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("harness.ExpandVariables(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDashboardQueriesExtraction(t *testing.T) {
	qs, err := harness.DashboardQueries("testdata/dashboard-collapsed-row.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []harness.Query{
		{Panel: "Top", RefID: "A",
			Raw:  `rate(leakwatch_lines_total{instance=~"$instance"}[$__rate_interval])`,
			Expr: `rate(leakwatch_lines_total{instance=~".+"}[1m])`},
		{Panel: "Inside", RefID: "A", Instant: true,
			Raw:  `cms_webbridge_sessions{instance=~"${instance:regex}"}`,
			Expr: `cms_webbridge_sessions{instance=~".+"}`},
		{Panel: "annotation: Restarts",
			Raw:  `changes(leakwatch_restarts_total{instance=~"[[instance]]"}[$__interval]) > 0`,
			Expr: `changes(leakwatch_restarts_total{instance=~".+"}[15s]) > 0`},
	}
	if !reflect.DeepEqual(qs, want) {
		t.Errorf("DashboardQueries:\n got %#v\nwant %#v", qs, want)
	}
}

func TestDashboardQueriesErrors(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"testdata/dashboard-unknown-variable.json", "$webbridge"},
		{"testdata/no-such-dashboard.json", "reading dashboard"},
	}
	for _, tt := range tests {
		_, err := harness.DashboardQueries(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("harness.DashboardQueries(%s) error = %v, want one containing %q", tt.path, err, tt.want)
		}
	}
	// Not JSON at all.
	bad := t.TempDir() + "/bad.json"
	if err := os.WriteFile(bad, []byte("{panels: ["), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := harness.DashboardQueries(bad); err == nil || !strings.Contains(err.Error(), "parsing dashboard") {
		t.Errorf("harness.DashboardQueries(invalid JSON) error = %v, want a parse error", err)
	}
}

// TestDashboardQueriesParseInPrometheus sends every dashboard query to a
// real Prometheus with an empty TSDB: a syntax or type error comes back as
// HTTP 400. Empty results are fine here; a test with leakwatch's demo data
// checks they are not empty.
func TestDashboardQueriesParseInPrometheus(t *testing.T) {
	qs, err := harness.DashboardQueries(dashboardPath(t))
	if err != nil {
		t.Fatal(err)
	}
	p := harness.StartPrometheus(t, "")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second}

	// The check can fail: a broken query is rejected with HTTP 400.
	_, err = harness.InstantQuery(ctx, client, p.URL, `sum by (webbridge (cms_webbridge_sessions)`, time.Time{})
	var qe *harness.QueryError
	if !errors.As(err, &qe) || qe.Status != http.StatusBadRequest || qe.Type != "bad_data" {
		t.Fatalf("broken query: error %v, want HTTP 400 bad_data", err)
	}

	t.Logf("%d queries", len(qs))
	for _, q := range qs {
		res, err := harness.InstantQuery(ctx, client, p.URL, q.Expr, time.Time{})
		if err != nil {
			t.Errorf("%s %s: %v\n%s", q.Panel, q.RefID, err, q.Expr)
			continue
		}
		if res.ResultType != "vector" {
			t.Errorf("%s %s: result type %s, want vector (Grafana plots series)", q.Panel, q.RefID, res.ResultType)
		}
	}
}

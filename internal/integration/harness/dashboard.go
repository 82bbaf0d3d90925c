package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Query is one PromQL expression of a Grafana dashboard.
type Query struct {
	// Panel is the title of the panel the query belongs to, or
	// "annotation: NAME" for an annotation query.
	Panel string
	// RefID is the target's refId ("" for annotations).
	RefID string
	// Raw is the expression as written in the dashboard, with Grafana
	// variables.
	Raw string
	// Expr is Raw with every variable replaced (see Substitutions): a
	// PromQL expression Prometheus can evaluate.
	Expr string
	// Instant is true when the target asks for an instant query only.
	Instant bool
}

// Substitutions maps the Grafana variables the dashboard may use to the
// values DashboardQueries puts in their place: every leakwatch instance
// and durations that hold several samples at a 15 s scrape interval.
var Substitutions = []struct{ Name, Value string }{
	{"__rate_interval", "1m"},
	{"__interval_ms", "15000"},
	{"__interval", "15s"},
	{"__range_s", "3600"},
	{"__range_ms", "3600000"},
	{"__range", "1h"},
	{"instance", ".+"},
}

// variableRef matches Grafana variable references: $name, ${name},
// ${name:format} and [[name]].
var variableRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z_][A-Za-z0-9_]*)\]\]`)

// ExpandVariables replaces the Grafana variables of expr with the values in
// Substitutions. It fails on a variable it does not know, so that a new
// variable in the dashboard is not silently sent to Prometheus as text.
func ExpandVariables(expr string) (string, error) {
	values := make(map[string]string, len(Substitutions))
	for _, s := range Substitutions {
		values[s.Name] = s.Value
	}
	var unknown []string
	out := variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3] // exactly one group matched
		if v, ok := values[name]; ok {
			return v
		}
		unknown = append(unknown, ref)
		return ref
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown Grafana variable %s in %q", strings.Join(unknown, ", "), expr)
	}
	return out, nil
}

// dashboard is the part of a Grafana dashboard model DashboardQueries reads.
type dashboard struct {
	Panels      []panel `json:"panels"`
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

type panel struct {
	Title   string   `json:"title"`
	Type    string   `json:"type"`
	Targets []target `json:"targets"`
	// Panels holds the panels of a collapsed row.
	Panels []panel `json:"panels"`
}

type target struct {
	RefID   string `json:"refId"`
	Expr    string `json:"expr"`
	Instant bool   `json:"instant"`
	Range   *bool  `json:"range"`
}

// DashboardQueries reads the Grafana dashboard JSON at path and returns
// every PromQL expression in it: each panel target (including panels inside
// collapsed rows) and each annotation query, in dashboard order, with
// Grafana variables expanded by ExpandVariables. Targets without an
// expression are skipped.
func DashboardQueries(path string) ([]Query, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading dashboard: %w", err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("parsing dashboard %s: %w", path, err)
	}
	var qs []Query
	add := func(q Query) error {
		expr, err := ExpandVariables(q.Raw)
		if err != nil {
			return fmt.Errorf("%s: panel %q: %w", path, q.Panel, err)
		}
		q.Expr = expr
		qs = append(qs, q)
		return nil
	}
	var walk func([]panel) error
	walk = func(ps []panel) error {
		for _, p := range ps {
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) == "" {
					continue
				}
				instant := t.Instant && (t.Range == nil || !*t.Range)
				if err := add(Query{Panel: p.Title, RefID: t.RefID, Raw: t.Expr, Instant: instant}); err != nil {
					return err
				}
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return nil, err
	}
	for _, a := range d.Annotations.List {
		if strings.TrimSpace(a.Expr) == "" {
			continue
		}
		if err := add(Query{Panel: "annotation: " + a.Name, Raw: a.Expr}); err != nil {
			return nil, err
		}
	}
	return qs, nil
}

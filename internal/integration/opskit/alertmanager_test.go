package opskit

import (
	"regexp"
	"testing"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

func TestAmtoolCheckConfig(t *testing.T) {
	amtool := harness.Need(t, "amtool")
	mustRun(t, repoPath(t, "config", "alertmanager"), amtool, "check-config", "alertmanager.yml")
}

// alertnameMatcher extracts the alert name of an alertname="X" matcher.
var alertnameMatcher = regexp.MustCompile(`^alertname\s*=\s*"?([A-Za-z0-9_]+)"?$`)

// TestAlertmanagerNamesExist checks that the inhibit rules and routes name
// alerts and severities alerts.yml defines: a renamed alert must not leave
// a rule that silently matches nothing.
func TestAlertmanagerNamesExist(t *testing.T) {
	var am struct {
		Route struct {
			Receiver string `yaml:"receiver"`
			Routes   []struct {
				Receiver string   `yaml:"receiver"`
				Matchers []string `yaml:"matchers"`
			} `yaml:"routes"`
		} `yaml:"route"`
		Receivers []struct {
			Name string `yaml:"name"`
		} `yaml:"receivers"`
		InhibitRules []struct {
			SourceMatchers []string `yaml:"source_matchers"`
			TargetMatchers []string `yaml:"target_matchers"`
			Equal          []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
	}
	readYAML(t, repoPath(t, "config", "alertmanager", "alertmanager.yml"), &am)
	names := alertNames(loadAlerts(t))
	if len(am.InhibitRules) == 0 {
		t.Error("no inhibit rules")
	}
	for i, r := range am.InhibitRules {
		for _, m := range append(append([]string{}, r.SourceMatchers...), r.TargetMatchers...) {
			sub := alertnameMatcher.FindStringSubmatch(m)
			if sub == nil {
				t.Errorf("inhibit rule %d: matcher %q is not alertname=\"...\"", i, m)
				continue
			}
			if !names[sub[1]] {
				t.Errorf("inhibit rule %d: alert %s is not in alerts.yml", i, sub[1])
			}
		}
		if len(r.Equal) == 0 {
			t.Errorf("inhibit rule %d has no equal labels: it would inhibit across instances", i)
		}
	}
	receivers := map[string]bool{}
	for _, r := range am.Receivers {
		receivers[r.Name] = true
	}
	if !receivers[am.Route.Receiver] {
		t.Errorf("route receiver %q is not defined", am.Route.Receiver)
	}
	for _, r := range am.Route.Routes {
		if !receivers[r.Receiver] {
			t.Errorf("sub-route receiver %q is not defined", r.Receiver)
		}
	}
}

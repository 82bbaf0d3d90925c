package opskit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"go.yaml.in/yaml/v3"
)

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// ruleTestFile is the part of a promtool unit test file the tests read.
type ruleTestFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels map[string]string `yaml:"exp_labels"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
}

func loadAlerts(t *testing.T) ruleFile {
	t.Helper()
	var rf ruleFile
	readYAML(t, repoPath(t, "config", "prometheus", "alerts.yml"), &rf)
	return rf
}

// alertNames returns the set of alert names in the rule file.
func alertNames(rf ruleFile) map[string]bool {
	names := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				names[r.Alert] = true
			}
		}
	}
	return names
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool := harness.Need(t, "promtool")
	rf := loadAlerts(t)
	n := 0
	for _, g := range rf.Groups {
		n += len(g.Rules)
	}
	out := mustRun(t, repoPath(t, "config", "prometheus"), promtool, "check", "rules", "alerts.yml")
	if want := fmt.Sprintf("SUCCESS: %d rules found", n); !strings.Contains(out, want) {
		t.Errorf("promtool check rules: want %q in output:\n%s", want, out)
	}
}

func TestPromtoolTestRules(t *testing.T) {
	promtool := harness.Need(t, "promtool")
	out := mustRun(t, repoPath(t, "config", "prometheus"), promtool, "test", "rules", "alerts_test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules: no SUCCESS in output:\n%s", out)
	}
}

func TestPromtoolCheckConfig(t *testing.T) {
	promtool := harness.Need(t, "promtool")
	dir := repoPath(t, "config", "prometheus")
	out := mustRun(t, dir, promtool, "check", "config", "prometheus.yml")
	// rule_files is a glob: a wrong path matches nothing and still passes.
	// The rules must have been found and checked along with the config.
	for _, want := range []string{"SUCCESS: 1 rule files found", "Checking alerts.yml"} {
		if !strings.Contains(out, want) {
			t.Errorf("promtool check config: want %q in output:\n%s", want, out)
		}
	}
}

// TestPromtoolCheckConfigFailsOnBadRules shows the config check above can
// fail: the same prometheus.yml next to a broken alerts.yml is rejected.
func TestPromtoolCheckConfigFailsOnBadRules(t *testing.T) {
	promtool := harness.Need(t, "promtool")
	dir := t.TempDir()
	cfg, err := os.ReadFile(repoPath(t, "config", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := "groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: cms_webbridge_sessions >\n"
	if err := os.WriteFile(filepath.Join(dir, "alerts.yml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, dir, promtool, "check", "config", "prometheus.yml"); err == nil {
		t.Errorf("promtool check config accepted a broken rule file:\n%s", out)
	}
}

func TestAlertsRequired(t *testing.T) {
	names := alertNames(loadAlerts(t))
	for _, want := range []string{
		"CMSWebBridgeNearSessionLimit",
		"CMSWebBridgeAtSessionLimit",
		"CMSWebBridgeLeakForecast",
		"CMSWebBridgeLeaking",
		"LeakwatchDataStale",
		"LeakwatchRestartFailed",
		"LeakwatchBreakerTripped",
		"LeakwatchInputDown",
		"LeakwatchDown",
	} {
		if !names[want] {
			t.Errorf("alerts.yml has no alert %s", want)
		}
	}
}

// TestAlertsAnnotated checks what the operator receives at 3 a.m.: a
// severity Alertmanager routes on, and a summary, a description with the
// values and a runbook.
func TestAlertsAnnotated(t *testing.T) {
	for _, g := range loadAlerts(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			switch r.Labels["severity"] {
			case "critical", "warning":
			default:
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, r.Labels["severity"])
			}
			for _, key := range []string{"summary", "description", "runbook"} {
				if strings.TrimSpace(r.Annotations[key]) == "" {
					t.Errorf("%s: annotation %s is empty", r.Alert, key)
				}
			}
			if !strings.Contains(r.Annotations["description"], "{{") {
				t.Errorf("%s: description shows no value or label: %q", r.Alert, r.Annotations["description"])
			}
			if len(r.Annotations) != 3 {
				t.Errorf("%s: annotations %v, want exactly summary, description, runbook", r.Alert, r.Annotations)
			}
		}
	}
}

func TestAlertsUseExportedMetrics(t *testing.T) {
	for _, g := range loadAlerts(t).Groups {
		for _, r := range g.Rules {
			text := r.Expr
			for _, a := range r.Annotations {
				text += "\n" + a // annotations query metrics too
			}
			if bad := unknownMetrics(text); len(bad) > 0 {
				t.Errorf("%s: unknown metrics %v", r.Alert, bad)
			}
		}
	}
}

// TestAlertsTestedBothWays requires every alert to appear in alerts_test.yml
// at least once firing and once not firing.
func TestAlertsTestedBothWays(t *testing.T) {
	var tf ruleTestFile
	readYAML(t, repoPath(t, "config", "prometheus", "alerts_test.yml"), &tf)
	if len(tf.RuleFiles) != 1 || tf.RuleFiles[0] != "alerts.yml" {
		t.Errorf("alerts_test.yml rule_files = %v, want [alerts.yml]", tf.RuleFiles)
	}
	firing, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tf.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				firing[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	names := alertNames(loadAlerts(t))
	for name := range names {
		if !firing[name] {
			t.Errorf("alerts_test.yml never shows %s firing", name)
		}
		if !silent[name] {
			t.Errorf("alerts_test.yml never shows %s not firing", name)
		}
	}
	for name := range firing {
		if !names[name] {
			t.Errorf("alerts_test.yml tests %s, which alerts.yml does not define", name)
		}
	}
}

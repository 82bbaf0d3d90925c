package opskit

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// composeFile is the part of docker-compose.yml the tests read.
type composeFile struct {
	Services map[string]struct {
		Build       any               `yaml:"build"`
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		Secrets     []string          `yaml:"secrets"`
	} `yaml:"services"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	readYAML(t, repoPath(t, "docker-compose.yml"), &c)
	return c
}

// composeCommand returns the program and leading arguments of Docker
// Compose: docker-compose (v1, or v2 installed standalone), else the
// "docker compose" plugin. Neither needs a Docker engine for "config".
func composeCommand(t *testing.T) (string, []string) {
	t.Helper()
	if bin, err := exec.LookPath("docker-compose"); err == nil {
		return bin, nil
	}
	if docker, err := exec.LookPath("docker"); err == nil {
		if _, err := run(t, "", docker, "compose", "version"); err == nil {
			return docker, []string{"compose"}
		}
	}
	return harness.Need(t, "docker-compose"), nil // skips or fails
}

func TestDockerComposeConfig(t *testing.T) {
	bin, args := composeCommand(t)
	mustRun(t, repoRoot(t), bin, append(args, "-f", "docker-compose.yml", "config", "-q")...)
}

func TestDockerComposeServices(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"leakwatch", "prometheus", "alertmanager", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("docker-compose.yml has no service %s", name)
		}
	}
	lw := c.Services["leakwatch"]
	if lw.Build == nil {
		t.Error("leakwatch is not built from the Dockerfile")
	}
	for _, p := range []string{"9723:9723/tcp", "5514:5514/udp", "5514:5514/tcp"} {
		if !slices.Contains(lw.Ports, p) {
			t.Errorf("leakwatch does not publish %s (ports %v)", p, lw.Ports)
		}
	}
	for _, v := range []string{
		"./config/leakwatch.yaml:/etc/leakwatch/leakwatch.yaml:ro",
		"leakwatch-state:/var/lib/leakwatch",
		"${CMS_SYSLOG_DIR:-/var/log/cms}:/var/log/cms:ro",
	} {
		if !slices.Contains(lw.Volumes, v) {
			t.Errorf("leakwatch lacks volume %s (volumes %v)", v, lw.Volumes)
		}
	}
	if got := lw.Environment["LEAKWATCH_SSH_PASSWORD_FILE"]; got != "/run/secrets/mmp_password" || !slices.Contains(lw.Secrets, "mmp_password") {
		t.Errorf("leakwatch must read the MMP password from the mmp_password secret: env %q, secrets %v", got, lw.Secrets)
	}
	if f := c.Secrets["mmp_password"].File; !strings.HasPrefix(f, "${") {
		t.Errorf("secret mmp_password file %q: want a path taken from a variable with a default", f)
	}
}

// TestDockerComposeNoSecrets rejects a password written into the file: a
// variable named like a secret must take its value from the environment
// (${VAR...}) or name a file.
func TestDockerComposeNoSecrets(t *testing.T) {
	for name, svc := range loadCompose(t).Services {
		for k, v := range svc.Environment {
			upper := strings.ToUpper(k)
			if !strings.Contains(upper, "PASSWORD") && !strings.Contains(upper, "SECRET") && !strings.Contains(upper, "TOKEN") {
				continue
			}
			if strings.HasSuffix(upper, "_FILE") || strings.HasPrefix(v, "${") {
				continue
			}
			t.Errorf("service %s: %s has a literal value; take it from the environment or a file", name, k)
		}
	}
}

// TestDockerComposeBindMountsExist checks that every file or folder the
// compose file mounts from the repository exists, and that the container
// paths the other configs rely on are the ones mounted.
func TestDockerComposeBindMountsExist(t *testing.T) {
	c := loadCompose(t)
	root := repoRoot(t)
	targets := map[string]string{} // container path -> host path, per service
	for name, svc := range c.Services {
		for _, v := range svc.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) < 2 || !strings.HasPrefix(parts[0], "./") {
				continue
			}
			if _, err := os.Stat(filepath.Join(root, parts[0])); err != nil {
				t.Errorf("service %s mounts %s, which does not exist: %v", name, parts[0], err)
			}
			targets[name+" "+parts[1]] = parts[0]
		}
	}
	for _, want := range []struct{ service, target, source string }{
		{"prometheus", "/etc/prometheus", "./config/prometheus"},
		{"alertmanager", "/etc/alertmanager", "./config/alertmanager"},
		{"grafana", "/etc/grafana/provisioning", "./config/grafana/provisioning"},
	} {
		if got := targets[want.service+" "+want.target]; got != want.source {
			t.Errorf("service %s: %s mounted from %q, want %s", want.service, want.target, got, want.source)
		}
	}

	// The dashboard provider reads the folder ./dashboards is mounted on.
	var provider struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, repoPath(t, "config", "grafana", "provisioning", "dashboards", "leakwatch.yml"), &provider)
	if len(provider.Providers) != 1 {
		t.Fatalf("dashboard provisioning: %d providers, want 1", len(provider.Providers))
	}
	if p := provider.Providers[0].Options.Path; targets["grafana "+p] != "./dashboards" {
		t.Errorf("dashboard provider reads %s, but ./dashboards is not mounted there", p)
	}
}

// TestDockerComposeAddresses checks the addresses the configs use to reach
// each other against the compose service names.
func TestDockerComposeAddresses(t *testing.T) {
	c := loadCompose(t)
	var prom struct {
		Alerting struct {
			Alertmanagers []struct {
				StaticConfigs []struct {
					Targets []string `yaml:"targets"`
				} `yaml:"static_configs"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, repoPath(t, "config", "prometheus", "prometheus.yml"), &prom)
	var ds struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	readYAML(t, repoPath(t, "config", "grafana", "provisioning", "datasources", "prometheus.yml"), &ds)

	var addrs []string
	for _, sc := range prom.ScrapeConfigs {
		if sc.JobName == "leakwatch" {
			for _, s := range sc.StaticConfigs {
				addrs = append(addrs, s.Targets...)
			}
		}
	}
	if !slices.Contains(addrs, "leakwatch:9723") {
		t.Errorf("job leakwatch scrapes %v, want leakwatch:9723", addrs)
	}
	var ams []string
	for _, am := range prom.Alerting.Alertmanagers {
		for _, s := range am.StaticConfigs {
			ams = append(ams, s.Targets...)
		}
	}
	if len(ams) == 0 {
		t.Error("prometheus.yml sends alerts nowhere")
	}
	for _, a := range ams {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			t.Errorf("alertmanager target %q: %v", a, err)
			continue
		}
		if _, ok := c.Services[host]; !ok {
			t.Errorf("alertmanager target %s is no compose service", a)
		}
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("grafana datasources %+v, want one prometheus at http://prometheus:9090", ds.Datasources)
	}
}

// TestDockerignore keeps secrets and VCS data out of the build context.
func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(repoPath(t, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, want := range []string{".git", "secrets", "*.env"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
	for _, keep := range []string{"go.mod", "go.sum", "cmd", "internal", "config", "config/leakwatch.yaml"} {
		if slices.Contains(lines, keep) {
			t.Errorf(".dockerignore excludes %s, which the build needs", keep)
		}
	}
}

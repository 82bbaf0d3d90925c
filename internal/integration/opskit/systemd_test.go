package opskit

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const unitBinary = "/usr/local/bin/leakwatch"

// unitDirectives reads a systemd unit into section.key -> values, in file
// order (a key may repeat).
func unitDirectives(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Errorf("%s: not a directive: %q", path, line)
				continue
			}
			key := section + "." + strings.TrimSpace(k)
			out[key] = append(out[key], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSystemdUnitHardening(t *testing.T) {
	d := unitDirectives(t, repoPath(t, "config", "systemd", "leakwatch.service"))
	tests := []struct {
		key  string
		want string // every value of the key, joined by " | "
	}{
		{"Service.ExecStart", unitBinary + " run --config /etc/leakwatch/leakwatch.yaml"},
		{"Service.ExecReload", "/bin/kill -HUP $MAINPID"},
		{"Service.Restart", "on-failure"},
		{"Service.EnvironmentFile", "-/etc/leakwatch/leakwatch.env"},
		{"Service.DynamicUser", "yes"},
		{"Service.StateDirectory", "leakwatch"},
		{"Service.ProtectSystem", "strict"},
		{"Service.ProtectHome", "yes"},
		{"Service.PrivateTmp", "yes"},
		{"Service.NoNewPrivileges", "yes"},
		// Empty: no capability at all, unless a drop-in adds one for port 514.
		{"Service.CapabilityBoundingSet", ""},
		{"Service.AmbientCapabilities", ""},
		{"Service.ReadOnlyPaths", "/var/log"},
		{"Service.RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"Service.SystemCallFilter", "@system-service | ~@privileged @resources"},
		{"Install.WantedBy", "multi-user.target"},
	}
	for _, tt := range tests {
		vals, ok := d[tt.key]
		if !ok {
			t.Errorf("%s is not set", tt.key)
			continue
		}
		if got := strings.Join(vals, " | "); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.key, got, tt.want)
		}
	}
}

// unitWithStub returns a temporary folder and the text of the shipped unit
// named name with ExecStart pointing at a stub leakwatch in that folder.
func unitWithStub(t *testing.T, name string) (dir, text string) {
	t.Helper()
	unit, err := os.ReadFile(repoPath(t, "config", "systemd", name))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	exe := filepath.Join(dir, "leakwatch")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, strings.ReplaceAll(string(unit), unitBinary, exe)
}

// TestSystemdAnalyzeVerify runs systemd-analyze verify on a copy of the
// unit whose ExecStart points at an executable that exists. verify exits 0
// on unknown keys and bad values, so any message naming the unit counts as
// a failure; the broken copy shows that such messages are noticed.
func TestSystemdAnalyzeVerify(t *testing.T) {
	bin := optionalTool(t, "systemd-analyze")
	dir, text := unitWithStub(t, "leakwatch.service")

	tests := []struct {
		name     string
		unit     string
		wantBad  bool
		contains string
	}{
		{name: "leakwatch.service", unit: text},
		{name: "misspelled.service", unit: strings.Replace(text, "ProtectSystem=strict", "ProtectSytem=strict", 1),
			wantBad: true, contains: "ProtectSytem"},
		{name: "badvalue.service", unit: strings.Replace(text, "Restart=on-failure", "Restart=sometimes", 1),
			wantBad: true, contains: "sometimes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			if err := os.WriteFile(path, []byte(tt.unit), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := run(t, dir, bin, "verify", path)
			var complaints []string
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, tt.name) {
					complaints = append(complaints, line)
				}
			}
			bad := err != nil || len(complaints) > 0
			if bad != tt.wantBad {
				t.Fatalf("systemd-analyze verify %s: error %v, complaints %q; want bad=%v\n%s", tt.name, err, complaints, tt.wantBad, out)
			}
			if tt.wantBad && !strings.Contains(out, tt.contains) {
				t.Errorf("systemd-analyze verify %s: output does not mention %q:\n%s", tt.name, tt.contains, out)
			}
		})
	}
}

// TestSystemdTemplateMatchesUnit holds leakwatch@.service (one leakwatch
// per CMS cluster) to leakwatch.service: the same directives and hardening,
// except the four that name the instance's config, secrets, state and
// description. The package drop-ins differ the same way.
func TestSystemdTemplateMatchesUnit(t *testing.T) {
	for _, tt := range []struct {
		plain, template []string
		differ          map[string]string
	}{
		{[]string{"config", "systemd", "leakwatch.service"}, []string{"config", "systemd", "leakwatch@.service"}, map[string]string{
			"Unit.Description":        "leakwatch for CMS cluster %i: Web Bridge 2 session leak monitor and restarter",
			"Service.ExecStart":       unitBinary + " run --config /etc/leakwatch/%i.yaml --state-dir /var/lib/leakwatch/%i",
			"Service.EnvironmentFile": "-/etc/leakwatch/%i.env",
			"Service.StateDirectory":  "leakwatch/%i",
		}},
		{[]string{"packaging", "systemd", "package.conf"}, []string{"packaging", "systemd", "package@.conf"}, map[string]string{
			"Service.ExecStart": " | /usr/bin/leakwatch run --config /etc/leakwatch/%i.yaml --state-dir /var/lib/leakwatch/%i",
		}},
	} {
		name := tt.template[len(tt.template)-1]
		plain := unitDirectives(t, repoPath(t, tt.plain...))
		tmpl := unitDirectives(t, repoPath(t, tt.template...))
		for k, v := range tmpl {
			got := strings.Join(v, " | ")
			if want, ok := tt.differ[k]; ok {
				if got != want {
					t.Errorf("%s: %s = %q, want %q", name, k, got, want)
				}
				continue
			}
			if p := strings.Join(plain[k], " | "); p != got {
				t.Errorf("%s: %s = %q, but %q in %s", name, k, got, p, tt.plain[len(tt.plain)-1])
			}
		}
		for k := range plain {
			if _, ok := tmpl[k]; !ok {
				t.Errorf("%s lacks %s of %s", name, k, tt.plain[len(tt.plain)-1])
			}
		}
	}
}

// TestSystemdAnalyzeVerifyTemplate verifies leakwatch@site-a.service from
// the template, and notices a misspelled key in it.
func TestSystemdAnalyzeVerifyTemplate(t *testing.T) {
	bin := optionalTool(t, "systemd-analyze")
	dir, text := unitWithStub(t, "leakwatch@.service")
	for _, tt := range []struct {
		template string
		unit     string
		wantBad  bool
	}{
		{"leakwatch@.service", text, false},
		{"misspelled@.service", strings.Replace(text, "ProtectSystem=strict", "ProtectSytem=strict", 1), true},
	} {
		if err := os.WriteFile(filepath.Join(dir, tt.template), []byte(tt.unit), 0o644); err != nil {
			t.Fatal(err)
		}
		instance := strings.Replace(tt.template, "@", "@site-a", 1)
		out, err := run(t, dir, bin, "verify", filepath.Join(dir, instance))
		bad := err != nil || strings.Contains(out, tt.template) || strings.Contains(out, instance)
		if bad != tt.wantBad {
			t.Errorf("systemd-analyze verify %s: error %v, want bad=%v\n%s", instance, err, tt.wantBad, out)
		}
	}
}

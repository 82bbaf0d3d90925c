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

// TestSystemdAnalyzeVerify runs systemd-analyze verify on a copy of the
// unit whose ExecStart points at an executable that exists. verify exits 0
// on unknown keys and bad values, so any message naming the unit counts as
// a failure; the broken copy shows that such messages are noticed.
func TestSystemdAnalyzeVerify(t *testing.T) {
	bin := optionalTool(t, "systemd-analyze")
	unit, err := os.ReadFile(repoPath(t, "config", "systemd", "leakwatch.service"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "leakwatch")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(unit), unitBinary, exe)

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

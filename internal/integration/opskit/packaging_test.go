package opskit

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// nfpmConfig is the part of packaging/nfpm.yaml these tests read.
type nfpmConfig struct {
	Contents []struct {
		Src      string `yaml:"src"`
		Dst      string `yaml:"dst"`
		Type     string `yaml:"type"`
		Expand   bool   `yaml:"expand"`
		FileInfo struct {
			Mode int `yaml:"mode"`
		} `yaml:"file_info"`
	} `yaml:"contents"`
	Scripts map[string]string `yaml:"scripts"`
}

func readNFPM(t *testing.T) nfpmConfig {
	t.Helper()
	data, err := os.ReadFile(repoPath(t, "packaging", "nfpm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c nfpmConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("packaging/nfpm.yaml: %v", err)
	}
	return c
}

// TestPackageContents checks what the .deb and .rpm promise operators:
// the repository's own unit and config (not copies that drift), the config
// as a config file, the state directory, and sources that exist.
func TestPackageContents(t *testing.T) {
	c := readNFPM(t)
	byDst := map[string]int{}
	for i, f := range c.Contents {
		byDst[f.Dst] = i
		if f.Src != "" && !f.Expand {
			if _, err := os.Stat(repoPath(t, f.Src)); err != nil {
				t.Errorf("package source %s (for %s): %v", f.Src, f.Dst, err)
			}
		}
	}
	want := []struct {
		dst, src, typ string
		mode          int
	}{
		{"/usr/bin/leakwatch", "${BINARY}", "", 0o755},
		{"/usr/lib/systemd/system/leakwatch.service", "config/systemd/leakwatch.service", "", 0o644},
		{"/usr/lib/systemd/system/leakwatch.service.d/package.conf", "packaging/systemd/package.conf", "", 0o644},
		{"/usr/lib/systemd/system/leakwatch@.service", "config/systemd/leakwatch@.service", "", 0o644},
		{"/usr/lib/systemd/system/leakwatch@.service.d/package.conf", "packaging/systemd/package@.conf", "", 0o644},
		{"/etc/leakwatch/leakwatch.yaml", "config/leakwatch.yaml", "config|noreplace", 0o640},
		{"/etc/leakwatch", "", "dir", 0o750},
		{"/var/lib/leakwatch", "", "dir", 0o750},
	}
	for _, w := range want {
		i, ok := byDst[w.dst]
		if !ok {
			t.Errorf("the packages do not install %s", w.dst)
			continue
		}
		f := c.Contents[i]
		if f.Src != w.src || f.Type != w.typ || f.FileInfo.Mode != w.mode {
			t.Errorf("%s: src %q type %q mode %o; want %q %q %o", w.dst, f.Src, f.Type, f.FileInfo.Mode, w.src, w.typ, w.mode)
		}
	}
	for _, s := range []string{"postinstall", "preremove", "postremove"} {
		p := c.Scripts[s]
		st, err := os.Stat(repoPath(t, p))
		if err != nil {
			t.Errorf("%s script %q: %v", s, p, err)
			continue
		}
		if st.Mode()&0o111 == 0 {
			t.Errorf("%s script %s is not executable", s, p)
		}
	}
}

// TestPackageDropIn checks that the package's drop-in replaces exactly the
// unit's binary path and its dynamic user, and nothing of its hardening.
func TestPackageDropIn(t *testing.T) {
	d := unitDirectives(t, repoPath(t, "packaging", "systemd", "package.conf"))
	unit := unitDirectives(t, repoPath(t, "config", "systemd", "leakwatch.service"))
	want := map[string]string{
		// The empty ExecStart= resets the unit's before setting the new one.
		"Service.ExecStart":   " | /usr/bin/leakwatch run --config /etc/leakwatch/leakwatch.yaml",
		"Service.DynamicUser": "no",
		"Service.User":        "leakwatch",
		"Service.Group":       "leakwatch",
	}
	for k, v := range want {
		if got := strings.Join(d[k], " | "); got != v {
			t.Errorf("drop-in %s = %q, want %q", k, got, v)
		}
	}
	for k := range d {
		if _, ok := want[k]; !ok {
			t.Errorf("the drop-in also sets %s; hardening belongs in the unit", k)
		}
	}
	if got := strings.Replace(unit["Service.ExecStart"][0], unitBinary, "/usr/bin/leakwatch", 1); got != "/usr/bin/leakwatch run --config /etc/leakwatch/leakwatch.yaml" {
		t.Errorf("the unit's ExecStart %q differs from the drop-in's in more than the path", unit["Service.ExecStart"][0])
	}
}

package service

import (
	"errors"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func abs(p string) string {
	if runtime.GOOS == "windows" {
		return `C:\` + filepath.FromSlash(p)
	}
	return "/" + p
}

func TestNewSpec(t *testing.T) {
	exe, cfg := abs("opt/leakwatch/leakwatch.exe"), abs("ProgramData/leakwatch/leakwatch.yaml")
	s, err := NewSpec("leakwatch", exe, cfg, `NT SERVICE\leakwatch`)
	if err != nil {
		t.Fatal(err)
	}
	if s.Exe != exe || !reflect.DeepEqual(s.Args, []string{"run", "--config", cfg}) {
		t.Errorf("command line = %s %v", s.Exe, s.Args)
	}
	if s.Account != `NT SERVICE\leakwatch` || s.Name != "leakwatch" || s.DisplayName == "" || s.Description == "" {
		t.Errorf("spec = %+v", s)
	}
}

func TestNewSpecRefuses(t *testing.T) {
	exe, cfg := abs("leakwatch.exe"), abs("leakwatch.yaml")
	tests := []struct {
		name, exe, cfg, want string
	}{
		{"", exe, cfg, "name"},
		{"leakwatch", "leakwatch.exe", cfg, "executable"},
		{"leakwatch", exe, "leakwatch.yaml", `config file path "leakwatch.yaml" is not absolute`},
	}
	for _, tt := range tests {
		_, err := NewSpec(tt.name, tt.exe, tt.cfg, "")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSpec(%q, %q, %q) = %v, want an error about %s", tt.name, tt.exe, tt.cfg, err, tt.want)
		}
	}
}

func TestNativeElsewhereSaysWindowsOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("this is Windows")
	}
	sys := Native()
	if is, err := sys.IsService(); is || err != nil {
		t.Errorf("IsService = %v, %v", is, err)
	}
	if err := sys.Install(Spec{}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "systemd") {
		t.Errorf("Install = %v, want ErrUnsupported pointing to systemd", err)
	}
}

package config

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWindowsDir(t *testing.T) {
	env := map[string]string{"ProgramData": `D:\ProgramData`}
	if got := windowsDir(func(k string) string { return env[k] }); got != `D:\ProgramData\leakwatch` {
		t.Errorf("windowsDir = %q", got)
	}
	if got := windowsDir(func(string) string { return "" }); got != `C:\ProgramData\leakwatch` {
		t.Errorf("windowsDir without ProgramData = %q", got)
	}
}

func TestDefaultPathsFollowThePlatform(t *testing.T) {
	state, file := "/var/lib/leakwatch", "/etc/leakwatch/leakwatch.yaml"
	if runtime.GOOS == "windows" {
		state = windowsDir(os.Getenv)
		file = state + `\leakwatch.yaml`
	}
	c := Default()
	if c.StateDir != state || DefaultConfigFile() != file {
		t.Errorf("state_dir = %q, config %q; want %q, %q", c.StateDir, DefaultConfigFile(), state, file)
	}
	if c.SSH.KnownHosts != filepath.Join(state, "known_hosts") {
		t.Errorf("known_hosts = %q, want it in the state directory", c.SSH.KnownHosts)
	}
}

package config

// DefaultStateDir is state_dir's default: /var/lib/leakwatch, or
// %ProgramData%\leakwatch on Windows. known_hosts and the audit log
// default to files in it.
func DefaultStateDir() string { return defaultStateDir }

// DefaultConfigFile is where the packages and `leakwatch service install`
// put the config: /etc/leakwatch/leakwatch.yaml, or
// %ProgramData%\leakwatch\leakwatch.yaml on Windows.
func DefaultConfigFile() string { return defaultConfigFile }

// windowsDir is %ProgramData%\leakwatch, from getenv. ProgramData is set
// on every Windows since Vista; C:\ProgramData is its value on nearly all.
func windowsDir(getenv func(string) string) string {
	pd := getenv("ProgramData")
	if pd == "" {
		pd = `C:\ProgramData`
	}
	// Join with "\" by hand: this also runs in tests on Linux.
	return pd + `\leakwatch`
}

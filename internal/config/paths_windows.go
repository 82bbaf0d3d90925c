//go:build windows

package config

import "os"

var (
	defaultStateDir   = windowsDir(os.Getenv)
	defaultConfigFile = defaultStateDir + `\leakwatch.yaml`
)

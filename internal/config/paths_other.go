//go:build !windows

package config

const (
	defaultStateDir   = "/var/lib/leakwatch"
	defaultConfigFile = "/etc/leakwatch/leakwatch.yaml"
)

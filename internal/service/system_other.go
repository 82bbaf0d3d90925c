//go:build !windows

package service

// Native returns this system's service control manager: none here.
func Native() System { return Unsupported{} }

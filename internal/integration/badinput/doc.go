// Package badinput holds integration tests that feed a real leakwatch
// process hostile or broken input, one test per hazard: a 50 MB line, NUL
// bytes and binary garbage, a million hostnames, a syslog flood from a
// source that is not allowed, a truncated gzip file and a config with every
// kind of mistake. Each hazard must be counted and logged as a rejection,
// never crash the process, and leave its memory bounded.
//
// The tests run the leakwatch binary (built once by the harness) on
// loopback only. The package has no code besides its tests.
package badinput

// Package service runs `leakwatch run` under the Windows service control
// manager and installs, removes, starts and stops it there.
//
// The platform code is small and sits behind one interface per concern:
// Manager (install, uninstall, start, stop: the service control manager),
// Host (am I a service, and run me as one) and EventWriter (the event log).
// service_windows.go implements them over golang.org/x/sys/windows/svc;
// service_other.go says, on every other system, that this is a Windows
// feature. Everything around them (the run/stop state machine, the log
// fan-out to a file and the event log, the size-capped log file, the
// install spec) is portable and tested on Linux.
package service

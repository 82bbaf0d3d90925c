// Package e2e holds leakwatch's end-to-end test, where every part is real:
// a simulated CMS cluster's syslog goes over TCP to a real rsyslogd, which
// writes the file a real `leakwatch run` follows; leakwatch restarts the
// leaking Web Bridge over SSH on a real OpenSSH sshd standing in for the
// MMP; and a real Prometheus scrapes leakwatch and answers the queries the
// test asserts on. Everything listens on 127.0.0.1 only.
//
// The package has no code of its own outside its tests.
package e2e

// Package sshfaults holds integration tests only: a real `leakwatch run`
// process in enforce mode restarts a leaking Web Bridge through a real
// OpenSSH sshd on loopback that stands in for the MMP, and every SSH fault
// (refused, timeout, authentication, host keys, a hanging or failing
// command, a bridge that never recovers, a kill mid-restart) must end
// without a restart recorded as ok, with the reason in the audit log, with
// the alert metric set, and with leakwatch still running.
package sshfaults

package mmp

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors that Run and Probe wrap so that callers can classify a
// failure with errors.Is. Classify maps them to short metric labels.
var (
	// ErrHostKeyUnknown means the server's host key is neither in the
	// known_hosts file nor pinned for the target.
	ErrHostKeyUnknown = errors.New("host key unknown")
	// ErrHostKeyChanged means a different key is recorded or pinned for the
	// target: a reinstalled appliance or a man in the middle.
	ErrHostKeyChanged = errors.New("host key changed")
	// ErrAuth means the server rejected every authentication method offered.
	ErrAuth = errors.New("authentication failed")
	// ErrDialTimeout means the TCP connection or the SSH handshake did not
	// complete within Options.DialTimeout.
	ErrDialTimeout = errors.New("connect timeout")
	// ErrConnRefused means nothing listens on the target port.
	ErrConnRefused = errors.New("connection refused")
	// ErrConnect means the TCP connection or the SSH handshake failed for
	// another reason (no route, DNS, reset, protocol error).
	ErrConnect = errors.New("connect failed")
	// ErrCommandTimeout means the command did not finish within
	// Options.CommandTimeout; the connection was closed.
	ErrCommandTimeout = errors.New("command timeout")
	// ErrCommandFailed means the command printed FAILURE or exited non-zero.
	// Both ErrFailureOutput and ErrExitStatus match it.
	ErrCommandFailed = errors.New("command failed")
	// ErrFailureOutput means the command's output contains "FAILURE".
	ErrFailureOutput = errors.New("command printed FAILURE")
	// ErrExitStatus means the command exited with a non-zero status or was
	// killed by a signal.
	ErrExitStatus = errors.New("command exited non-zero")
	// ErrForbiddenCommand means the target's command is one this product
	// must never send (anything but RestartCommands).
	ErrForbiddenCommand = errors.New("forbidden command")
)

// HostKeyError describes a host key that was not accepted. It matches
// ErrHostKeyUnknown or ErrHostKeyChanged with errors.Is.
type HostKeyError struct {
	// Address is the target address as dialled (host:port).
	Address string
	// KeyType is the algorithm of the key the server presented.
	KeyType string
	// Fingerprint is the SHA256 fingerprint of the key the server presented.
	Fingerprint string
	// Want lists the fingerprints that were expected (known_hosts entries or
	// the pinned fingerprint); empty when the host is unknown.
	Want []string
	// Pinned is true when the target has a pinned fingerprint.
	Pinned bool
	// Revoked is true when known_hosts marks the presented key @revoked.
	Revoked bool

	kind error
}

func (e *HostKeyError) Error() string {
	switch {
	case e.Revoked:
		return fmt.Sprintf("%s host key %s of %s is marked @revoked in known_hosts", e.KeyType, e.Fingerprint, e.Address)
	case errors.Is(e.kind, ErrHostKeyUnknown):
		return fmt.Sprintf("%s host key %s of %s is unknown (not in known_hosts, not pinned)", e.KeyType, e.Fingerprint, e.Address)
	case e.Pinned:
		return fmt.Sprintf("%s host key %s of %s does not match the pinned %s: possible man in the middle",
			e.KeyType, e.Fingerprint, e.Address, strings.Join(e.Want, ", "))
	default:
		return fmt.Sprintf("%s host key %s of %s does not match known_hosts (want %s): possible man in the middle",
			e.KeyType, e.Fingerprint, e.Address, strings.Join(e.Want, ", "))
	}
}

// Unwrap returns the sentinel (ErrHostKeyUnknown or ErrHostKeyChanged).
func (e *HostKeyError) Unwrap() error { return e.kind }

// CommandError reports a command that ran but failed. It matches
// ErrCommandFailed and either ErrFailureOutput or ErrExitStatus.
type CommandError struct {
	// Command is the command sent.
	Command string
	// ExitStatus is the remote exit status, or -1 when none was reported.
	ExitStatus int
	// Signal is the signal that killed the remote command, if any.
	Signal string
	// Detail is the first output line containing FAILURE, if any.
	Detail string

	kind error
}

func (e *CommandError) Error() string {
	switch {
	case errors.Is(e.kind, ErrFailureOutput):
		return fmt.Sprintf("command %q printed FAILURE: %q", e.Command, e.Detail)
	case e.Signal != "":
		return fmt.Sprintf("command %q killed by signal %s", e.Command, e.Signal)
	default:
		return fmt.Sprintf("command %q exited with status %d", e.Command, e.ExitStatus)
	}
}

// Is reports whether target is ErrCommandFailed or this error's kind.
func (e *CommandError) Is(target error) bool {
	return target == ErrCommandFailed || target == e.kind
}

// classified wraps an underlying error with one of the sentinels, keeping
// both reachable through errors.Is and errors.As.
type classified struct {
	kind error
	msg  string
	err  error
}

func (e *classified) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + ": " + e.err.Error()
}

func (e *classified) Unwrap() []error {
	if e.err == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.err}
}

func classify(kind error, err error, format string, args ...any) error {
	return &classified{kind: kind, msg: fmt.Sprintf(format, args...), err: err}
}

// NotSent reports whether err shows that the command never reached the
// MMP: it was refused locally, or the connection, the host key check or
// authentication failed before a session was opened. A timeout or failure
// of the command itself does not count: it may have run.
func NotSent(err error) bool {
	for _, k := range []error{ErrForbiddenCommand, ErrConnRefused, ErrDialTimeout, ErrConnect, ErrHostKeyUnknown, ErrHostKeyChanged, ErrAuth} {
		if errors.Is(err, k) {
			return !errors.Is(err, ErrCommandTimeout) && !errors.Is(err, ErrCommandFailed)
		}
	}
	return false
}

// Classify returns a short, stable label for err, suitable for a metric
// label or an audit entry: "host_key_unknown", "host_key_changed", "auth",
// "connect", "timeout", "command_timeout", "failure_output", "exit_status",
// "forbidden_command", "canceled", or "error" for anything else. It returns
// "" for a nil error.
func Classify(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrHostKeyChanged):
		return "host_key_changed"
	case errors.Is(err, ErrHostKeyUnknown):
		return "host_key_unknown"
	case errors.Is(err, ErrAuth):
		return "auth"
	case errors.Is(err, ErrCommandTimeout):
		return "command_timeout"
	case errors.Is(err, ErrDialTimeout):
		return "timeout"
	case errors.Is(err, ErrConnRefused), errors.Is(err, ErrConnect):
		return "connect"
	case errors.Is(err, ErrFailureOutput):
		return "failure_output"
	case errors.Is(err, ErrExitStatus):
		return "exit_status"
	case errors.Is(err, ErrForbiddenCommand):
		return "forbidden_command"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "error"
	}
}

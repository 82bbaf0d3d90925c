package mmp

import (
	"context"
	"errors"
	"testing"
)

// TestNotSent: only failures before a session opened mean the command never
// reached the MMP; a command that timed out or failed may have run.
func TestNotSent(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused", classify(ErrConnRefused, errors.New("econnrefused"), "dialling"), true},
		{"dial timeout", classify(ErrDialTimeout, nil, "dialling"), true},
		{"handshake", classify(ErrConnect, errors.New("reset"), "SSH handshake"), true},
		{"auth", classify(ErrAuth, nil, "authenticating"), true},
		{"host key unknown", &HostKeyError{Address: "a:22", kind: ErrHostKeyUnknown}, true},
		{"host key changed", &HostKeyError{Address: "a:22", kind: ErrHostKeyChanged}, true},
		{"forbidden", ErrForbiddenCommand, true},
		{"command timeout", classify(ErrCommandTimeout, nil, "running"), false},
		{"failure output", &CommandError{Command: "webbridge restart", kind: ErrFailureOutput}, false},
		{"exit status", &CommandError{Command: "webbridge restart", ExitStatus: 1, kind: ErrExitStatus}, false},
		{"canceled", context.Canceled, false},
		{"other", errors.New("session: EOF"), false},
		{"nil", nil, false},
	} {
		if got := NotSent(tc.err); got != tc.want {
			t.Errorf("%s: NotSent = %v, want %v", tc.name, got, tc.want)
		}
	}
}

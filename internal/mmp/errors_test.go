package mmp

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestClassify(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("MMP of web bridge %q: %w", "wb1", err) }
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{wrapped(&HostKeyError{kind: ErrHostKeyUnknown}), "host_key_unknown"},
		{wrapped(&HostKeyError{kind: ErrHostKeyChanged}), "host_key_changed"},
		{wrapped(&HostKeyError{kind: ErrHostKeyChanged, Revoked: true}), "host_key_changed"},
		{wrapped(classify(ErrAuth, errors.New("ssh: unable to authenticate"), "authenticating")), "auth"},
		{wrapped(classify(ErrConnRefused, errors.New("refused"), "dialling")), "connect"},
		{wrapped(classify(ErrConnect, errors.New("no route"), "dialling")), "connect"},
		{wrapped(classify(ErrDialTimeout, nil, "SSH handshake")), "timeout"},
		{wrapped(classify(ErrCommandTimeout, nil, "command")), "command_timeout"},
		{wrapped(&CommandError{kind: ErrFailureOutput}), "failure_output"},
		{wrapped(&CommandError{kind: ErrExitStatus, ExitStatus: 2}), "exit_status"},
		{wrapped(fmt.Errorf("%w: x", ErrForbiddenCommand)), "forbidden_command"},
		{wrapped(context.Canceled), "canceled"},
		{wrapped(context.DeadlineExceeded), "error"},
		{errors.New("something else"), "error"},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestErrorsMatchSentinels(t *testing.T) {
	cause := errors.New("dial tcp: connection refused")
	err := fmt.Errorf("wb1: %w", classify(ErrConnRefused, cause, "dialling"))
	if !errors.Is(err, ErrConnRefused) || !errors.Is(err, cause) {
		t.Errorf("%v does not match both its class and its cause", err)
	}
	ce := fmt.Errorf("wb1: %w", &CommandError{Command: "webbridge restart", ExitStatus: 1, kind: ErrExitStatus})
	if !errors.Is(ce, ErrCommandFailed) || !errors.Is(ce, ErrExitStatus) || errors.Is(ce, ErrFailureOutput) {
		t.Errorf("CommandError matching is wrong for %v", ce)
	}
	var asCE *CommandError
	if !errors.As(ce, &asCE) || asCE.ExitStatus != 1 {
		t.Errorf("errors.As(%v, *CommandError) failed", ce)
	}
	hk := fmt.Errorf("wb1: %w", &HostKeyError{kind: ErrHostKeyChanged})
	if !errors.Is(hk, ErrHostKeyChanged) || errors.Is(hk, ErrHostKeyUnknown) {
		t.Errorf("HostKeyError matching is wrong for %v", hk)
	}
}

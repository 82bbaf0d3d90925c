package mmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/ssh"
)

// checkCommand refuses commands this product must never send, and
// control characters that could smuggle a second command.
func checkCommand(cmd string) error {
	if strings.ContainsFunc(cmd, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%w: command %q contains control characters", ErrForbiddenCommand, cmd)
	}
	fields := strings.Fields(cmd)
	if len(fields) == 0 {
		return fmt.Errorf("%w: empty command", ErrForbiddenCommand)
	}
	switch strings.ToLower(fields[0]) {
	case "callbridge", "webbridge3":
		return fmt.Errorf("%w: %q acts on a service leakwatch must not touch", ErrForbiddenCommand, cmd)
	}
	return nil
}

// exec runs cmd in a new session, bounded by CommandTimeout. On timeout or
// cancellation it closes the connection, which ends the session, and waits
// for the session goroutine before returning.
func (c *Client) exec(ctx context.Context, client *ssh.Client, cmd string, out io.Writer) (status int, signal string, err error) {
	cctx, cancel := context.WithTimeout(ctx, c.opts.CommandTimeout)
	defer cancel()

	type outcome struct {
		status int
		signal string
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		s, sig, err := runSession(client, cmd, out)
		done <- outcome{s, sig, err}
	}()
	select {
	case o := <-done:
		return o.status, o.signal, o.err
	case <-cctx.Done():
		client.Close()
		o := <-done
		if ctx.Err() != nil {
			return o.status, o.signal, ctx.Err()
		}
		return o.status, o.signal, classify(ErrCommandTimeout, nil,
			"command %q did not finish within %s; connection closed", cmd, c.opts.CommandTimeout)
	}
}

// runSession runs cmd and reports its exit status (-1 when the server
// sent none) and signal.
func runSession(client *ssh.Client, cmd string, out io.Writer) (int, string, error) {
	sess, err := client.NewSession()
	if err != nil {
		return -1, "", fmt.Errorf("opening session: %w", err)
	}
	defer sess.Close()
	sess.Stdout = out
	sess.Stderr = out
	err = sess.Run(cmd)
	var exitErr *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return 0, "", nil
	case errors.As(err, &exitErr):
		return exitErr.ExitStatus(), exitErr.Signal(), nil
	case errors.As(err, &missing):
		return -1, "", nil
	default:
		return -1, "", fmt.Errorf("running command: %w", err)
	}
}

package mmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// RestartCommands are the only commands Run sends, each an exact string:
// an allowlist, because no list of dangerous commands (reboot, callbridge
// restart, "webbridge restart; reboot", ...) is ever complete. The config
// loader refuses any other mmp.command; this is the last guard.
var RestartCommands = []string{DefaultCommand}

// checkCommand refuses every command but the allowed ones.
func checkCommand(cmd string) error {
	if !slices.Contains(RestartCommands, cmd) {
		return fmt.Errorf("%w: %q is not an allowed command (allowed, exactly: %s)", ErrForbiddenCommand, cmd, strings.Join(RestartCommands, ", "))
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

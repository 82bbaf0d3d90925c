// Package control lets `leakwatch reset` and `leakwatch restart` act while
// `leakwatch run` is running, without two processes writing the ledger.
//
// The daemon holds an exclusive lock on <state_dir>/leakwatch.lock. A
// command that cannot take the lock leaves a request file in
// <state_dir>/requests/ and waits for the daemon's answer next to it; the
// daemon carries requests out in its policy loop, where every restart is
// serialised and audited. A command that can take the lock runs alone and
// acts on the ledger itself.
//
// A request lives only while its command waits. The command removes it on
// every return path (answer, timeout, Ctrl-C, SIGTERM, SIGHUP); the daemon
// claims a request by removing its file, so exactly one of the two wins.
// A command killed outright cannot clean up, so each request carries its
// creation time and deadline, and the daemon refuses (and audits) one
// past its deadline rather than act for nobody with the guards lifted.
package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/leakwatch/leakwatch/internal/atomicfile"
	"github.com/leakwatch/leakwatch/internal/config"
)

// Request kinds.
const (
	KindReset   = "reset"
	KindRestart = "restart"
	KindForget  = "forget"
)

// ClockTolerance is how far ahead of the daemon's wall clock a request's
// creation time may be. The command and the daemon read the same host's
// wall clock, so the only difference between them is a clock step (NTP)
// between the two readings; a request from further ahead cannot be aged
// and is refused.
const ClockTolerance = 5 * time.Second

// Request is one operator command for the daemon.
type Request struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Bridge string `json:"webbridge"`
	Force  bool   `json:"force"`
	// Host is the syslog hostname a forget request names.
	Host string `json:"host,omitempty"`
	User string `json:"user,omitempty"`
	// Time is when the command wrote the request and Deadline when it
	// stops waiting for the answer, both on the host's wall clock: the
	// daemon refuses a request past its deadline, because nobody waits
	// for its answer any more.
	Time     time.Time `json:"time"`
	Deadline time.Time `json:"deadline"`
	// PID is the process that asked, for the audit log.
	PID int `json:"pid,omitempty"`
}

// Requester names who asked, as the audit log records it: the account and
// pid the request claims (a request file is trusted as far as the state
// directory's permissions are).
func (r Request) Requester() string {
	return fmt.Sprintf("user %q (pid %d)", r.User, r.PID)
}

// Stale says why the daemon must refuse req at now (its wall clock, never
// a simulated one), or nil if req may be carried out. maxAge is the
// longest answer timeout the daemon's own configuration allows, so a
// request cannot buy itself a longer life than a waiting command has.
func (r Request) Stale(now time.Time, maxAge time.Duration) error {
	switch {
	case r.Time.IsZero() || r.Deadline.IsZero():
		return errors.New("request carries no creation time or deadline (written by an older leakwatch?)")
	case r.Time.After(now.Add(ClockTolerance)):
		return fmt.Errorf("request created at %s, %s ahead of the daemon's clock (did the wall clock step back?)",
			r.Time.UTC().Format(time.RFC3339), r.Time.Sub(now).Round(time.Second))
	case !now.Before(r.Deadline):
		return fmt.Errorf("request created at %s expired %s ago: nobody waits for its answer (was the command killed?)",
			r.Time.UTC().Format(time.RFC3339), now.Sub(r.Deadline).Round(time.Second))
	case r.Deadline.Sub(r.Time) > maxAge+ClockTolerance:
		return fmt.Errorf("request asks to wait %s for its answer, longer than the %s this daemon allows",
			r.Deadline.Sub(r.Time).Round(time.Second), maxAge)
	}
	return nil
}

// Response is the daemon's answer.
type Response struct {
	ID      string `json:"id"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	Output  string `json:"output,omitempty"`
}

// AnswerTimeout bounds the wait for a running daemon's answer: a restart
// may take the SSH dial and command timeouts, plus pacing. The daemon
// refuses requests that ask for more.
func AnswerTimeout(ssh config.SSH) time.Duration {
	return ssh.DialTimeout + ssh.CommandTimeout + ssh.MinInterval + 15*time.Second
}

func requestsDir(dir string) string { return filepath.Join(dir, "requests") }

// pollInterval is how often Ask looks for the answer.
const pollInterval = 100 * time.Millisecond

// Ask leaves req for the daemon and waits up to timeout (or until ctx
// ends) for its answer. It sets req's ID, Time, Deadline and PID. On every
// return path it withdraws the request if the daemon has not taken it
// yet, so a cancelled command never acts later; if the daemon has taken
// it, the error says so, because the action may still happen. SIGINT,
// SIGTERM and SIGHUP (a closed terminal) cancel the wait like ctx does.
// started, if not nil, is called with the ID once the request is in place.
func Ask(ctx context.Context, dir string, req Request, timeout time.Duration, started func(id string)) (Response, error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	req.Time = time.Now()
	req.Deadline = req.Time.Add(timeout)
	req.PID = os.Getpid()
	id, err := submit(dir, req)
	if err != nil {
		return Response{}, err
	}
	if started != nil {
		started(id)
	}
	reqPath := filepath.Join(requestsDir(dir), id+".request")
	respPath := filepath.Join(requestsDir(dir), id+".response")
	// withdraw reports whether the request was still waiting (and is now
	// gone): exactly one of the daemon's claim and this remove succeeds.
	withdraw := func() bool { return os.Remove(reqPath) == nil }
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		resp, ok, err := readResponse(respPath)
		if ok || err != nil {
			return resp, err
		}
		select {
		case <-ctx.Done():
			if withdraw() {
				return Response{}, fmt.Errorf("request %s withdrawn: %w", id, ctx.Err())
			}
			if resp, ok, err := readResponse(respPath); ok || err != nil {
				return resp, err // answered just now: say what happened
			}
			return Response{}, fmt.Errorf("interrupted, but the running leakwatch had already taken request %s: it may still act (see the audit log): %w", id, ctx.Err())
		case <-timer.C:
			if withdraw() {
				return Response{}, fmt.Errorf("the running leakwatch did not take request %s within %s, so it was withdrawn (is leakwatch stuck? see its log)", id, timeout)
			}
			if resp, ok, err := readResponse(respPath); ok || err != nil {
				return resp, err
			}
			return Response{}, fmt.Errorf("the running leakwatch took request %s but did not answer within %s: it may still act (see its log and the audit log)", id, timeout)
		case <-tick.C:
		}
	}
}

// readResponse reads and removes the answer at path, if there is one.
func readResponse(path string) (Response, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Response{}, false, nil
	}
	os.Remove(path)
	var resp Response
	if err := json.Unmarshal(data, &resp); err != nil {
		return Response{}, false, fmt.Errorf("reading %s: %w", path, err)
	}
	return resp, true, nil
}

// submit leaves req for the daemon and returns its ID.
func submit(dir string, req Request) (string, error) {
	rd := requestsDir(dir)
	if err := os.MkdirAll(rd, 0o700); err != nil {
		return "", fmt.Errorf("requests folder: %w", err)
	}
	if err := handOver(rd, dir); err != nil {
		return "", fmt.Errorf("requests folder: %w", err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	req.ID = hex.EncodeToString(b[:])
	data, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	// The file is handed over before it takes its name, so the daemon
	// never finds a request it cannot read.
	tmp := filepath.Join(rd, req.ID+".new")
	if err := atomicfile.Write(tmp, data, 0o600); err != nil {
		return "", err
	}
	if err := handOver(tmp, dir); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, filepath.Join(rd, req.ID+".request")); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return req.ID, nil
}

// orphanAge is how old an answer or a half-written request may get before
// Pending removes it: its command is gone (killed, or it gave up).
const orphanAge = time.Hour

// Pending claims the waiting requests, oldest first, removing their files:
// a request whose file the command withdrew first is not returned.
// Unreadable ones are logged and removed, and so are answers and
// temporary files older than an hour, which no command waits for. The
// caller checks each request with Stale before acting on it.
func Pending(dir string, logger *slog.Logger) []Request {
	rd := requestsDir(dir)
	entries, err := os.ReadDir(rd)
	if err != nil {
		return nil
	}
	var out []Request
	for _, e := range entries {
		path := filepath.Join(rd, e.Name())
		if !strings.HasSuffix(e.Name(), ".request") {
			if info, err := e.Info(); err == nil && !e.IsDir() && time.Since(info.ModTime()) > orphanAge {
				os.Remove(path)
			}
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if os.Remove(path) != nil {
			continue // withdrawn between the read and the claim
		}
		var req Request
		if err := json.Unmarshal(data, &req); err != nil || req.ID+".request" != e.Name() {
			logger.Warn("ignoring unreadable control request", "file", path, "err", err)
			continue
		}
		out = append(out, req)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// Respond answers a request.
func Respond(dir string, resp Response) error {
	data, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(requestsDir(dir), resp.ID+".response"), data, 0o600)
}

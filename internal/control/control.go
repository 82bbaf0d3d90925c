// Package control lets `leakwatch reset` and `leakwatch restart` act while
// `leakwatch run` is running, without two processes writing the ledger.
//
// The daemon holds an exclusive lock on <state_dir>/leakwatch.lock. A
// command that cannot take the lock leaves a request file in
// <state_dir>/requests/ and waits for the daemon's answer next to it; the
// daemon carries requests out in its policy loop, where every restart is
// serialised and audited. A command that can take the lock runs alone and
// acts on the ledger itself.
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
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/leakwatch/leakwatch/internal/atomicfile"
)

// Request kinds.
const (
	KindReset   = "reset"
	KindRestart = "restart"
)

// Request is one operator command for the daemon.
type Request struct {
	ID     string    `json:"id"`
	Kind   string    `json:"kind"`
	Bridge string    `json:"webbridge"`
	Force  bool      `json:"force"`
	User   string    `json:"user,omitempty"`
	Time   time.Time `json:"time"`
}

// Response is the daemon's answer.
type Response struct {
	ID      string `json:"id"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	Output  string `json:"output,omitempty"`
}

// ErrLocked means another leakwatch holds the state directory.
var ErrLocked = errors.New("another leakwatch is running on this state_dir")

// Lock is the state directory's lock.
type Lock struct{ f *os.File }

// Acquire takes the state directory's lock without waiting. It returns
// ErrLocked (wrapped) when a running leakwatch holds it.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, "leakwatch.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Release lets the lock go.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
}

func requestsDir(dir string) string { return filepath.Join(dir, "requests") }

// Submit leaves req for the daemon and returns its ID.
func Submit(dir string, req Request) (string, error) {
	rd := requestsDir(dir)
	if err := os.MkdirAll(rd, 0o700); err != nil {
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
	if err := atomicfile.Write(filepath.Join(rd, req.ID+".request"), data, 0o600); err != nil {
		return "", err
	}
	return req.ID, nil
}

// Wait waits for the answer to request id, up to timeout (or ctx).
func Wait(ctx context.Context, dir, id string, timeout time.Duration) (Response, error) {
	path := filepath.Join(requestsDir(dir), id+".response")
	deadline := time.Now().Add(timeout)
	for {
		data, err := os.ReadFile(path)
		if err == nil {
			os.Remove(path)
			var resp Response
			if err := json.Unmarshal(data, &resp); err != nil {
				return Response{}, fmt.Errorf("reading %s: %w", path, err)
			}
			return resp, nil
		}
		if time.Now().After(deadline) {
			// Withdraw the request if the daemon has not taken it yet.
			os.Remove(filepath.Join(requestsDir(dir), id+".request"))
			return Response{}, fmt.Errorf("the running leakwatch did not answer within %s (is it stuck? see its log)", timeout)
		}
		select {
		case <-ctx.Done():
			return Response{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Pending takes the waiting requests, oldest first, removing their files.
// Unreadable ones are logged and removed.
func Pending(dir string, logger *slog.Logger) []Request {
	rd := requestsDir(dir)
	entries, err := os.ReadDir(rd)
	if err != nil {
		return nil
	}
	var out []Request
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".request") {
			continue
		}
		path := filepath.Join(rd, e.Name())
		data, err := os.ReadFile(path)
		os.Remove(path)
		if err != nil {
			continue
		}
		var req Request
		if err := json.Unmarshal(data, &req); err != nil || req.ID == "" {
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

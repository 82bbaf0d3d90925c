package control

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/config"
)

var discard = slog.New(slog.DiscardHandler)

func requestFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(requestsDir(dir), "*.request"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitRequest waits (on real time: another goroutine or process writes it)
// until one request file is in place and returns it, decoded.
func waitRequest(t *testing.T, dir string) Request {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := requestFiles(t, dir); len(m) == 1 {
			data, err := os.ReadFile(m[0])
			if err == nil {
				var r Request
				if err := json.Unmarshal(data, &r); err != nil {
					t.Fatalf("%s: %v", m[0], err)
				}
				return r
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no request file appeared")
	return Request{}
}

func TestStale(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const maxAge = time.Minute
	at := func(created, deadline time.Duration) Request {
		return Request{Time: now.Add(created), Deadline: now.Add(deadline)}
	}
	for _, tc := range []struct {
		name string
		req  Request
		want string // "" = fresh
	}{
		{"fresh", at(-time.Second, time.Minute-time.Second), ""},
		{"clock stepped back a little", at(ClockTolerance, ClockTolerance+time.Minute), ""},
		{"just before the deadline", at(-time.Minute+time.Nanosecond, time.Nanosecond), ""},
		{"at the deadline", at(-time.Minute, 0), "expired 0s ago"},
		{"killed command's request found later", at(-time.Hour, -time.Hour+time.Minute), "expired 59m0s ago"},
		{"created in the future", at(time.Hour, time.Hour+time.Minute), "ahead of the daemon's clock"},
		{"asks for too long a wait", at(0, 24*time.Hour), "longer than the 1m0s this daemon allows"},
		{"no deadline (older leakwatch)", Request{Time: now}, "no creation time or deadline"},
		{"no times at all", Request{}, "no creation time or deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Stale(now, maxAge)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Stale = %v, want fresh", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Stale = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// serveOnce is a daemon's policy loop reduced to its control part: it
// claims the pending requests and answers each with answer.
func serveOnce(dir string, answer func(Request) Response) []Request {
	reqs := Pending(dir, discard)
	for _, r := range reqs {
		resp := answer(r)
		resp.ID = r.ID
		if err := Respond(dir, resp); err != nil {
			panic(err)
		}
	}
	return reqs
}

func TestAskAnswered(t *testing.T) {
	dir := t.TempDir()
	done := make(chan struct{})
	var served []Request
	go func() {
		defer close(done)
		for len(served) == 0 {
			served = serveOnce(dir, func(r Request) Response {
				return Response{OK: true, Message: "did " + r.Kind + " " + r.Bridge, Output: "ok"}
			})
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var startedID string
	before := time.Now()
	resp, err := Ask(context.Background(), dir, Request{Kind: KindRestart, Bridge: "wb1", Force: true, User: "op"},
		30*time.Second, func(id string) { startedID = id })
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if !resp.OK || resp.Message != "did restart wb1" || resp.Output != "ok" || resp.ID != startedID {
		t.Errorf("answer %+v (started %s)", resp, startedID)
	}
	r := served[0]
	if r.ID != startedID || !r.Force || r.User != "op" || r.PID != os.Getpid() {
		t.Errorf("the daemon saw %+v", r)
	}
	if r.Time.Before(before.Add(-time.Second)) || r.Deadline.Sub(r.Time) != 30*time.Second {
		t.Errorf("request times %v .. %v, want now .. now+30s", r.Time, r.Deadline)
	}
	if err := r.Stale(time.Now(), 30*time.Second); err != nil {
		t.Errorf("a request just answered is stale: %v", err)
	}
	assertEmpty(t, dir)
}

// assertEmpty checks that no request, answer or temporary file is left.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(requestsDir(dir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in the requests folder: %s", e.Name())
	}
}

// TestAskCancelledWithdrawsRequest is the Ctrl-C case: the command stops
// waiting before the daemon reads the request, and the request must be
// gone, so the daemon never carries it out later with the guards lifted.
func TestAskCancelledWithdrawsRequest(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := Ask(ctx, dir, Request{Kind: KindRestart, Bridge: "wb1", Force: true}, time.Hour, nil)
		errc <- err
	}()
	waitRequest(t, dir)
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "withdrawn") {
		t.Errorf("Ask = %v, want a withdrawn request and context.Canceled", err)
	}
	if reqs := Pending(dir, discard); len(reqs) != 0 {
		t.Errorf("the daemon still finds %+v after the command was cancelled", reqs)
	}
	assertEmpty(t, dir)
}

func TestAskTimeoutWithdrawsRequest(t *testing.T) {
	dir := t.TempDir()
	_, err := Ask(context.Background(), dir, Request{Kind: KindReset, Bridge: "wb1"}, 50*time.Millisecond, nil)
	if err == nil || !strings.Contains(err.Error(), "did not take request") || !strings.Contains(err.Error(), "withdrawn") {
		t.Errorf("Ask = %v, want a timeout that withdrew the request", err)
	}
	if reqs := Pending(dir, discard); len(reqs) != 0 {
		t.Errorf("the daemon still finds %+v after the command gave up", reqs)
	}
	assertEmpty(t, dir)
}

// TestAskCancelledAfterDaemonTookIt: once the daemon has claimed the
// request the command cannot take it back, and must not pretend it did.
func TestAskCancelledAfterDaemonTookIt(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := Ask(ctx, dir, Request{Kind: KindRestart, Bridge: "wb1"}, time.Hour, nil)
		errc <- err
	}()
	waitRequest(t, dir)
	if reqs := Pending(dir, discard); len(reqs) != 1 {
		t.Fatalf("claimed %d requests, want 1", len(reqs))
	}
	cancel()
	err := <-errc
	if err == nil || !strings.Contains(err.Error(), "had already taken request") || !strings.Contains(err.Error(), "may still act") {
		t.Errorf("Ask = %v, want it to say the daemon had taken the request", err)
	}

	// The same when the wait times out after the claim.
	go func() {
		_, err := Ask(context.Background(), dir, Request{Kind: KindRestart, Bridge: "wb1"}, 300*time.Millisecond, nil)
		errc <- err
	}()
	waitRequest(t, dir)
	Pending(dir, discard)
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "took request") || !strings.Contains(err.Error(), "may still act") {
		t.Errorf("Ask = %v, want it to say the daemon took the request but did not answer", err)
	}
}

func TestPendingClaimsOnlyOnce(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ids := map[string]bool{}
	for i, created := range []time.Duration{-time.Second, -3 * time.Second, -2 * time.Second} {
		id, err := submit(dir, Request{Kind: KindReset, Bridge: string(rune('a' + i)), Time: now.Add(created), Deadline: now.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	reqs := Pending(dir, discard)
	var order string
	for _, r := range reqs {
		order += r.Bridge
		if !ids[r.ID] {
			t.Errorf("unknown ID %s", r.ID)
		}
	}
	if order != "bca" {
		t.Errorf("requests in order %q, want oldest first (bca)", order)
	}
	if again := Pending(dir, discard); len(again) != 0 {
		t.Errorf("a second read claimed %+v again", again)
	}
}

func TestPendingDropsJunkAndOrphans(t *testing.T) {
	dir := t.TempDir()
	rd := requestsDir(dir)
	if err := os.MkdirAll(rd, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name, data string, age time.Duration) string {
		p := filepath.Join(rd, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(-age)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbled := write("aaaa.request", "{not json", 0)
	// A request whose ID is not its file name: answering it would write
	// an answer under another request's name.
	misnamed := write("bbbb.request", `{"id":"cccc","kind":"restart"}`, 0)
	oldAnswer := write("dddd.response", `{"id":"dddd"}`, 2*orphanAge)
	oldTemp := write(".eeee.request.tmp-1", `{"id"`, 2*orphanAge)
	newAnswer := write("ffff.response", `{"id":"ffff"}`, time.Second)

	var logs strings.Builder
	reqs := Pending(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if len(reqs) != 0 {
		t.Errorf("Pending returned %+v from junk", reqs)
	}
	for _, p := range []string{garbled, misnamed, oldAnswer, oldTemp} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was not removed (%v)", filepath.Base(p), err)
		}
	}
	if _, err := os.Stat(newAnswer); err != nil {
		t.Errorf("an answer a command may still read was removed: %v", err)
	}
	if n := strings.Count(logs.String(), "ignoring unreadable control request"); n != 2 {
		t.Errorf("%d warnings for unreadable requests, want 2:\n%s", n, logs.String())
	}
}

func TestPendingWithoutFolder(t *testing.T) {
	if reqs := Pending(filepath.Join(t.TempDir(), "nothing"), discard); reqs != nil {
		t.Errorf("Pending = %+v", reqs)
	}
}

func TestAnswerTimeoutCoversARestart(t *testing.T) {
	ssh := config.SSH{DialTimeout: 10 * time.Second, CommandTimeout: 30 * time.Second, MinInterval: 5 * time.Second}
	if got := AnswerTimeout(ssh); got != 60*time.Second {
		t.Errorf("AnswerTimeout = %s, want dial + command + pacing + 15s = 1m0s", got)
	}
}

// TestAskCancelledAfterTheAnswer: an answer already written when the
// command is interrupted is still reported, not hidden behind "may act".
func TestAskCancelledAfterTheAnswer(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var resp Response
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err = Ask(ctx, dir, Request{Kind: KindReset, Bridge: "wb1"}, time.Hour, func(string) {})
	}()
	waitRequest(t, dir)
	serveOnce(dir, func(Request) Response { return Response{OK: true, Message: "done"} })
	cancel()
	<-done
	// Either the poll saw the answer first or the cancel path read it.
	if err != nil || !resp.OK || resp.Message != "done" {
		t.Errorf("Ask = %+v, %v; want the daemon's answer", resp, err)
	}
	assertEmpty(t, dir)
}

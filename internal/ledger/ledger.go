// Package ledger keeps the durable restart record: restart history (from
// which cooldowns and the daily budget are counted), breakers, bridges
// recovering from a restart, and the restart in flight.
//
// The record's rules live in State; where it is kept is a Store behind it.
// The default store is a file in the state directory, rewritten atomically
// after every change, so a leakwatch killed at any moment leaves either the
// old or the new record. The HA store (package ha) keeps it in etcd. The
// actuator sees a Ledger, the policy a Reader.
//
// A restart is written as in flight before its command is sent and finished
// after. A leakwatch that starts and finds a restart in flight must treat it
// as a restart that may have happened (see AbandonInFlight).
//
// A State is not safe for concurrent use; its owner serialises access.
package ledger

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// FileName is the ledger's file name inside the state directory.
const FileName = "restarts.json"

// Retention and MaxEntries bound the history: entries older than Retention
// are dropped, and at most MaxEntries are kept.
const (
	Retention  = 90 * 24 * time.Hour
	MaxEntries = 1000
)

// MaxOutput is the most bytes of restart command output kept per entry.
const MaxOutput = 4096

// Result is how a restart ended.
type Result string

const (
	// ResultOK: the restart command returned without error.
	ResultOK Result = "ok"
	// ResultFailed: the command was sent and returned an error, or it is
	// not known whether it reached the MMP.
	ResultFailed Result = "failed"
	// ResultNotSent: the command provably never reached the MMP (the
	// connection, host key check or authentication failed first). Nothing
	// was restarted, so it spends no daily budget, starts no cooldown and
	// counts for no flap; the breaker still trips, since an SSH fault needs
	// an operator.
	ResultNotSent Result = "not_sent"
	// ResultInterrupted: leakwatch stopped while the restart was in flight;
	// whether the command ran is unknown.
	ResultInterrupted Result = "interrupted"
)

// Results lists every result, for initialising metric label sets.
var Results = []Result{ResultOK, ResultFailed, ResultInterrupted, ResultNotSent}

// Restart is one restart attempt.
type Restart struct {
	Bridge   string    `json:"bridge"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	// Result is empty while in flight.
	Result Result `json:"result,omitempty"`
	// LeakBound is the bridge's proven leak when the restart was ordered.
	LeakBound int64 `json:"leak_bound"`
	// Reason says why: the policy's words, or "forced".
	Reason    string `json:"reason,omitempty"`
	Forced    bool   `json:"forced,omitempty"`
	Emergency bool   `json:"emergency,omitempty"`
	Output    string `json:"output,omitempty"`
	Error     string `json:"error,omitempty"`
}

// End returns when the restart ended, or its start while in flight.
func (r Restart) End() time.Time {
	if r.Finished.IsZero() {
		return r.Started
	}
	return r.Finished
}

// Breaker is a bridge's circuit breaker. A tripped breaker stops automatic
// action on the bridge until an operator resets it.
type Breaker struct {
	Tripped bool      `json:"tripped"`
	Reason  string    `json:"reason,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	// ResetAt is when an operator last reset the breaker; restarts before
	// it no longer count towards flapping.
	ResetAt time.Time `json:"reset_at,omitzero"`
}

// Recovery is a bridge waiting to show that its restart removed the leak.
type Recovery struct {
	// RestartEnded is when the restart being verified ended; only samples
	// newer than it count. (Its file key stays "restart", as written by
	// earlier versions.)
	RestartEnded time.Time `json:"restart"`
}

// ErrInFlight is returned by BeginRestart when a restart is already in flight.
var ErrInFlight = errors.New("a restart is already in flight")

// Reader is the part of the record the restart policy reads: cooldowns
// (LastRestart), budgets and flapping (RestartsSince), breakers and
// recoveries, and the restart in flight.
type Reader interface {
	InFlight() (Restart, bool)
	LastRestart(bridge string) (Restart, bool)
	RestartsSince(t time.Time) int
	BridgeRestartsSince(bridge string, t time.Time) int
	Breaker(bridge string) Breaker
	Recovering(bridge string) (Recovery, bool)
	RecoveringBridges() []string
}

// Ledger is the restart record the actuator keeps. Changes apply in memory
// and become durable on Save; the actuator sends no restart command unless
// the Save after BeginRestart succeeded. *State implements it.
type Ledger interface {
	Reader
	History() []Restart
	Breakers() map[string]Breaker
	Bridges() []string
	BeginRestart(r Restart) error
	CancelRestart(bridge string)
	FinishRestart(bridge string, end time.Time, result Result, output, errMsg string) (Restart, error)
	AbandonInFlight(now time.Time) (Restart, bool, error)
	MarkRecovered(bridge string)
	TripBreaker(bridge, reason, detail string, now time.Time)
	ResetBreaker(bridge string, now time.Time) bool
	Save() error
}

// Store keeps a Record durably. Save must either make the whole record
// durable or fail; a Store that cannot vouch for the caller's right to write
// (the HA store after losing the election) must fail.
type Store interface {
	Save(Record) error
}

// State is the restart record with its rules, kept in a Store. The zero
// value is not usable; use Load, NewMemory or NewWithStore.
type State struct {
	store Store // nil keeps the state in memory only
	dir   string
	state Record
}

// Record is the durable content of the ledger (the file's JSON document).
type Record struct {
	Version    int                 `json:"version"`
	History    []Restart           `json:"history"`
	InFlight   *Restart            `json:"in_flight,omitempty"`
	Breakers   map[string]Breaker  `json:"breakers,omitempty"`
	Recovering map[string]Recovery `json:"recovering,omitempty"`
}

const fileVersion = 1

var _ Ledger = (*State)(nil)

// NewMemory returns an empty State that Save does not persist, for what-if
// replays and tests.
func NewMemory() *State { return &State{state: EmptyRecord()} }

// NewWithStore returns a State holding rec (checked as Load checks a file)
// that Save writes to store.
func NewWithStore(rec Record, store Store) (*State, error) {
	rec, err := rec.normalise()
	if err != nil {
		return nil, err
	}
	return &State{store: store, state: rec}, nil
}

// EmptyRecord returns the record of a ledger that never restarted anything.
func EmptyRecord() Record {
	return Record{Version: fileVersion, Breakers: map[string]Breaker{}, Recovering: map[string]Recovery{}}
}

// Record returns a deep copy of the current record.
func (s *State) Record() Record {
	r := Record{Version: s.state.Version, History: slices.Clone(s.state.History),
		Breakers: maps.Clone(s.state.Breakers), Recovering: maps.Clone(s.state.Recovering)}
	if f := s.state.InFlight; f != nil {
		c := *f
		r.InFlight = &c
	}
	return r
}

// Save makes the record durable in its store. A memory ledger saves nothing.
func (s *State) Save() error {
	if s.store == nil {
		return nil
	}
	return s.store.Save(s.Record())
}

// InFlight returns the restart in flight, if any.
func (s *State) InFlight() (Restart, bool) {
	if s.state.InFlight == nil {
		return Restart{}, false
	}
	return *s.state.InFlight, true
}

// History returns a copy of the finished restarts, oldest first.
func (s *State) History() []Restart { return slices.Clone(s.state.History) }

// LastRestart returns the bridge's latest restart that may have reached its
// MMP, the in-flight one included. A not_sent attempt restarted nothing and
// is left out.
func (s *State) LastRestart(bridge string) (Restart, bool) {
	if f := s.state.InFlight; f != nil && f.Bridge == bridge {
		return *f, true
	}
	for i := len(s.state.History) - 1; i >= 0; i-- {
		if s.state.History[i].Bridge == bridge && s.state.History[i].Result != ResultNotSent {
			return s.state.History[i], true
		}
	}
	return Restart{}, false
}

// RestartsSince counts restarts of any bridge started at or after t, the
// in-flight one included and not_sent attempts left out.
func (s *State) RestartsSince(t time.Time) int { return s.count("", t) }

// BridgeRestartsSince counts the bridge's restarts started at or after t,
// the in-flight one included and not_sent attempts left out.
func (s *State) BridgeRestartsSince(bridge string, t time.Time) int { return s.count(bridge, t) }

func (s *State) count(bridge string, t time.Time) int {
	n := 0
	match := func(r Restart) bool {
		return (bridge == "" || r.Bridge == bridge) && !r.Started.Before(t) && r.Result != ResultNotSent
	}
	// History is ordered by start: walk back from the newest until t.
	for i := len(s.state.History) - 1; i >= 0 && !s.state.History[i].Started.Before(t); i-- {
		if match(s.state.History[i]) {
			n++
		}
	}
	if f := s.state.InFlight; f != nil && match(*f) {
		n++
	}
	return n
}

// Breaker returns the bridge's breaker; the zero Breaker when never tripped.
func (s *State) Breaker(bridge string) Breaker { return s.state.Breakers[bridge] }

// Breakers returns a copy of every bridge's breaker that is tripped.
func (s *State) Breakers() map[string]Breaker {
	out := make(map[string]Breaker)
	for b, br := range s.state.Breakers {
		if br.Tripped {
			out[b] = br
		}
	}
	return out
}

// Recovering returns the bridge's pending recovery, if any.
func (s *State) Recovering(bridge string) (Recovery, bool) {
	r, ok := s.state.Recovering[bridge]
	return r, ok
}

// RecoveringBridges returns the bridges with a pending recovery, sorted.
func (s *State) RecoveringBridges() []string {
	return slices.Sorted(maps.Keys(s.state.Recovering))
}

// BeginRestart records r (Bridge, Started and the why fields) as in flight.
// It fails with ErrInFlight if another restart is in flight. Save it before
// sending the command.
func (s *State) BeginRestart(r Restart) error {
	if f := s.state.InFlight; f != nil {
		return fmt.Errorf("beginning restart of %s: %w (%s since %s)", r.Bridge, ErrInFlight, f.Bridge, f.Started.Format(time.RFC3339))
	}
	if r.Bridge == "" || r.Started.IsZero() {
		return fmt.Errorf("beginning restart: bridge and start time are required")
	}
	r.Finished, r.Result, r.Output, r.Error = time.Time{}, "", "", ""
	s.state.InFlight = &r
	return nil
}

// CancelRestart removes the bridge's in-flight restart without recording it,
// for a restart whose command was never sent (its Begin could not be saved).
func (s *State) CancelRestart(bridge string) {
	if f := s.state.InFlight; f != nil && f.Bridge == bridge {
		s.state.InFlight = nil
	}
}

// FinishRestart moves the in-flight restart of bridge to the history with its
// result. A restart that may have run (ok or interrupted) makes the bridge
// recovering; a failed one does not. It returns the finished entry.
func (s *State) FinishRestart(bridge string, end time.Time, result Result, output, errMsg string) (Restart, error) {
	f := s.state.InFlight
	if f == nil || f.Bridge != bridge {
		return Restart{}, fmt.Errorf("finishing restart of %s: no such restart in flight", bridge)
	}
	switch result {
	case ResultOK, ResultFailed, ResultInterrupted, ResultNotSent:
	default:
		return Restart{}, fmt.Errorf("finishing restart of %s: unknown result %q", bridge, result)
	}
	r := *f
	r.Finished, r.Result, r.Output, r.Error = end, result, truncate(output), truncate(errMsg)
	// Keep the history ordered by start even if the clock stepped back.
	i, _ := slices.BinarySearchFunc(s.state.History, r.Started, func(e Restart, t time.Time) int {
		if e.Started.After(t) {
			return 1
		}
		return -1
	})
	s.state.History = slices.Insert(s.state.History, i, r)
	s.state.InFlight = nil
	if result != ResultFailed && result != ResultNotSent {
		s.state.Recovering[bridge] = Recovery{RestartEnded: r.End()}
	}
	s.prune(end)
	return r, nil
}

// AbandonInFlight finishes a restart left in flight by a previous leakwatch
// process as interrupted at now: it counts for cooldown and budget, and the
// bridge must show recovery or its breaker trips. It reports the entry and
// whether there was one.
func (s *State) AbandonInFlight(now time.Time) (Restart, bool, error) {
	f := s.state.InFlight
	if f == nil {
		return Restart{}, false, nil
	}
	r, err := s.FinishRestart(f.Bridge, now, ResultInterrupted, "", "leakwatch stopped while the restart was in flight; whether it ran is unknown")
	return r, err == nil, err
}

// MarkRecovered ends the bridge's recovery.
func (s *State) MarkRecovered(bridge string) { delete(s.state.Recovering, bridge) }

// TripBreaker trips the bridge's breaker and ends any recovery; a breaker
// already tripped keeps its first reason.
func (s *State) TripBreaker(bridge, reason, detail string, now time.Time) {
	delete(s.state.Recovering, bridge)
	if s.state.Breakers[bridge].Tripped {
		return
	}
	s.state.Breakers[bridge] = Breaker{Tripped: true, Reason: reason, Detail: detail, Since: now, ResetAt: s.state.Breakers[bridge].ResetAt}
}

// ResetBreaker clears the bridge's tripped breaker at now and reports
// whether it was tripped. Restarts before now stop counting as flapping.
func (s *State) ResetBreaker(bridge string, now time.Time) bool {
	if !s.state.Breakers[bridge].Tripped {
		return false
	}
	s.state.Breakers[bridge] = Breaker{ResetAt: now}
	return true
}

// prune drops history older than Retention and beyond MaxEntries.
func (s *State) prune(now time.Time) {
	cut := now.Add(-Retention)
	h := s.state.History
	i := 0
	for i < len(h) && h[i].Started.Before(cut) {
		i++
	}
	if len(h)-i > MaxEntries {
		i = len(h) - MaxEntries
	}
	if i > 0 {
		s.state.History = slices.Clone(h[i:])
	}
}

func truncate(s string) string {
	if len(s) <= MaxOutput {
		return s
	}
	// Cut on a rune boundary so the JSON stays valid UTF-8 text.
	cut := MaxOutput
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + " …[truncated]"
}

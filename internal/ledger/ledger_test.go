package ledger

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var t0 = time.Date(2025, 6, 7, 1, 0, 0, 0, time.UTC)

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := Load(dir)
	if err != nil {
		t.Fatalf("Load of an empty dir: %v", err)
	}
	if err := s.BeginRestart(Restart{Bridge: "wb1", Started: t0, LeakBound: 42, Reason: "policy", Emergency: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishRestart("wb1", t0.Add(3*time.Second), ResultOK, "Restarting webbridge... done", ""); err != nil {
		t.Fatal(err)
	}
	s.TripBreaker("wb2", "not_recovered", "no drop", t0)
	if err := s.BeginRestart(Restart{Bridge: "wb3", Started: t0.Add(time.Hour), Forced: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.state, s.state) {
		t.Fatalf("loaded %+v\nsaved  %+v", got.state, s.state)
	}
	if _, ok := got.Recovering("wb1"); !ok {
		t.Error("wb1 not recovering after load")
	}
	if !got.Breaker("wb2").Tripped {
		t.Error("wb2 breaker lost")
	}
	if n := got.RestartsSince(t0); n != 2 {
		t.Errorf("RestartsSince = %d, want 2 (one finished, one in flight)", n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != FileName {
		t.Errorf("state dir holds %v, want only %s (no temp files)", entries, FileName)
	}
}

// TestInFlightSurvivesKill: a restart begun and saved, then the process
// killed before finishing, is seen by the next process and counts.
func TestInFlightSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	s, _ := Load(dir)
	if err := s.BeginRestart(Restart{Bridge: "wb1", Started: t0, LeakBound: 30}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	// "Kill": drop s; a new process loads the directory.
	s2, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := s2.InFlight()
	if !ok || f.Bridge != "wb1" || !f.Started.Equal(t0) {
		t.Fatalf("in flight after reload = %+v, %v", f, ok)
	}
	if err := s2.BeginRestart(Restart{Bridge: "wb2", Started: t0.Add(time.Minute)}); !errors.Is(err, ErrInFlight) {
		t.Fatalf("second BeginRestart: %v, want ErrInFlight", err)
	}
	r, found, err := s2.AbandonInFlight(t0.Add(10 * time.Minute))
	if err != nil || !found || r.Result != ResultInterrupted {
		t.Fatalf("AbandonInFlight = %+v, %v, %v", r, found, err)
	}
	if _, ok := s2.InFlight(); ok {
		t.Error("still in flight after abandon")
	}
	if last, _ := s2.LastRestart("wb1"); !last.Started.Equal(t0) {
		t.Errorf("last restart of wb1 = %+v, want the interrupted one (cooldown counts from it)", last)
	}
	if rec, ok := s2.Recovering("wb1"); !ok || !rec.RestartEnded.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("interrupted restart must be verified: recovering = %+v, %v", rec, ok)
	}
	if _, found, _ := s2.AbandonInFlight(t0); found {
		t.Error("AbandonInFlight found a second restart")
	}
}

func TestCorruptFile(t *testing.T) {
	for _, tc := range []struct{ name, content string }{
		{"garbage", "not json at all"},
		{"truncated", `{"version":1,"history":[{"bridge":"wb1","started":"2025-06-07T01:00:00Z"`},
		{"empty", ""},
		{"unknown field", `{"version":1,"history":[],"cooldowns":{}}`},
		{"wrong version", `{"version":9,"history":[]}`},
		{"trailing data", `{"version":1,"history":[]} {}`},
		{"incomplete entry", `{"version":1,"history":[{"bridge":"","started":"2025-06-07T01:00:00Z","result":"ok"}]}`},
		{"bad in flight", `{"version":1,"history":[],"in_flight":{"bridge":"wb1"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Load(dir)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", s.state)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "corrupt") {
				t.Errorf("error %q does not name the file and say it is corrupt", err)
			}
		})
	}
}

func TestUnreadableFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should be cannot be read as a ledger.
	if err := os.Mkdir(filepath.Join(dir, FileName), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), FileName) {
		t.Fatalf("Load = %v, want an error naming the file", err)
	}
}

// TestSaveFailureKeepsOldFile: when the new file cannot be written the old
// one stays whole.
func TestSaveFailureKeepsOldFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	s, _ := Load(dir)
	s.TripBreaker("wb1", "flapping", "", t0)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, FileName))
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	s.ResetBreaker("wb1", t0)
	if err := s.Save(); err == nil {
		t.Fatal("Save into a read-only directory succeeded")
	}
	after, _ := os.ReadFile(filepath.Join(dir, FileName))
	if string(before) != string(after) {
		t.Fatal("old ledger changed by a failed save")
	}
}

func TestSaveReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	s, _ := Load(dir)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	old, _ := os.Stat(path)
	s.TripBreaker("wb1", "flapping", "", t0)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	cur, _ := os.Stat(path)
	if os.SameFile(old, cur) {
		t.Error("Save rewrote the file in place instead of renaming a new one over it")
	}
}

func TestHistoryBounded(t *testing.T) {
	s := NewMemory()
	start := t0.Add(-200 * 24 * time.Hour)
	for i := range 3000 {
		at := start.Add(time.Duration(i) * time.Hour)
		s.BeginRestart(Restart{Bridge: "wb1", Started: at})
		if _, err := s.FinishRestart("wb1", at, ResultOK, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	h := s.History()
	if len(h) > MaxEntries {
		t.Fatalf("%d entries kept, max %d", len(h), MaxEntries)
	}
	last := h[len(h)-1].Started
	if h[0].Started.Before(last.Add(-Retention)) {
		t.Errorf("entry from %s kept, older than retention before %s", h[0].Started, last)
	}
	// Old entries go by age too.
	s = NewMemory()
	s.BeginRestart(Restart{Bridge: "wb1", Started: t0})
	s.FinishRestart("wb1", t0, ResultOK, "", "")
	s.BeginRestart(Restart{Bridge: "wb1", Started: t0.Add(91 * 24 * time.Hour)})
	s.FinishRestart("wb1", t0.Add(91*24*time.Hour), ResultOK, "", "")
	if n := len(s.History()); n != 1 {
		t.Errorf("%d entries after 91 days, want 1", n)
	}
}

func TestFinishErrors(t *testing.T) {
	s := NewMemory()
	if _, err := s.FinishRestart("wb1", t0, ResultOK, "", ""); err == nil {
		t.Error("finish without begin succeeded")
	}
	s.BeginRestart(Restart{Bridge: "wb1", Started: t0})
	if _, err := s.FinishRestart("wb2", t0, ResultOK, "", ""); err == nil {
		t.Error("finish of another bridge succeeded")
	}
	if _, err := s.FinishRestart("wb1", t0, "maybe", "", ""); err == nil {
		t.Error("unknown result accepted")
	}
	r, err := s.FinishRestart("wb1", t0, ResultFailed, strings.Repeat("é", MaxOutput), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Output) > MaxOutput+32 || !utf8.ValidString(r.Output) || !strings.HasSuffix(r.Output, "[truncated]") {
		t.Errorf("output not truncated cleanly: %d bytes, valid %v", len(r.Output), utf8.ValidString(r.Output))
	}
	if _, ok := s.Recovering("wb1"); ok {
		t.Error("a failed restart must not wait for recovery (its breaker trips)")
	}
	if err := s.BeginRestart(Restart{Bridge: "", Started: t0}); err == nil {
		t.Error("restart without a bridge accepted")
	}
}

func TestBreaker(t *testing.T) {
	s := NewMemory()
	s.BeginRestart(Restart{Bridge: "wb1", Started: t0})
	s.FinishRestart("wb1", t0, ResultOK, "", "")
	s.TripBreaker("wb1", "not_recovered", "first", t0)
	s.TripBreaker("wb1", "flapping", "second", t0.Add(time.Hour))
	if b := s.Breaker("wb1"); b.Reason != "not_recovered" || !b.Since.Equal(t0) {
		t.Errorf("breaker = %+v, want the first trip kept", b)
	}
	if _, ok := s.Recovering("wb1"); ok {
		t.Error("tripping must end the recovery")
	}
	if got := s.Breakers(); len(got) != 1 {
		t.Errorf("Breakers = %v", got)
	}
	if !s.ResetBreaker("wb1", t0.Add(2*time.Hour)) || s.ResetBreaker("wb1", t0.Add(3*time.Hour)) || s.Breaker("wb1").Tripped {
		t.Error("ResetBreaker did not clear exactly once")
	}
	if b := s.Breaker("wb1"); !b.ResetAt.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("breaker after reset = %+v, want ResetAt of the reset", b)
	}
}

// TestSaveFailureLeavesNoTempFile: a save whose rename fails removes its
// temporary file and reports the path.
func TestSaveFailureLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	s, _ := Load(dir)
	// A non-empty directory in the ledger's place makes the rename fail.
	if err := os.MkdirAll(filepath.Join(dir, FileName, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	err := s.Save()
	if err == nil || !strings.Contains(err.Error(), FileName) {
		t.Fatalf("Save = %v, want an error naming the file", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %v after a failed save, want no temp file", entries)
	}
}

// TestClockStepBack: a restart begun at a time before the newest entry (the
// wall clock stepped back) keeps the history ordered and loadable.
func TestClockStepBack(t *testing.T) {
	dir := t.TempDir()
	s, _ := Load(dir)
	for _, at := range []time.Time{t0, t0.Add(2 * time.Hour), t0.Add(time.Hour)} {
		s.BeginRestart(Restart{Bridge: "wb1", Started: at})
		if _, err := s.FinishRestart("wb1", at, ResultOK, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := got.History()
	for i := 1; i < len(h); i++ {
		if h[i].Started.Before(h[i-1].Started) {
			t.Fatalf("history out of order: %+v", h)
		}
	}
	if n := got.RestartsSince(t0.Add(30 * time.Minute)); n != 2 {
		t.Errorf("RestartsSince = %d, want 2", n)
	}
}

// recordStore is a Store that keeps what it was given, or fails.
type recordStore struct {
	saved []Record
	err   error
}

func (s *recordStore) Save(r Record) error {
	if s.err != nil {
		return s.err
	}
	s.saved = append(s.saved, r)
	return nil
}

func TestStoreGetsIndependentCopies(t *testing.T) {
	st := &recordStore{}
	led, err := NewWithStore(EmptyRecord(), st)
	if err != nil {
		t.Fatal(err)
	}
	if err := led.BeginRestart(Restart{Bridge: "wb1", Started: t0}); err != nil {
		t.Fatal(err)
	}
	if err := led.Save(); err != nil {
		t.Fatal(err)
	}
	led.FinishRestart("wb1", t0.Add(time.Second), ResultOK, "done", "")
	led.TripBreaker("wb1", "flapping", "", t0)
	if err := led.Save(); err != nil {
		t.Fatal(err)
	}
	first, second := st.saved[0], st.saved[1]
	if first.InFlight == nil || len(first.History) != 0 || len(first.Breakers) != 0 {
		t.Errorf("first save changed by later edits: %+v", first)
	}
	if second.InFlight != nil || len(second.History) != 1 || !second.Breakers["wb1"].Tripped {
		t.Errorf("second save = %+v", second)
	}
	st.err = errors.New("store down")
	if err := led.Save(); err == nil {
		t.Error("Save through a failing store succeeded")
	}
}

func TestNewWithStoreChecksTheRecord(t *testing.T) {
	bad := EmptyRecord()
	bad.History = []Restart{{Bridge: "wb1"}}
	if _, err := NewWithStore(bad, &recordStore{}); err == nil {
		t.Error("incomplete history entry accepted")
	}
	if _, err := NewWithStore(Record{Version: 7}, &recordStore{}); err == nil {
		t.Error("unknown version accepted")
	}
}

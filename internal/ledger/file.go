package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/leakwatch/leakwatch/internal/atomicfile"
)

// Load reads the ledger from dir/restarts.json. A missing file gives an empty
// ledger (first start). A file that cannot be read or parsed is an error
// naming the file: the caller decides, since starting empty would forget
// cooldowns, budgets and tripped breakers.
func Load(dir string) (*State, error) {
	if dir == "" {
		return nil, errors.New("loading ledger: no state directory given")
	}
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{store: fileStore{dir}, dir: dir, state: EmptyRecord()}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading restart ledger %s: %w", path, err)
	}
	st, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("restart ledger %s is corrupt (move it aside to start with an empty history, losing cooldowns and breakers): %w", path, err)
	}
	return &State{store: fileStore{dir}, dir: dir, state: st}, nil
}

func decode(data []byte) (Record, error) {
	var st Record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return Record{}, err
	}
	if dec.More() {
		return Record{}, errors.New("trailing data after the JSON document")
	}
	return st.normalise()
}

// normalise checks a record read from a store and fills its empty maps.
func (st Record) normalise() (Record, error) {
	if st.Version != fileVersion {
		return Record{}, fmt.Errorf("version %d, want %d", st.Version, fileVersion)
	}
	for i, r := range st.History {
		if r.Bridge == "" || r.Started.IsZero() || r.Result == "" {
			return Record{}, fmt.Errorf("history entry %d is incomplete", i)
		}
	}
	// Older versions of the file, or hand edits, may be unordered.
	st.History = slices.Clone(st.History)
	slices.SortStableFunc(st.History, func(a, b Restart) int { return a.Started.Compare(b.Started) })
	if f := st.InFlight; f != nil && (f.Bridge == "" || f.Started.IsZero()) {
		return Record{}, errors.New("in-flight restart is incomplete")
	}
	if st.Breakers == nil {
		st.Breakers = map[string]Breaker{}
	}
	if st.Recovering == nil {
		st.Recovering = map[string]Recovery{}
	}
	return st, nil
}

// fileStore keeps the record in <dir>/restarts.json.
type fileStore struct{ dir string }

// Save writes the ledger atomically: a temporary file in the same directory
// is written and synced, renamed over restarts.json, and the directory is
// synced so the rename survives a power cut.
func (f fileStore) Save(rec Record) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding restart ledger: %w", err)
	}
	data = append(data, '\n')
	if err := atomicfile.Write(filepath.Join(f.dir, FileName), data, 0o600); err != nil {
		return fmt.Errorf("saving restart ledger: %w", err)
	}
	return nil
}

// Path returns the ledger file's path, or "" for a memory ledger.
func (s *State) Path() string {
	if s.dir == "" {
		return ""
	}
	return filepath.Join(s.dir, FileName)
}

// Bridges returns the names of every bridge the ledger knows, sorted.
func (s *State) Bridges() []string { return s.state.Bridges() }

// Bridges returns the names of every bridge the record knows, sorted.
func (st Record) Bridges() []string {
	seen := map[string]bool{}
	for _, r := range st.History {
		seen[r.Bridge] = true
	}
	if f := st.InFlight; f != nil {
		seen[f.Bridge] = true
	}
	for b := range st.Breakers {
		seen[b] = true
	}
	for b := range st.Recovering {
		seen[b] = true
	}
	out := make([]string, 0, len(seen))
	for b := range seen {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}

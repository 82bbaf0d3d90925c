//go:build unix

package badinput

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gzipLog is a compressed log whose plaintext is known on each side of a
// cut point: before holds complete lines only, and partial is the head of
// the next Stats line, cut inside its d: number so that it still looks like
// a complete Stats line ("... Stats 0, c:1300, d:33" of d:3300).
type gzipLog struct {
	data   []byte // the whole .gz file
	cut    int    // compressed length that decodes to exactly before+partial
	before string
	// Counts of the complete lines before the cut, and of the whole log.
	beforeRead, beforeWB, beforeCB int
	totalRead, totalWB, totalCB    int
	// The last complete Web Bridge sample before the cut, and at the end.
	beforeSessions, beforeDiscon int64
	lastSessions, lastDiscon     int64
}

// newGzipLog writes 600 minutes of Web Bridge stats, Call Bridge stats
// every five minutes and noise between them, compressed, with a sync flush
// in the middle of a Stats line so the file can be cut exactly there.
func newGzipLog(t *testing.T) *gzipLog {
	t.Helper()
	const minutes, cutAt = 600, 300
	t0 := time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC)
	var g gzipLog
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	write := func(s string) {
		if _, err := io.WriteString(zw, s); err != nil {
			t.Fatal(err)
		}
	}
	var before strings.Builder
	for i := range minutes {
		at := t0.Add(time.Duration(i) * time.Minute)
		sessions, discon := int64(i%150), int64(3000+i)
		line := wbLine(at, "cms1", int(sessions), 1000+i, int(discon))
		if i == cutAt {
			head := line[:strings.Index(line, "d:")+4] // "... d:33"
			write(head)
			if err := zw.Flush(); err != nil {
				t.Fatal(err)
			}
			g.cut = buf.Len()
			g.before = before.String()
			g.beforeRead, g.beforeWB, g.beforeCB = g.totalRead, g.totalWB, g.totalCB
			g.beforeSessions, g.beforeDiscon = g.lastSessions, g.lastDiscon
			write(line[len(head):])
		} else {
			write(line)
			before.WriteString(line)
		}
		g.totalRead++
		g.totalWB++
		g.lastSessions, g.lastDiscon = sessions, discon
		if i%5 == 0 {
			l := cbLine(at.Add(time.Second), "cb1", 3, 4)
			write(l)
			before.WriteString(l)
			g.totalRead++
			g.totalCB++
		}
		noise := fmt.Sprintf("%s user.info cb1 host:server: INFO : API trace %d: GET for \"/api/v1/system/status\" (from 10.0.0.1)\n", at.Add(2*time.Second).Format(stampLayout), i)
		write(noise)
		before.WriteString(noise)
		g.totalRead++
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	g.data = buf.Bytes()
	return &g
}

// TestTruncatedGzipInReplay replays .gz files cut short: in the middle of
// the stream, inside the header, and before the trailer. Replay must exit
// non-zero with an error naming the file and saying "truncated", after
// printing the report of every complete line before the damage, and must
// not apply the incomplete line the damage left.
func TestTruncatedGzipInReplay(t *testing.T) {
	g := newGzipLog(t)
	dir := t.TempDir()
	cfg := writeReplayConfig(t, dir, "")
	ref := time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC).Format(time.RFC3339)

	// The construction is sound: a gzip reader gets exactly the complete
	// lines and the partial one from the cut file, then an unexpected EOF.
	zr, err := gzip.NewReader(bytes.NewReader(g.data[:g.cut]))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.HasPrefix(string(got), g.before) || strings.Count(string(got[len(g.before):]), "\n") != 0 {
		t.Fatalf("the cut file decodes to %d bytes (%v), want the %d bytes before the cut and a partial line", len(got), err, len(g.before))
	}

	for _, tc := range []struct {
		name          string
		size          int
		read, wb, cb  int
		sessions, dis int64
	}{
		// The partial line "... Stats 0, c:1300, d:33" must not be applied.
		{"mid-stream", g.cut, g.beforeRead, g.beforeWB, g.beforeCB, g.beforeSessions, g.beforeDiscon},
		// Every line is intact; only the CRC and size are missing.
		{"no-trailer", len(g.data) - 8, g.totalRead, g.totalWB, g.totalCB, g.lastSessions, g.lastDiscon},
		// The magic number is there, the rest of the header is not.
		{"header", 6, 0, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".log.gz")
			if err := os.WriteFile(path, g.data[:tc.size], 0o644); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, "replay", "--config", cfg, "--format", "json", "--reference-time", ref, path)
			if r.code != 1 {
				t.Errorf("replay exited %d, want 1", r.code)
			}
			if !strings.Contains(r.stderr, path) || !strings.Contains(r.stderr, "truncated") {
				t.Errorf("replay's error does not name %s and say truncated:\n%s", path, r.stderr)
			}
			if tc.read == 0 {
				return
			}
			rep := parseReport(t, r)
			l := rep.Lines
			if l.Read != uint64(tc.read) || l.WebBridgeStats != uint64(tc.wb) || l.CallBridgeStats != uint64(tc.cb) || l.Malformed != 0 {
				t.Errorf("lines = %+v, want read %d, webbridge_stats %d, callbridge_stats %d, malformed 0", l, tc.read, tc.wb, tc.cb)
			}
			wb := rep.WebBridges["cms1"]
			if wb.Sessions != tc.sessions || wb.Disconnections != tc.dis {
				t.Errorf("cms1 ends with sessions %d, disconnections %d; want %d and %d, from the last complete line", wb.Sessions, wb.Disconnections, tc.sessions, tc.dis)
			}

			// The table says the same before the error.
			r = runCLI(t, "replay", "--config", cfg, "--reference-time", ref, path)
			summary := fmt.Sprintf("%d lines read: %d web bridge stats, %d call bridge stats, 0 malformed", tc.read, tc.wb, tc.cb)
			if r.code != 1 || !strings.Contains(r.stdout, summary) {
				t.Errorf("table replay exited %d; want 1 and the summary %q in:\n%s", r.code, summary, tail(r.stdout, 500))
			}
		})
	}
}

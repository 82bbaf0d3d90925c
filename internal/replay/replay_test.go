package replay

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
)

const sample = `Mar 18 09:55:02.101 user.info cms1 host:server:  INFO : STATS: {"CMA": "4/5"}
Mar 18 09:56:00.004 user.info cms1 "webbridge": INFO : [DEBUGGING] Stats 41, c:3401, d:3120
Mar 18 09:56:10.000 user.info cms1 host:server:  INFO : API trace: "Stats 140, c:1, d:1"
Mar 18 09:57:00.004 user.info cms1 "webbridge": INFO : [DEBUGGING] Stats -4, c:3405, d:3123
Mar 18 10:00:02.101 user.info cms1 host:server:  INFO : STATS: {"CMA": "5/6"}
Mar 18 10:01:30.000 user.info cms1 host:server:  INFO : SIP trace: connection 12: read failure`

func newReplayer(t *testing.T) (*Replayer, *cluster.Model) {
	t.Helper()
	m, err := cluster.New(cluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return New(m, time.UTC, time.Date(2026, 3, 19, 0, 0, 0, 0, time.UTC)), m
}

func TestReaderCountsAndNow(t *testing.T) {
	r, m := newReplayer(t)
	if err := r.Reader(strings.NewReader(sample)); err != nil { // no final newline
		t.Fatal(err)
	}
	c := r.Counts()
	if c.Read != 6 || c.WebBridgeStats != 1 || c.CallBridgeStats != 2 || c.Malformed != 1 || c.MalformedWebBridge != 1 {
		t.Errorf("counts = %+v", c)
	}
	if want := time.Date(2026, 3, 18, 10, 1, 30, 0, time.UTC); !r.Now().Equal(want) {
		t.Errorf("now = %v, want the last line's time %v", r.Now(), want)
	}
	snap := m.Snapshot(r.Now())
	if wb, ok := snap.WebBridge("cms1"); !ok || wb.Sessions != 41 {
		t.Errorf("cms1 = %+v", wb)
	}
}

func TestGzipAndTruncatedGzip(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i := 0; i < 2000; i++ {
		zw.Write([]byte(sample + "\n"))
	}
	zw.Close()
	whole := filepath.Join(dir, "cms.log.gz")
	os.WriteFile(whole, buf.Bytes(), 0o644)
	r, _ := newReplayer(t)
	if err := r.File(whole); err != nil {
		t.Fatal(err)
	}
	if got := r.Counts().Read; got != 12000 {
		t.Errorf("read %d lines from gzip, want 12000", got)
	}
	cut := filepath.Join(dir, "cut.log.gz")
	os.WriteFile(cut, buf.Bytes()[:buf.Len()/2], 0o644)
	r, _ = newReplayer(t)
	err := r.File(cut)
	if err == nil || !strings.Contains(err.Error(), "cut.log.gz") || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated gzip: err = %v", err)
	}
	if n := r.Counts().Read; n == 0 || n >= 12000 {
		t.Errorf("lines before the damage: %d", n)
	}
}

func TestLineLongerThanBuffer(t *testing.T) {
	r, _ := newReplayer(t)
	long := strings.Repeat("x", bufSize+1000)
	in := long + "\n" + sample + "\n"
	if err := r.Reader(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	c := r.Counts()
	if c.TooLong != 1 || c.Read != 7 || c.CallBridgeStats != 2 {
		t.Errorf("counts = %+v", c)
	}
}

// BenchmarkReplay measures replay over a realistic buffer: 99 noise lines
// per stats line. Compare its MB/s with BenchmarkScanOnly, the floor of
// one pass over the bytes.
func BenchmarkReplay(b *testing.B) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		m, _ := cluster.New(cluster.Options{})
		r := New(m, time.UTC, time.Date(2026, 3, 19, 0, 0, 0, 0, time.UTC))
		if err := r.Reader(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanOnly(b *testing.B) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if bytes.Count(data, []byte("Stats ")) == 0 {
			b.Fatal("no stats")
		}
	}
}

func benchData() []byte {
	var buf bytes.Buffer
	noise := `Mar 18 09:56:10.000 user.info cms1 host:server:  INFO : API trace 8889: GET for "/api/v1/system/status" (from 10.1.1.1)` + "\n"
	stats := `Mar 18 09:56:00.004 user.info cms2 "webbridge": INFO : [DEBUGGING] Stats 41, c:3401, d:3120` + "\n"
	for buf.Len() < 32<<20 {
		for i := 0; i < 99; i++ {
			buf.WriteString(noise)
		}
		buf.WriteString(stats)
	}
	return buf.Bytes()
}

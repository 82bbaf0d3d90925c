//go:build unix

package badinput

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/logline"
)

// garbageCorpus is valid stats lines interleaved with binary garbage and
// malformed stats lines. Every item ends with a newline; as a file it is
// their concatenation, over UDP one datagram per item, over TCP one stream.
type garbageCorpus struct {
	items [][]byte
	// Expected counts for one pass over the items.
	wb, cb, wbBad, cbBad int
	// last is each well-named bridge's last sessions value.
	last map[string]int
}

func (c *garbageCorpus) bytes() []byte { return bytes.Join(c.items, nil) }

// newGarbageCorpus builds the corpus from seed, with stats lines stamped at.
func newGarbageCorpus(at time.Time, seed uint64) *garbageCorpus {
	src := rand.NewChaCha8([32]byte{byte(seed)})
	rng := rand.New(src)
	c := &garbageCorpus{last: map[string]int{}}
	hdr := func(host, tag string) string {
		return at.UTC().Format(stampLayout) + " user.info " + host + " " + tag + ": INFO : "
	}
	wbBad := []string{
		"[DEBUGGING] Stats -1, c:1, d:0",                   // negative
		"[DEBUGGING] Stats 99999999999999999999, c:1, d:0", // out of range
		"[DEBUGGING] Stats 5, c:1",                         // d missing
		"[DEBUGGING] Stats 5, c:1, d:0 \xff\xfe",           // invalid UTF-8 after d
		"[DEBUGGING] Stats 5\x00, c:1, d:0",                // NUL inside (over TCP the NUL ends the frame: "Stats 5", still malformed)
	}
	cbBad := []string{
		`STATS: {"CMA": "5/3"}`,                     // peak below current
		`STATS: {"callLegs": "1/2", "CMA": `,        // truncated JSON
		`STATS: {"callLegs": "1/2"}`,                // CMA missing
		"STATS: {\"CMA\": \"1/2\",\x00 \"x\": 1}",   // NUL inside the JSON
		"STATS: {\"CMA\": \"1/2\", \"x\": \"\xff\"", // invalid UTF-8, then cut
	}
	for i := range 120 {
		host := fmt.Sprintf("cms%d", i%3+1)
		sessions := i
		c.items = append(c.items, []byte(hdr(host, "webbridge")+fmt.Sprintf("[DEBUGGING] Stats %d, c:%d, d:%d\n", sessions, 1000+i, 1000)))
		c.wb++
		c.last[host] = sessions
		if i%10 == 0 {
			c.items = append(c.items, []byte(hdr("cb1", "host:server")+fmt.Sprintf(`STATS: {"callLegsPS": 0, "callLegs": "1/2", "CMA": "%d/%d"}`+"\n", i%7, i%7+1)))
			c.cb++
		}
		for range 1 + rng.IntN(3) {
			c.items = append(c.items, garbage(rng, src))
		}
		switch i % 12 {
		case 3:
			c.items = append(c.items, []byte(hdr(host, "webbridge")+wbBad[i/12%len(wbBad)]+"\n"))
			c.wbBad++
		case 7:
			c.items = append(c.items, []byte(hdr("cb1", "host:server")+cbBad[i/12%len(cbBad)]+"\n"))
			c.cbBad++
		case 9:
			// A valid line with a UTF-8 byte order mark in front, and a
			// stats line from a hostname that is not UTF-8: rejected as
			// malformed, never a bridge named with odd bytes.
			c.items = append(c.items, []byte("\xef\xbb\xbf"+hdr("cms9", "webbridge")+"[DEBUGGING] Stats 1, c:1, d:0\n"))
			c.items = append(c.items, []byte(hdr("cms\xff9", "webbridge")+"[DEBUGGING] Stats 2, c:2, d:0\n"))
			c.wb++
			c.wbBad++
		}
	}
	return c
}

// garbage returns one line of hostile bytes: NUL runs, invalid UTF-8
// sequences or uniform random bytes, up to 2000 bytes, ending in a newline.
// It holds no stats marker, and no frame of it starts with a digit 1-9: a
// TCP frame "123 ..." is an RFC 6587 octet count (as in rsyslog) that would
// swallow the next lines, a different hazard from the bytes tested here.
func garbage(rng *rand.Rand, src *rand.ChaCha8) []byte {
	for {
		n := 1 + rng.IntN(2000)
		b := make([]byte, 0, n+1)
		switch rng.IntN(3) {
		case 0:
			for range n {
				if rng.IntN(3) == 0 {
					b = append(b, 0)
				} else {
					b = append(b, 'a'+byte(rng.IntN(26)))
				}
			}
		case 1:
			bad := [][]byte{{0xff}, {0xfe}, {0xc0, 0x80}, {0xed, 0xa0, 0x80}, {0xf8, 0x88, 0x80, 0x80, 0x80}, {0xe2, 0x82}, {0x80}, []byte(" x ")}
			for len(b) < n {
				b = append(b, bad[rng.IntN(len(bad))]...)
			}
		default:
			b = b[:n]
			src.Read(b)
		}
		for i := range b {
			if (i == 0 || b[i-1] == '\n' || b[i-1] == '\r' || b[i-1] == 0) && '1' <= b[i] && b[i] <= '9' {
				b[i] = '#'
			}
		}
		b = append(b, '\n')
		clean := true
		for _, m := range logline.Markers() {
			if bytes.Contains(b, m) {
				clean = false
			}
		}
		if clean {
			return b
		}
	}
}

// TestNULInvalidUTF8AndBinaryGarbage feeds valid stats lines interleaved
// with NUL bytes, invalid UTF-8, seeded random binary garbage and malformed
// stats lines, first as a followed file, then as syslog datagrams, then as
// one syslog TCP stream. Every valid stats line must be counted, every
// malformed one counted as malformed, and /metrics must stay valid.
func TestNULInvalidUTF8AndBinaryGarbage(t *testing.T) {
	start := time.Now()
	c := newGarbageCorpus(start, 1)
	data := c.bytes()
	t.Logf("corpus: %d items, %d bytes; %d webbridge and %d callbridge stats lines, %d and %d malformed",
		len(c.items), len(data), c.wb, c.cb, c.wbBad, c.cbBad)

	dir := t.TempDir()
	logPath := filepath.Join(dir, "cms.log")
	if err := os.WriteFile(logPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	udpPort, tcpPort := freeUDPPort(t), harness.FreePort(t)
	d := startDaemon(t, fmt.Sprintf(`inputs:
  files:
    paths: [%q]
  syslog:
    udp_address: "127.0.0.1:%d"
    tcp_address: "127.0.0.1:%d"
    allowed_sources: ["127.0.0.1"]
`, logPath, udpPort, tcpPort))

	// wantCounts waits for pass passes over the corpus to be counted, then
	// checks the counts are exact.
	wantCounts := func(pass int) {
		t.Helper()
		want := map[string]float64{
			`leakwatch_stats_lines_total{kind="webbridge"}`:      float64(pass * c.wb),
			`leakwatch_stats_lines_total{kind="callbridge"}`:     float64(pass * c.cb),
			`leakwatch_malformed_lines_total{kind="webbridge"}`:  float64(pass * c.wbBad),
			`leakwatch_malformed_lines_total{kind="callbridge"}`: float64(pass * c.cbBad),
		}
		d.waitFor(30*time.Second, fmt.Sprintf("the counts of pass %d", pass), func() (bool, string) {
			body := d.scrape()
			var diff []string
			for series, v := range want {
				if got, _ := harness.Metric(body, series); got != v {
					diff = append(diff, fmt.Sprintf("%s = %g, want %g", series, got, v))
				}
			}
			return len(diff) == 0, strings.Join(diff, "; ")
		})
	}

	t.Run("file", func(t *testing.T) {
		wantCounts(1)
		if got, _ := d.metric(`leakwatch_lines_total{source="files"}`); got != float64(bytes.Count(data, []byte{'\n'})) {
			t.Errorf("leakwatch_lines_total{source=\"files\"} = %g, want %d (one per newline)", got, bytes.Count(data, []byte{'\n'}))
		}
		body := d.scrape()
		for host, want := range c.last {
			series := fmt.Sprintf(`cms_webbridge_sessions{webbridge=%q}`, host)
			if got, ok := harness.Metric(body, series); !ok || got != float64(want) {
				t.Errorf("%s = %g (present: %v), want %d", series, got, ok, want)
			}
		}
		if _, ok := harness.Metric(body, `cms_webbridge_sessions{webbridge="cms9"}`); !ok {
			t.Error("the Stats line behind a byte order mark was not applied (no cms9)")
		}
	})

	t.Run("udp", func(t *testing.T) {
		conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", udpPort))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// Datagrams go in batches the receiver is waited for, so that the
		// kernel drops none and the counts can be exact.
		rejectReasons := []string{"bad_pri", "empty", "too_large"}
		handled := func() float64 {
			body := d.scrape()
			n, _ := harness.Metric(body, `leakwatch_lines_total{source="syslog"}`)
			for _, r := range rejectReasons {
				v, _ := harness.Metric(body, fmt.Sprintf(`leakwatch_input_errors_total{reason=%q,source="syslog"}`, r))
				n += v
			}
			return n
		}
		sent := 0
		for i, item := range c.items {
			if _, err := conn.Write(item); err != nil {
				t.Fatalf("sending datagram %d: %v", i, err)
			}
			sent++
			if sent%100 == 0 || i == len(c.items)-1 {
				d.waitFor(20*time.Second, fmt.Sprintf("%d datagrams handled", sent), func() (bool, string) {
					h := handled()
					return h == float64(sent), fmt.Sprintf("%g handled, %d kernel drops", h, udpDrops(t, udpPort))
				})
			}
		}
		if drops := udpDrops(t, udpPort); drops != 0 {
			t.Fatalf("the kernel dropped %d datagrams; the counts below cannot be exact", drops)
		}
		wantCounts(2)
	})

	t.Run("tcp", func(t *testing.T) {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort))
		if err != nil {
			t.Fatal(err)
		}
		// Written in random pieces, so that frames straddle reads.
		rng := rand.New(rand.NewPCG(2, 2))
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(4096))
			if _, err := conn.Write(rest[:n]); err != nil {
				t.Fatalf("writing the stream: %v", err)
			}
			rest = rest[n:]
		}
		if err := conn.Close(); err != nil {
			t.Fatal(err)
		}
		wantCounts(3)
	})

	// Whatever the bytes, every page still answers, in valid UTF-8.
	body := d.scrape()
	if !utf8.ValidString(body) {
		t.Error("/metrics is not valid UTF-8")
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}
	code, status := harness.Get(d.base + "/api/v1/status")
	if code != 200 || !json.Valid([]byte(status)) {
		t.Errorf("/api/v1/status: %d, valid JSON %v", code, json.Valid([]byte(status)))
	}
	if code, page := harness.Get(d.base + "/"); code != 200 || !utf8.ValidString(page) {
		t.Errorf("status page: %d, valid UTF-8 %v", code, utf8.ValidString(page))
	}

	// Malformed lines are logged at most once a second, however many.
	out := d.proc.Output()
	elapsed := time.Since(start)
	if n := countLines(out, "malformed stats line rejected"); n < 1 || n > int(elapsed/time.Second)+2 {
		t.Errorf("%d log lines for malformed stats lines in %s, want 1 to one a second", n, elapsed.Round(time.Second))
	}
	if n := countLines(out, "syslog input rejected"); n > 3 {
		t.Errorf("%d log lines for rejected syslog messages, want at most one a minute per source", n)
	}
	d.stop()
}

//go:build unix

package badinput

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// Bounds of the flood.
const (
	floodDatagrams   = 200_000
	floodFor         = 5 * time.Second
	floodConnections = 1000
)

// TestSyslogFloodFromSourceNotAllowed floods the syslog receiver over UDP
// and TCP from 127.0.0.1 while only 10.99.0.0/16 may send. Every datagram
// the kernel delivers and every connection must be rejected and counted as
// source_not_allowed, the rejection logged a handful of times rather than
// once per message, nothing may reach the model, and memory must stay
// bounded.
func TestSyslogFloodFromSourceNotAllowed(t *testing.T) {
	udpPort, tcpPort := freeUDPPort(t), harness.FreePort(t)
	d := startDaemon(t, fmt.Sprintf(`inputs:
  syslog:
    udp_address: "127.0.0.1:%d"
    tcp_address: "127.0.0.1:%d"
    allowed_sources: ["10.99.0.0/16"]
`, udpPort, tcpPort))
	const rejected = `leakwatch_input_errors_total{reason="source_not_allowed",source="syslog"}`
	idle, err := harness.RSS(d.pid())
	if err != nil {
		t.Fatal(err)
	}
	rss := sampleRSS(d.pid())
	// A message that would move the model if it got through: a bridge at
	// its limit.
	msg := []byte("<14>" + strings.TrimSuffix(wbLine(time.Now(), "cms1", 149, 5000, 100), "\n"))

	var udpSeen float64
	t.Run("udp", func(t *testing.T) {
		conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", udpPort))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		sent, failed := 0, 0
		deadline := time.Now().Add(floodFor)
		for sent < floodDatagrams && time.Now().Before(deadline) {
			if _, err := conn.Write(msg); err != nil {
				failed++ // e.g. ENOBUFS: the datagram never left
				continue
			}
			sent++
		}
		// Every datagram sent was either dropped by the kernel (the
		// receive queue was full) or read and rejected.
		d.waitFor(30*time.Second, "every datagram rejected or dropped", func() (bool, string) {
			udpSeen, _ = d.metric(rejected)
			drops := udpDrops(t, udpPort)
			return udpSeen+float64(drops) == float64(sent), fmt.Sprintf("%d sent, %g rejected, %d dropped by the kernel", sent, udpSeen, drops)
		})
		t.Logf("%d datagrams sent (%d send errors), %g read and rejected, %d dropped by the kernel", sent, failed, udpSeen, udpDrops(t, udpPort))
		if udpSeen == 0 {
			t.Fatal("no datagram was read")
		}
	})

	t.Run("tcp", func(t *testing.T) {
		addr := fmt.Sprintf("127.0.0.1:%d", tcpPort)
		payload := bytes.Repeat(append(append([]byte(nil), msg...), '\n'), 50)
		for i := range floodConnections {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
			conn.Write(payload) // the receiver may already have closed it
			conn.Close()
		}
		// One sender that keeps streaming: the refused connection is
		// closed unread, so its writes must fail long before 16 MB.
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		chunk := bytes.Repeat(payload, 64)
		written, werr := 0, error(nil)
		for written < 16<<20 && werr == nil {
			var n int
			n, werr = conn.Write(chunk)
			written += n
		}
		if werr == nil {
			t.Errorf("wrote %d bytes on a connection from a source not allowed without an error", written)
		} else {
			t.Logf("the streaming sender got %v after %d bytes", werr, written)
		}
		d.waitMetric(30*time.Second, rejected, udpSeen+floodConnections+1)
	})
	peak := rss.Stop(t)
	t.Logf("RSS idle %s, peak %s during the flood", mb(idle), mb(peak))
	if peak > rssLimit {
		t.Errorf("RSS peaked at %s during the flood, want at most %s", mb(peak), mb(rssLimit))
	}

	// Nothing reached the model.
	body := d.scrape()
	for _, series := range []string{
		`leakwatch_stats_lines_total{kind="webbridge"}`,
		`leakwatch_malformed_lines_total{kind="webbridge"}`,
		`leakwatch_lines_total{source="syslog"}`,
		`leakwatch_input_errors_total{reason="too_large",source="syslog"}`,
		`leakwatch_input_errors_total{reason="source_connection_limit",source="syslog"}`,
		`leakwatch_input_errors_total{reason="connection_evicted",source="syslog"}`,
	} {
		if v, _ := harness.Metric(body, series); v != 0 {
			t.Errorf("%s = %g, want 0", series, v)
		}
	}
	for _, family := range []string{"cms_webbridge_sessions{", "leakwatch_syslog_messages_total{"} {
		if strings.Contains(body, "\n"+family) {
			t.Errorf("/metrics has %s...}: a message from a source not allowed got through", family)
		}
	}

	// The log says so, a handful of times, not once per message.
	out := d.proc.Output()
	if n := countLines(out, "source_not_allowed"); n < 1 || n > 3 {
		t.Errorf("%d log lines about source_not_allowed, want 1 to 3 (at most one a minute per source)", n)
	}
	d.stop()
}

package daemon

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// TestRunFollowsFileReceivesSyslogAndServesMetrics runs the daemon on a
// followed file and a syslog receiver (UDP and TCP on loopback) and scrapes
// /metrics, /-/ready and /api/v1/status over real HTTP.
func TestRunFollowsFileReceivesSyslogAndServesMetrics(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "cms.log")
	now := time.Now()
	// A call bridge period that covers the web bridge samples, five minutes back.
	lines := []string{
		bsd(now.Add(-10*time.Minute)) + ` user.info cms1 host:server:  INFO : STATS: {"callLegs": "2/3", "CMA": "1/2"}`,
		bsd(now.Add(-4*time.Minute)) + ` user.info cms2 "webbridge": INFO : [DEBUGGING] Stats 40, c:900, d:850`,
		bsd(now.Add(-4*time.Minute)) + ` user.info cms1 "webbridge": INFO : [DEBUGGING] Stats 3, c:90, d:85`,
		bsd(now.Add(-time.Minute)) + ` user.info cms1 host:server:  INFO : STATS: {"callLegs": "2/3", "CMA": "2/4"}`,
		bsd(now.Add(-time.Minute)) + ` user.info cms1 host:server:  INFO : STATS: {"CMA": "oops"}`,
	}
	if err := os.WriteFile(logFile, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.Inputs.Files.Paths = []string{filepath.Join(dir, "*.log")}
	cfg.Inputs.Syslog.UDPAddress = "127.0.0.1:0"
	cfg.Inputs.Syslog.TCPAddress = "127.0.0.1:0"
	cfg.Inputs.Syslog.AllowedSources = []string{"127.0.0.1"}
	cfg.Policy.Windows = []string{"daily 00:00-24:00"}

	d, base := startDaemon(t, Options{Config: cfg})
	harness.Eventually(t, 20*time.Second, "ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	// Live syslog over UDP and TCP (octet-counted).
	udp, tcp := d.recv.Addrs()
	uc, err := net.Dial("udp", udp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	fmt.Fprintf(uc, `<14>%s cms3 webbridge: INFO : [DEBUG] Stats 7, c:70, d:63`, bsd(time.Now().Add(-3*time.Minute)))
	tc, err := net.Dial("tcp", tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	msg := fmt.Sprintf(`<14>%s cms4 host:server: INFO : STATS: {"CMA": "0/1"}`, bsd(time.Now()))
	fmt.Fprintf(tc, "%d %s", len(msg), msg)

	var m string
	harness.Eventually(t, 20*time.Second, "syslog samples on /metrics", func() bool {
		m = harness.Body(t, base+"/metrics")
		return strings.Contains(m, `cms_webbridge_sessions{webbridge="cms3"} 7`) && strings.Contains(m, `cms_callbridge_cma_sessions{callbridge="cms4"} 0`)
	})
	for _, want := range []string{
		`cms_webbridge_sessions{webbridge="cms2"} 40`,
		`cms_callbridge_cma_sessions_peak{callbridge="cms1"} 4`,
		`leakwatch_lines_total{source="files"} 5`,
		`leakwatch_lines_total{source="syslog"} 2`,
		`leakwatch_malformed_lines_total{kind="callbridge"} 1`,
		`leakwatch_mode{mode="observe"} 1`,
		`leakwatch_build_info{`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// cms2's sample at -4m lies in cms1's period ending at -1m and cms4's
	// ending now: 40 - (4 + 1) sessions are provably leaked.
	if !strings.Contains(m, `cms_webbridge_leaked_sessions_lower_bound{webbridge="cms2"} 35`) {
		t.Errorf("cms2's proven leak is not 35:\n%s", m)
	}
	if api := harness.Body(t, base+"/api/v1/status"); !strings.Contains(api, `"cms2"`) {
		t.Errorf("/api/v1/status lacks cms2: %s", api)
	}
}

package daemon

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/syslogrecv"
)

// TestSyslogHostBoundToAnotherAddressIsRejected binds cms1 to 127.0.0.5
// and sends its Web Bridge statistics from 127.0.0.6, which may send for
// other hosts: the forged line must be counted as host_not_allowed and
// never reach the model, while the same line from 127.0.0.5, and another
// host's line from 127.0.0.6, do.
func TestSyslogHostBoundToAnotherAddressIsRejected(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Inputs.Syslog.UDPAddress = "127.0.0.1:0"
	cfg.Inputs.Syslog.AllowedSources = []string{"127.0.0.0/8"}
	cfg.Inputs.Syslog.Sources = []config.SyslogSource{{Address: "127.0.0.5", Hosts: []string{"CMS1"}}}

	d, base := startDaemon(t, Options{Config: cfg})

	udp, _ := d.recv.Addrs()
	send := func(from, host string, sessions int) {
		t.Helper()
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)}, udp.(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, `<14>%s user.info %s webbridge: INFO : [DEBUGGING] Stats %d, c:900, d:850`, bsd(time.Now()), host, sessions)
	}
	rejected := `leakwatch_input_errors_total{reason="` + syslogrecv.ReasonHostNotAllowed + `",source="syslog"} 1`

	send("127.0.0.6", "cms1", 149) // forged
	harness.Eventually(t, 20*time.Second, "the forged line counted", func() bool { return strings.Contains(harness.Body(t, base+"/metrics"), rejected) })
	send("127.0.0.5", "cms1", 40)
	send("127.0.0.6", "cms2", 12)
	var m string
	harness.Eventually(t, 20*time.Second, "the genuine lines applied", func() bool {
		m = harness.Body(t, base+"/metrics")
		return strings.Contains(m, `cms_webbridge_sessions{webbridge="cms1"} 40`) && strings.Contains(m, `cms_webbridge_sessions{webbridge="cms2"} 12`)
	})
	if !strings.Contains(m, rejected) {
		t.Errorf("/metrics lacks %s", rejected)
	}
	if strings.Contains(m, `cms_webbridge_sessions{webbridge="cms1"} 149`) {
		t.Error("the forged sample reached the model")
	}
}

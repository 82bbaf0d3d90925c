package e2e

// The real programs the end-to-end test runs: rsyslogd, sshd (standing in
// for the MMPs) and Prometheus, each on 127.0.0.1 with its own files in a
// temporary directory, each stopped when the test ends.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// rsyslogConf receives RFC 3164 syslog on one TCP port of 127.0.0.1 and
// writes every message to one file with the template named by its fourth
// argument. No imuxsock or imklog: the system log and /dev/log are left
// alone.
const rsyslogConf = `global(workDirectory="%[1]s")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="%[2]d")
template(name="cms" type="string"
         string="%%TIMESTAMP%% %%syslogfacility-text%%.%%syslogseverity-text%% %%HOSTNAME%% %%syslogtag%%%%msg%%\n")
*.* action(type="omfile" file="%[3]s" template="%[4]s" flushOnTXEnd="on")
`

// Templates of rsyslog's output file.
const (
	// templateCMS writes the form Cisco's documents show,
	// `Nov 26 12:00:00 user.info cms2 webbridge: INFO : ...`. It writes
	// %syslogtag%%msg% back to back on purpose: rsyslog's RFC 3164 parser
	// ends the tag at the first colon, so the Call Bridge's `host:server:`
	// tag becomes tag "host:" and message "server: ...".
	templateCMS = "cms"
	// templateTraditional is rsyslog's (and Debian's) default file format,
	// `Nov 26 12:00:00 cms2 webbridge: INFO : ...`. It puts a space before
	// a message that does not start with one, so it writes the Call
	// Bridge's lines as `cms4 host: server: INFO : STATS: {...}`.
	templateTraditional = "RSYSLOG_TraditionalFileFormat"
)

// rsyslog is a running rsyslogd.
type rsyslog struct {
	Addr string // its TCP input, 127.0.0.1:port
	File string // the file it writes every message to
}

// startRsyslog runs rsyslogd in the foreground with rsyslogConf writing
// with template, and waits until its TCP input accepts connections.
func startRsyslog(t *testing.T, template string) *rsyslog {
	t.Helper()
	bin := harness.Need(t, "rsyslogd")
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	port := harness.FreePort(t)
	r := &rsyslog{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), File: filepath.Join(dir, "cms.log")}
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, rsyslogConf, work, port, r.File, template), 0o600); err != nil {
		t.Fatal(err)
	}
	p := harness.Start(t, nil, bin, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	harness.WaitListening(t, p, "rsyslogd", r.Addr, 20*time.Second)
	return r
}

// mmps is one sshd standing in for the MMPs of several Web Bridges, one
// port each (harness.StartMMP).
type mmps struct {
	*harness.MMP
	addrs      map[string]string // Web Bridge name -> 127.0.0.1:port
	knownHosts string            // known_hosts with sshd's host key for every address
}

// startMMPs runs the stand-in MMPs, one port per name.
func startMMPs(t *testing.T, names []string) *mmps {
	t.Helper()
	mm := harness.StartMMP(t, harness.MMPOptions{Listeners: len(names)})
	m := &mmps{MMP: mm, addrs: map[string]string{}, knownHosts: filepath.Join(mm.Dir, "known_hosts")}
	for i, n := range names {
		m.addrs[n] = mm.Addrs[i]
	}
	if err := os.WriteFile(m.knownHosts, []byte(mm.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return m
}

// bridgeOn returns the Web Bridge whose MMP listens on port.
func (m *mmps) bridgeOn(port string) (string, bool) {
	for name, a := range m.addrs {
		if _, p, _ := net.SplitHostPort(a); p == port {
			return name, true
		}
	}
	return "", false
}

// startPrometheus runs a real Prometheus scraping target every second.
func startPrometheus(t *testing.T, target string) *harness.Prometheus {
	t.Helper()
	return harness.StartPrometheus(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: leakwatch
    static_configs:
      - targets: [%q]
`, target))
}

// query evaluates expr at time at (the server's now when zero) through
// Prometheus's HTTP API and returns the instant vector it gives.
func query(ctx context.Context, baseURL, expr string, at time.Time) ([]harness.Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := harness.InstantQuery(ctx, http.DefaultClient, baseURL, expr, at)
	if err != nil {
		return nil, err
	}
	if res.ResultType != "vector" {
		return nil, fmt.Errorf("query %q gave a %s, want a vector", expr, res.ResultType)
	}
	return res.Samples, nil
}

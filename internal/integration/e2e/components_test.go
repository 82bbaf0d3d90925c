package e2e

// The real programs the end-to-end test runs: rsyslogd, sshd (standing in
// for the MMPs) and Prometheus, each on 127.0.0.1 with its own files in a
// temporary directory, each stopped when the test ends.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/opskit"
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
func startPrometheus(t *testing.T, target string) *opskit.Prometheus {
	t.Helper()
	bin := harness.Need(t, "prometheus")
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: leakwatch
    static_configs:
      - targets: [%q]
`, target)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	p, err := opskit.StartPrometheus(ctx, opskit.PrometheusOptions{Binary: bin, Dir: t.TempDir(), Config: cfg, ReadyTimeout: 40 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stopping prometheus: %v", err)
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", p.Log())
		}
	})
	return p
}

// sample is one element of an instant vector.
type sample struct {
	Labels map[string]string
	Value  float64
}

// query evaluates expr at time at (the server's now when zero) through
// Prometheus's HTTP API and returns the instant vector it gives.
// opskit.InstantQuery only counts series; this test needs their values.
func query(ctx context.Context, baseURL, expr string, at time.Time) ([]sample, error) {
	form := url.Values{"query": {expr}}
	if !at.IsZero() {
		form.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("building query %q: %w", expr, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("querying %q: %w", expr, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decoding answer to %q (HTTP %d): %w", expr, resp.StatusCode, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: HTTP %d: %s", expr, resp.StatusCode, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q gave a %s, want a vector", expr, body.Data.ResultType)
	}
	out := make([]sample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		s, ok := r.Value[1].(string)
		if !ok {
			return nil, fmt.Errorf("query %q: value %v is not a string", expr, r.Value[1])
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %q: %w", expr, s, err)
		}
		out = append(out, sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}

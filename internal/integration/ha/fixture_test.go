package ha

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/ha/etcdtest"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/mmp/mmptest"
)

const (
	bridge     = "wb1"
	threshold  = 10
	leaking    = 60 // sessions fed for wb1: a proven leak of 59 (CMA peak 1)
	healthy    = 3
	leaseTTL   = 3 * time.Second
	feedPeriod = time.Second
	mmpPass    = "mmp-secret"
)

// pair is one cluster: etcd, a fake MMP for wb1, the followed log both
// instances read, and the instances.
type pair struct {
	t       *testing.T
	dir     string
	etcd    *etcdtest.Server
	mmp     *mmptest.Server
	logFile string
	feeder  *harness.Feeder
	nodes   map[string]*instance
}

// instance is one leakwatch of the pair.
type instance struct {
	p       *pair
	name    string
	cfgPath string
	state   string
	url     string
	lw      *harness.Process
	paused  bool
}

// newPair starts etcd and the fake MMP and writes both configs. The fake
// MMP's restart makes wb1 report healthy sessions from then on, as a real
// restart drops the leaked sessions.
func newPair(t *testing.T) *pair {
	t.Helper()
	p := &pair{t: t, dir: t.TempDir(), nodes: map[string]*instance{}}
	p.etcd = etcdtest.Start(t)
	var err error
	p.mmp, err = mmptest.NewServer(mmptest.ServerConfig{Name: bridge, Password: mmpPass,
		OnRestart: func(string) { p.feeder.Sessions.Store(healthy) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.mmp.Close() })
	p.logFile = filepath.Join(p.dir, "cms.log")
	write(t, p.logFile, "")
	p.feeder = harness.NewFeeder(t, p.logFile)
	write(t, filepath.Join(p.dir, "known_hosts"), p.mmp.KnownHostsLine()+"\n")
	for _, name := range []string{"lw-a", "lw-b"} {
		p.nodes[name] = p.newInstance(name)
	}
	return p
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (p *pair) newInstance(name string) *instance {
	in := &instance{p: p, name: name, state: filepath.Join(p.dir, name)}
	in.cfgPath = filepath.Join(p.dir, name+".yaml")
	cfg := fmt.Sprintf(`timezone: UTC
state_dir: %q
log:
  level: debug
cms_cluster: test
inputs:
  files:
    paths: [%q]
    poll_interval: 200ms
model:
  peak_window: 10s
  stale_after: 30s
  clock_skew: 0s
inventory:
  webbridges:
    - name: %s
      hosts: [cms1]
      mmp:
        address: %q
  callbridges:
    - name: cb1
      hosts: [cms2]
policy:
  mode: enforce
  threshold: %d
  sustain: 0s
  windows: ["daily 00:00-24:00"]
  max_active_sessions: 5
  cooldown: 1h
  max_per_day: 3
  recover_timeout: 10m
ssh:
  password_env: LW_TEST_MMP_PASSWORD
  known_hosts: %q
  dial_timeout: 5s
  command_timeout: 60s
  min_interval: 0s
ha:
  name: %s
  lease_ttl: %s
  etcd:
    endpoints: [%q]
    dial_timeout: 1s
`, in.state, p.logFile, bridge, p.mmp.Addr(), threshold, filepath.Join(p.dir, "known_hosts"), name, leaseTTL, p.etcd.Endpoint)
	write(p.t, in.cfgPath, cfg)
	return in
}

// start runs the instance and waits until it is ready.
func (in *instance) start() {
	in.p.t.Helper()
	in.paused = false
	in.lw, in.url = harness.StartLeakwatch(in.p.t, []string{"LW_TEST_MMP_PASSWORD=" + mmpPass}, in.name, in.cfgPath)
}

func (in *instance) kill() { in.lw.Kill() }

func (in *instance) pause() {
	in.lw.Pause()
	in.paused = true
}

func (in *instance) resume() {
	in.lw.Resume()
	in.paused = false
}

func (in *instance) running() bool {
	if in.lw == nil {
		return false
	}
	select {
	case <-in.lw.Done():
		return false
	default:
		return true
	}
}

// metric returns a series' value on the instance's /metrics.
func (in *instance) metric(series string) (float64, bool) {
	code, body := harness.Get(in.url + "/metrics")
	if code != 200 {
		return 0, false
	}
	return harness.Metric(body, series)
}

// haState returns the "ha.state" line of /api/v1/status.
func (in *instance) haState() string {
	_, body := harness.Get(in.url + "/api/v1/status")
	var doc struct {
		HA struct {
			State string `json:"state"`
		} `json:"ha"`
	}
	json.Unmarshal([]byte(body), &doc)
	return doc.HA.State
}

func (in *instance) page() string {
	_, body := harness.Get(in.url + "/")
	return body
}

const (
	leaderSeries = `leakwatch_ha_leader{cms_cluster="test"}`
	upSeries     = `leakwatch_ha_up{cms_cluster="test"}`
)

func (in *instance) isLeader() bool {
	v, ok := in.metric(leaderSeries)
	return ok && v == 1
}

// leader waits until exactly one running, unpaused instance says it leads
// and returns it.
func (p *pair) leader(timeout time.Duration) *instance {
	p.t.Helper()
	var l *instance
	harness.Eventually(p.t, timeout, "exactly one leader", func() bool {
		l = nil
		n := 0
		for _, in := range p.nodes {
			if in.running() && !in.paused && in.isLeader() {
				l = in
				n++
			}
		}
		return n == 1
	})
	return l
}

func (p *pair) other(in *instance) *instance {
	for _, o := range p.nodes {
		if o != in {
			return o
		}
	}
	return nil
}

// restarts returns the restart commands the fake MMP received.
func (p *pair) restarts() []mmptest.Received {
	var out []mmptest.Received
	for _, r := range p.mmp.Received() {
		if r.Command == "webbridge restart" {
			out = append(out, r)
		}
	}
	return out
}

// holds checks cond every 100 ms for d and fails the first time it is false.
func (p *pair) holds(d time.Duration, what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			p.t.Fatalf("%s no longer holds", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// events returns the instance's wb1 audit entries with event ev.
func (in *instance) events(ev audit.Event) []audit.Entry {
	es, err := audit.ReadTail(filepath.Join(in.state, "audit.jsonl"), 100000)
	if err != nil {
		return nil
	}
	var out []audit.Entry
	for _, e := range es {
		if e.Event == ev && e.Bridge == bridge {
			out = append(out, e)
		}
	}
	return out
}

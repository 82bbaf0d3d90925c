package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/mmp"
)

func TestExampleConfigIsTheDefaults(t *testing.T) {
	c, err := Load("../../config/leakwatch.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	c.File = ""
	if c.Policy.Mode != "observe" || c.Model.StaleAfter != 11*time.Minute || !slices.Equal(c.Web.ListenAddresses, []string{":9723"}) || c.Web.TelemetryPath != "/metrics" || c.Web.SystemdSocket {
		t.Errorf("example config: %+v", c)
	}
	// Every default in the example must equal the one in code.
	if c.Log != d.Log || c.Model != d.Model || fmt.Sprint(c.Web) != fmt.Sprint(d.Web) || fmt.Sprint(c.Inputs) != fmt.Sprint(d.Inputs) || c.SSH != d.SSH || c.Audit != d.Audit ||
		c.StateDir != d.StateDir || c.Timezone != d.Timezone {
		t.Errorf("example config and Default() differ:\n%+v\n%+v", c, d)
	}
}

func TestEveryDefaultIsInTheExample(t *testing.T) {
	data, err := os.ReadFile("../../config/leakwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for k := range defaults {
		leaf := k[strings.LastIndexByte(k, '.')+1:]
		if !strings.Contains(string(data), leaf+":") {
			t.Errorf("key %s is not documented in config/leakwatch.yaml", k)
		}
	}
}

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings of the error
	}{
		{"unknown-key.yml", []string{"unknown-key.yml:3: policy.treshold: unknown key", "threshold"}},
		{"unknown-nested-key.yml", []string{":6: inventory.webbridges[0].mmp.adress: unknown key"}},
		{"bad-mode.yml", []string{":2: policy.mode:", `"act" is not allowed (allowed: observe, enforce)`}},
		{"bad-plan.yml", []string{":2: policy.plan:", `"predict" is not allowed (allowed: threshold, forecast)`, ":3: policy.forecast_margin: must not be negative"}},
		{"bad-duration.yml", []string{`:2: model.stale_after: "11 minutes" is not a duration`}},
		{"bad-future-tolerance.yml", []string{":2: model.future_tolerance", "between 1s and 1h"}},
		{"bad-host.yml", []string{`inventory.webbridges[0].hosts[1]: "cms wb2" is not a syslog hostname`, `inventory.ignore[0]: host "CMS-WB1" is listed in the inventory`}},
		{"bad-window.yml", []string{":4: policy.windows[1]", "Caturday"}},
		{"bad-timezone.yml", []string{":2: policy.timezone", "IANA"}},
		{"duplicate-host.yml", []string{"inventory.webbridges[1].hosts[0]", `"cms1" is already listed under web bridge wb1`}},
		{"enforce-without-inventory.yml", []string{"policy.mode: enforce needs inventory.webbridges"}},
		{"syslog-without-allowlist.yml", []string{"inputs.syslog.allowed_sources: is empty"}},
		{"bad-source.yml", []string{"inputs.syslog.allowed_sources[0]", "10.0.0.0/33"}},
		{"bad-threshold.yml", []string{":2: policy.threshold: must be at least 1, got 0"}},
		{"wrong-type.yml", []string{`:2: model.max_discovered: "lots" is not a whole number`}},
		{"wrong-type-in-list.yml", []string{`:7: inventory.webbridges[1].session_limit: "many" is not a whole number`}},
		{"wrong-type-bool.yml", []string{`:2: policy.emergency_at_limit: "sometimes" is not true or false`}},
		{"list-for-scalar.yml", []string{`:2: log.level: a list is not a single value`}},
		{"scalar-listen-address.yml", []string{`:2: web.listen_address[0]: "1234" is not host:port`}},
		{"forbidden-command.yml", []string{":6: inventory.webbridges[0].mmp.command", `"callbridge restart" is not a command leakwatch may send (allowed, exactly: webbridge restart)`}},
		{"reboot-command.yml", []string{":6: inventory.webbridges[0].mmp.command", `"reboot" is not a command leakwatch may send`}},
		{"not-a-mapping.yml", []string{"must be a mapping"}},
		{"bad-fingerprint.yml", []string{"inventory.webbridges[0].mmp.host_key_fingerprint", "SHA256"}},
		{"bad-syslog-source.yml", []string{
			"inputs.syslog.sources[0].hosts[1]", `"cms 2" is not a syslog hostname`,
			"inputs.syslog.sources[0].hosts[2]", `host "CMS1" is listed twice`,
			":7: inputs.syslog.sources[1].address", "10.0.0.0/33",
			"inputs.syslog.sources[2].address: must not be empty"}},
		{"bad-syslog-limits.yml", []string{
			":6: inputs.syslog.max_connections_per_source: must not exceed inputs.syslog.max_connections (4), got 5",
			":7: inputs.syslog.idle_timeout: must be a positive duration",
			":8: inputs.syslog.message_timeout: must be a positive duration"}},
		{"ha-bad-lease.yml", []string{":2: ha.lease_ttl: must be whole seconds, at least 2s"}},
		{"ha-bad-endpoint.yml", []string{":5: ha.etcd.endpoints[1]", `"etcd2:2379" must be an etcd client URL`}},
		{"ha-http-with-tls.yml", []string{"ha.etcd.endpoints[0]", "plain http but ha.etcd.tls is set"}},
		{"ha-user-without-password.yml", []string{"ha.etcd.password_env", "ha.etcd.username is set"}},
		{"ha-bad-prefix.yml", []string{":2: ha.key_prefix", "must start with /"}},
		{"bad-cms-cluster.yml", []string{":1: cms_cluster", "label value"}},
		{"bad-web.yml", []string{
			`:4: web.listen_address[1]: "9723" is not host:port`,
			`:5: web.telemetry_path: "/-/ready" is taken by leakwatch's own /-/ready endpoint`}},
		{"web-without-listener.yml", []string{"web.listen_address: must not be empty (e.g. :9723) unless web.systemd_socket is true"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", tt.file), nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestHADefaults(t *testing.T) {
	c := Default()
	if c.HA.Enabled() {
		t.Error("HA enabled by default")
	}
	host, _ := os.Hostname()
	if c.HA.Name != host || c.HA.KeyPrefix != "/leakwatch/default" || c.HA.LeaseTTL != 15*time.Second {
		t.Errorf("HA defaults: %+v", c.HA)
	}
	t.Setenv("LEAKWATCH_CMS_CLUSTER", "site b")
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.CMSCluster != "site b" || c.HA.KeyPrefix != "/leakwatch/site%20b" {
		t.Errorf("cms_cluster %q gives prefix %q", c.CMSCluster, c.HA.KeyPrefix)
	}
}

func TestGoodInventory(t *testing.T) {
	c, err := Load("testdata/good-inventory.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	wb := c.Inventory.WebBridges
	if wb[0].MMP.Address != "cms1.example.com:22" || wb[0].MMP.User != "admin" || wb[0].MMP.Command != "webbridge restart" || wb[0].SessionLimit != 149 {
		t.Errorf("defaults not filled in: %+v", wb[0])
	}
	if wb[1].SessionLimit != 100 || wb[1].MMP.User != "ops" {
		t.Errorf("explicit values lost: %+v", wb[1])
	}
	if c.SSH.KnownHosts != "/var/lib/leakwatch/known_hosts" {
		t.Errorf("known_hosts = %q", c.SSH.KnownHosts)
	}
	p := c.PolicyConfig()
	if len(p.Windows) != 2 || p.Location.String() != "Europe/Berlin" {
		t.Errorf("policy config: %+v", p)
	}
	o := c.ModelOptions()
	if len(o.WebBridges) != 2 || len(o.CallBridges) != 1 || o.WebBridges[1].Limit != 100 {
		t.Errorf("model options: %+v", o)
	}
}

// TestWebFlags checks the Prometheus-style web flags: --web.listen-address
// repeated, --web.systemd-socket and --web.telemetry-path, as the run
// command registers them.
func TestWebFlags(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.StringArray("web.listen-address", []string{":9723"}, "")
	fs.Bool("web.systemd-socket", false, "")
	fs.String("web.telemetry-path", "/metrics", "")
	err := fs.Parse([]string{"--web.listen-address=127.0.0.1:9100", "--web.listen-address", "[::1]:9101",
		"--web.systemd-socket", "--web.telemetry-path=/lw/metrics"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load("", fs)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"127.0.0.1:9100", "[::1]:9101"}; !slices.Equal(c.Web.ListenAddresses, want) {
		t.Errorf("listen addresses %q, want %q", c.Web.ListenAddresses, want)
	}
	if !c.Web.SystemdSocket || c.Web.TelemetryPath != "/lw/metrics" {
		t.Errorf("systemd socket %v, telemetry path %q", c.Web.SystemdSocket, c.Web.TelemetryPath)
	}
}

func TestWebListenAddressAsStringOrList(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string][]string{
		`listen_address: "127.0.0.1:9723"`:                 {"127.0.0.1:9723"},
		`listen_address: ["127.0.0.1:9723", "[::1]:9723"]`: {"127.0.0.1:9723", "[::1]:9723"},
	} {
		file := filepath.Join(dir, "c.yml")
		os.WriteFile(file, []byte("web:\n  "+body+"\n"), 0o600)
		c, err := Load(file, nil)
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if !slices.Equal(c.Web.ListenAddresses, want) {
			t.Errorf("%s: got %q, want %q", body, c.Web.ListenAddresses, want)
		}
	}
}

func TestSyslogSources(t *testing.T) {
	c, err := Load("testdata/good-syslog-sources.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	rc := c.SyslogConfig()
	if len(rc.AllowedSources) != 1 || rc.AllowedSources[0].String() != "10.0.9.0/24" {
		t.Errorf("allowed_sources: %v", rc.AllowedSources)
	}
	want := []string{"10.0.0.5/32 [cms1]", "10.0.1.0/24 [cms2 cms3]", "192.0.2.7/32 []"}
	var got []string
	for _, s := range rc.Sources {
		got = append(got, fmt.Sprintf("%s %v", s.Prefix, s.Hosts))
	}
	if !slices.Equal(got, want) {
		t.Errorf("sources:\ngot  %q\nwant %q", got, want)
	}
	if rc.IdleTimeout != 20*time.Second || rc.MessageTimeout != 10*time.Second || rc.MaxConnectionsPerSource != 8 {
		t.Errorf("timeouts and caps: %+v", rc)
	}
}

func TestSyslogSourcesAloneNeedNoAllowlist(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yml")
	os.WriteFile(file, []byte("inputs:\n  syslog:\n    udp_address: \":5514\"\n    sources: [{address: 10.0.0.5, hosts: [cms1]}]\n"), 0o600)
	if _, err := Load(file, nil); err != nil {
		t.Errorf("sources without allowed_sources: %v", err)
	}
}

func TestEnvironmentAndFlags(t *testing.T) {
	t.Setenv("LEAKWATCH_POLICY_THRESHOLD", "35")
	t.Setenv("LEAKWATCH_MODEL_STALE_AFTER", "20m")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("web.listen-address", ":9723", "")
	if err := fs.Parse([]string{"--web.listen-address=127.0.0.1:9999"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load("", fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.Threshold != 35 || c.Model.StaleAfter != 20*time.Minute || !slices.Equal(c.Web.ListenAddresses, []string{"127.0.0.1:9999"}) {
		t.Errorf("env/flags not applied: threshold %d stale %s listen %s", c.Policy.Threshold, c.Model.StaleAfter, c.Web.ListenAddresses)
	}
	t.Setenv("LEAKWATCH_POLICY_MODE", "yolo")
	if _, err := Load("", nil); err == nil || !strings.Contains(err.Error(), `policy.mode: "yolo" is not allowed`) {
		t.Errorf("bad env value: %v", err)
	}
}

// FuzzLoad feeds arbitrary files to the loader: it must answer with a
// config or an error, never panic, and an error for a file must name it.
func FuzzLoad(f *testing.F) {
	entries, _ := os.ReadDir("testdata")
	for _, e := range entries {
		if data, err := os.ReadFile(filepath.Join("testdata", e.Name())); err == nil {
			f.Add(string(data))
		}
	}
	if data, err := os.ReadFile("../../config/leakwatch.yaml"); err == nil {
		f.Add(string(data))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(dir, "fuzz.yml")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, nil)
		if err == nil {
			if c.Model.StaleAfter <= 0 || c.Policy.Threshold < 1 || c.Model.SessionLimit < 1 {
				t.Fatalf("loaded an invalid config: %+v", c)
			}
			return
		}
		if !strings.Contains(err.Error(), path) && !strings.Contains(err.Error(), "fuzz.yml") {
			// Errors from the environment (there is none here) could lack
			// the file; a file's own problem must name it.
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// TestUnsetFlagDoesNotOverrideFile: a flag's default must not beat the
// file; only a flag given on the command line does.
func TestUnsetFlagDoesNotOverrideFile(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("mode", "observe", "")
	fs.String("web.listen-address", ":9723", "")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	c, err := Load("testdata/good-inventory.yml", fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.Mode != "enforce" {
		t.Errorf("mode = %q: the unset --mode flag's default overrode the file's enforce", c.Policy.Mode)
	}
}

// TestEnvironmentTypes: every LEAKWATCH_* variable is text; the decoder
// converts it to its key's type, lists split at commas, and a bad one is
// refused naming the key.
func TestEnvironmentTypes(t *testing.T) {
	t.Setenv("LEAKWATCH_POLICY_EMERGENCY_AT_LIMIT", "true")
	t.Setenv("LEAKWATCH_POLICY_WINDOWS", "Sat 02:00-04:00, Sun 02:00-04:00")
	t.Setenv("LEAKWATCH_MODEL_CLOCK_SKEW", "0s")
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Policy.EmergencyAtLimit || len(c.Policy.Windows) != 2 || c.Policy.Windows[1] != "Sun 02:00-04:00" || c.Model.ClockSkew != 0 {
		t.Errorf("environment not decoded: emergency %v windows %q skew %s", c.Policy.EmergencyAtLimit, c.Policy.Windows, c.Model.ClockSkew)
	}
	t.Setenv("LEAKWATCH_POLICY_MAX_PER_DAY", "two")
	_, err = Load("", nil)
	if err == nil || err.Error() != `policy.max_per_day: "two" is not a whole number` {
		t.Errorf("bad variable: %v", err)
	}
}

// TestDecodeErrorsAreOurs: the loader's messages are its own. mapstructure's
// wording ("expected type", "cannot parse") must never reach an operator.
func TestDecodeErrorsAreOurs(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		_, err := Load(filepath.Join("testdata", e.Name()), nil)
		if err == nil {
			continue
		}
		for _, foreign := range []string{"expected type", "cannot parse", "mapstructure", "decoding failed"} {
			if strings.Contains(err.Error(), foreign) {
				t.Errorf("%s: %q carries another library's wording %q", e.Name(), err, foreign)
			}
		}
	}
}

// TestRestartCommandAllowlist: only the exact commands in mmp.RestartCommands
// pass; the old denylist let reboot and chained commands through.
func TestRestartCommandAllowlist(t *testing.T) {
	for _, cmd := range []string{
		"reboot", "shutdown", "webbridge restart; reboot", "webbridge restart && reboot",
		"webbridge restart\nreboot", "webbridge3 restart", "callbridge restart", "webbridge  restart",
		" webbridge restart", "webbridge restart ", "Webbridge Restart", "webbridge", "webbridge disable",
	} {
		path := filepath.Join(t.TempDir(), "c.yml")
		yaml := "inventory:\n  webbridges:\n    - name: wb1\n      mmp:\n        address: cms1:22\n        command: " + strconv.Quote(cmd) + "\n"
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, nil)
		if err == nil || !strings.Contains(err.Error(), "inventory.webbridges[0].mmp.command") {
			t.Errorf("command %q: Load = %v, want an error naming the key", cmd, err)
		}
	}
	for _, cmd := range append([]string{""}, mmp.RestartCommands...) {
		path := filepath.Join(t.TempDir(), "c.yml")
		yaml := "inventory:\n  webbridges:\n    - name: wb1\n      mmp:\n        address: cms1:22\n        command: " + strconv.Quote(cmd) + "\n"
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, nil)
		if err != nil {
			t.Errorf("command %q refused: %v", cmd, err)
			continue
		}
		if got := c.Inventory.WebBridges[0].MMP.Command; got != "webbridge restart" {
			t.Errorf("command %q loaded as %q", cmd, got)
		}
	}
}

// TestSecretInEnvNameKeyIsNotEchoed: a password written where the name of
// its variable belongs is refused naming the key, and never printed.
func TestSecretInEnvNameKeyIsNotEchoed(t *testing.T) {
	const secret = "s3cret-Mmp pa55word!"
	for _, key := range []string{"password_env", "key_passphrase_env"} {
		path := filepath.Join(t.TempDir(), "c.yml")
		if err := os.WriteFile(path, []byte("ssh:\n  "+key+": "+strconv.Quote(secret)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, nil)
		if err == nil || !strings.Contains(err.Error(), "ssh."+key+": must be the name of an environment variable") {
			t.Errorf("%s: Load = %v, want an error naming the key", key, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error repeats the secret: %v", key, err)
		}
	}
	for _, ok := range []string{"MMP_PASSWORD", "_x", "mmp_pw2"} {
		path := filepath.Join(t.TempDir(), "c.yml")
		if err := os.WriteFile(path, []byte("ssh:\n  password_env: "+ok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path, nil); err != nil {
			t.Errorf("password_env %s refused: %v", ok, err)
		}
	}
}

func TestEtcdPasswordEnvNotEchoed(t *testing.T) {
	const secret = "Etcd5ecretPw"
	cfg := Default()
	cfg.HA.Etcd.PasswordEnv = secret
	_, err := cfg.EtcdPassword()
	if err == nil || !strings.Contains(err.Error(), "ha.etcd.password_env") || strings.Contains(err.Error(), secret) {
		t.Errorf("EtcdPassword = %v, want an error naming the key and not the value", err)
	}
}

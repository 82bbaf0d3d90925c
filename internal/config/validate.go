package config

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/mmp"
	"github.com/leakwatch/leakwatch/internal/policy"
)

type checker struct{ errs Errors }

func (c *checker) fail(key, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// envName checks that a key naming an environment variable holds a
// plausible name. Its value is never repeated in the error: the likeliest
// mistake is the secret itself written where its variable's name belongs.
func (c *checker) envName(key, name string) {
	if name == "" {
		return
	}
	for i, r := range name {
		if r != '_' && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (i == 0 || r < '0' || r > '9') {
			c.fail(key, "must be the name of an environment variable (letters, digits and _, not starting with a digit) that holds the secret, not the secret itself; its value is not shown")
			return
		}
	}
}

func (c *checker) oneOf(key, got string, allowed ...string) {
	for _, a := range allowed {
		if got == a {
			return
		}
	}
	c.fail(key, "%q is not allowed (allowed: %s)", got, strings.Join(allowed, ", "))
}

func (c *checker) positive(key string, d time.Duration) {
	if d <= 0 {
		c.fail(key, "must be a positive duration such as 30s or 5m, got %s", d)
	}
}

func (c *checker) atLeast(key string, got, min int64) {
	if got < min {
		c.fail(key, "must be at least %d, got %d", min, got)
	}
}

func (c *checker) hostPort(key, addr string) {
	if addr == "" {
		return
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		c.fail(key, "%q is not host:port (e.g. 127.0.0.1:5514 or :5514)", addr)
	}
}

func (c *checker) zone(key, name string) {
	if _, err := time.LoadLocation(name); err != nil {
		c.fail(key, "%q is not an IANA time zone (e.g. Europe/Berlin, UTC, Local)", name)
	}
}

// validate checks every key and returns every problem at once.
func (cfg *Config) validate() Errors {
	var c checker
	c.oneOf("log.level", cfg.Log.Level, "debug", "info", "warn", "error")
	c.oneOf("log.format", cfg.Log.Format, "text", "json")
	c.zone("timezone", cfg.Timezone)
	if cfg.StateDir == "" {
		c.fail("state_dir", "must not be empty")
	}
	cfg.validateWeb(&c)

	f := cfg.Inputs.Files
	for i, p := range f.Paths {
		if _, err := filepath.Match(p, ""); err != nil {
			c.fail(fmt.Sprintf("inputs.files.paths[%d]", i), "%q is not a valid glob: %v", p, err)
		}
	}
	c.oneOf("inputs.files.start_at", f.StartAt, "beginning", "end")
	c.positive("inputs.files.poll_interval", f.PollInterval)
	c.atLeast("inputs.files.max_line_bytes", int64(f.MaxLineBytes), 1024)
	s := cfg.Inputs.Syslog
	c.hostPort("inputs.syslog.udp_address", s.UDPAddress)
	c.hostPort("inputs.syslog.tcp_address", s.TCPAddress)
	for i, src := range s.AllowedSources {
		if _, err := ParseSource(src); err != nil {
			c.fail(fmt.Sprintf("inputs.syslog.allowed_sources[%d]", i), "%v", err)
		}
	}
	validateSyslogSources(&c, s.Sources)
	if (s.UDPAddress != "" || s.TCPAddress != "") && len(s.AllowedSources) == 0 && len(s.Sources) == 0 {
		c.fail("inputs.syslog.allowed_sources", "is empty (and so is inputs.syslog.sources), so every message would be rejected: list the CMS servers' addresses or networks (e.g. 10.0.0.0/24)")
	}
	c.atLeast("inputs.syslog.max_message_size", int64(s.MaxMessageSize), 480)
	c.atLeast("inputs.syslog.max_connections", int64(s.MaxConnections), 1)
	c.atLeast("inputs.syslog.max_connections_per_source", int64(s.MaxConnectionsPerSource), 1)
	if s.MaxConnectionsPerSource > s.MaxConnections && s.MaxConnections >= 1 {
		c.fail("inputs.syslog.max_connections_per_source", "must not exceed inputs.syslog.max_connections (%d), got %d", s.MaxConnections, s.MaxConnectionsPerSource)
	}
	c.positive("inputs.syslog.idle_timeout", s.IdleTimeout)
	c.positive("inputs.syslog.message_timeout", s.MessageTimeout)

	m := cfg.Model
	c.positive("model.stale_after", m.StaleAfter)
	c.positive("model.peak_window", m.PeakWindow)
	if m.ClockSkew < 0 || m.ClockSkew >= m.PeakWindow/2 {
		c.fail("model.clock_skew", "must be between 0s and half of model.peak_window, got %s", m.ClockSkew)
	}
	if m.StaleAfter > 0 && m.StaleAfter < m.PeakWindow {
		c.fail("model.stale_after", "must be at least model.peak_window (%s): call bridges report once a period", m.PeakWindow)
	}
	c.atLeast("model.max_discovered", int64(m.MaxDiscovered), 1)
	c.atLeast("model.session_limit", m.SessionLimit, 1)
	if m.ForgetAfter < m.StaleAfter {
		c.fail("model.forget_after", "must be at least model.stale_after (%s), got %s", m.StaleAfter, m.ForgetAfter)
	}
	if m.FutureTolerance < time.Second || m.FutureTolerance > time.Hour {
		c.fail("model.future_tolerance", "must be between 1s and 1h (how far a sender's clock may run ahead), got %s", m.FutureTolerance)
	}

	cfg.validateInventory(&c)

	p := cfg.Policy
	c.oneOf("policy.mode", p.Mode, "observe", "enforce")
	c.oneOf("policy.plan", p.Plan, "threshold", "forecast")
	if p.ForecastMargin < 0 {
		c.fail("policy.forecast_margin", "must not be negative, got %s", p.ForecastMargin)
	}
	c.atLeast("policy.threshold", p.Threshold, 1)
	if p.Sustain < 0 {
		c.fail("policy.sustain", "must not be negative, got %s", p.Sustain)
	}
	for i, w := range p.Windows {
		if _, err := policy.ParseWindow(w); err != nil {
			c.fail(fmt.Sprintf("policy.windows[%d]", i), "%v", err)
		}
	}
	c.zone("policy.timezone", p.Timezone)
	c.atLeast("policy.max_active_sessions", p.MaxActiveSessions, 0)
	c.positive("policy.cooldown", p.Cooldown)
	c.atLeast("policy.max_per_day", int64(p.MaxPerDay), 1)
	c.positive("policy.recover_timeout", p.RecoverTimeout)
	c.atLeast("policy.flap_max", int64(p.FlapMax), 1)
	c.positive("policy.flap_period", p.FlapPeriod)
	if p.Mode == "enforce" && len(cfg.Inventory.WebBridges) == 0 {
		c.fail("policy.mode", "enforce needs inventory.webbridges with their mmp addresses: leakwatch never restarts a discovered host")
	}

	if len(c.errs) == 0 {
		// The policy's own rules, so that check and run agree.
		if err := cfg.PolicyConfig().Validate(); err != nil {
			c.fail("policy", "%v", err)
		}
	}

	h := cfg.SSH
	if h.PasswordFile != "" && h.PasswordEnv != "" {
		c.fail("ssh.password_file", "set ssh.password_env or ssh.password_file, not both")
	}
	c.envName("ssh.password_env", h.PasswordEnv)
	c.envName("ssh.key_passphrase_env", h.KeyPassphraseEnv)
	c.positive("ssh.dial_timeout", h.DialTimeout)
	c.positive("ssh.command_timeout", h.CommandTimeout)
	if h.MinInterval < 0 {
		c.fail("ssh.min_interval", "must not be negative, got %s", h.MinInterval)
	}
	cfg.validateHA(&c)
	return c.errs
}

// reservedPaths are the handler's own endpoints, which the metrics must not
// shadow.
var reservedPaths = []string{"/", "/-/healthy", "/-/ready", "/api/v1/status"}

func (cfg *Config) validateWeb(c *checker) {
	w := cfg.Web
	for i, a := range w.ListenAddresses {
		key := fmt.Sprintf("web.listen_address[%d]", i)
		if a == "" {
			c.fail(key, "must not be empty (e.g. :9723 or 127.0.0.1:9723)")
			continue
		}
		c.hostPort(key, a)
	}
	if len(w.ListenAddresses) == 0 && !w.SystemdSocket {
		c.fail("web.listen_address", "must not be empty (e.g. :9723) unless web.systemd_socket is true")
	}
	p := w.TelemetryPath
	switch {
	case !strings.HasPrefix(p, "/"):
		c.fail("web.telemetry_path", "%q must start with / (e.g. /metrics)", p)
	case strings.ContainsAny(p, " ?#{}"):
		c.fail("web.telemetry_path", "%q must be a plain path (no spaces, ?, #, { or })", p)
	default:
		for _, r := range reservedPaths {
			if p == r {
				c.fail("web.telemetry_path", "%q is taken by leakwatch's own %s endpoint", p, r)
			}
		}
	}
}

// member checks the name and hosts of the inventory entry at key, a kind
// ("web bridge", "call bridge"): a name not empty and not in names, hosts
// not already in hosts (lower-cased host to the name that lists it). It
// adds the entry to both.
func (c *checker) member(key, kind, name string, hs []string, names map[string]bool, hosts map[string]string) {
	if name == "" {
		c.fail(key+".name", "must not be empty")
	} else if names[name] {
		c.fail(key+".name", "%q is listed twice", name)
	}
	names[name] = true
	for j, h := range hs {
		hkey := fmt.Sprintf("%s.hosts[%d]", key, j)
		c.host(hkey, h)
		h = strings.ToLower(h)
		if prev, dup := hosts[h]; dup {
			c.fail(hkey, "host %q is already listed under %s %s", h, kind, prev)
		}
		hosts[h] = name
	}
}

func (cfg *Config) validateInventory(c *checker) {
	hosts := map[string]string{}
	names := map[string]bool{}
	for i, wb := range cfg.Inventory.WebBridges {
		key := fmt.Sprintf("inventory.webbridges[%d]", i)
		c.member(key, "web bridge", wb.Name, wb.Hosts, names, hosts)
		if wb.SessionLimit < 0 {
			c.fail(key+".session_limit", "must be positive (0 means model.session_limit), got %d", wb.SessionLimit)
		}
		if a := wb.MMP.Address; strings.Contains(a, ":") && !strings.HasPrefix(a, "[") {
			c.hostPort(key+".mmp.address", a)
		}
		if fp := wb.MMP.HostKeyFingerprint; fp != "" && !strings.HasPrefix(fp, "SHA256:") {
			c.fail(key+".mmp.host_key_fingerprint", "%q must be a SHA256 fingerprint as ssh-keygen -lf prints it (SHA256:...)", fp)
		}
		if cmd := wb.MMP.Command; cmd != "" && !slices.Contains(mmp.RestartCommands, cmd) {
			c.fail(key+".mmp.command", "%q is not a command leakwatch may send (allowed, exactly: %s); it only ever restarts Web Bridge 2",
				cmd, strings.Join(mmp.RestartCommands, ", "))
		}
		if cfg.Policy.Mode == "enforce" && wb.MMP.Address == "" {
			c.fail(key+".mmp.address", "is needed in enforce mode (e.g. cms1.example.com:22)")
		}
	}
	names = map[string]bool{}
	hosts = map[string]string{}
	for i, cb := range cfg.Inventory.CallBridges {
		c.member(fmt.Sprintf("inventory.callbridges[%d]", i), "call bridge", cb.Name, cb.Hosts, names, hosts)
	}
	listed := map[string]bool{}
	add := func(name string, hs []string) {
		if len(hs) == 0 {
			hs = []string{name} // a member with no hosts logs under its name
		}
		for _, h := range hs {
			listed[cluster.FoldHost(h)] = true
		}
	}
	for _, wb := range cfg.Inventory.WebBridges {
		add(wb.Name, wb.Hosts)
	}
	for _, cb := range cfg.Inventory.CallBridges {
		add(cb.Name, cb.Hosts)
	}
	for i, h := range cfg.Inventory.Ignore {
		key := fmt.Sprintf("inventory.ignore[%d]", i)
		c.host(key, h)
		if listed[cluster.FoldHost(h)] {
			c.fail(key, "host %q is listed in the inventory: a host is either listed or ignored", h)
		}
	}
}

// host checks a syslog hostname as the parser accepts them: letters,
// digits, '.', '-', '_' and ':'. Hosts match exactly except for ASCII case,
// so a trailing dot makes another host.
func (c *checker) host(key, h string) {
	if h == "" || len(h) > 253 {
		c.fail(key, "must be a hostname of 1 to 253 characters, got %q", h)
		return
	}
	for i := 0; i < len(h); i++ {
		switch b := h[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '.', b == '-', b == '_', b == ':':
		default:
			c.fail(key, "%q is not a syslog hostname (letters, digits, '.', '-', '_', ':' only)", h)
			return
		}
	}
}

// validateSyslogSources checks inputs.syslog.sources: each address parses
// and each host is a plausible hostname, named once per entry.
func validateSyslogSources(c *checker, sources []SyslogSource) {
	for i, src := range sources {
		key := fmt.Sprintf("inputs.syslog.sources[%d]", i)
		if src.Address == "" {
			c.fail(key+".address", "must not be empty (an address such as 10.0.0.5 or a network such as 10.0.0.0/24)")
		} else if _, err := ParseSource(src.Address); err != nil {
			c.fail(key+".address", "%v", err)
		}
		seen := map[string]bool{}
		for j, h := range src.Hosts {
			hkey := fmt.Sprintf("%s.hosts[%d]", key, j)
			switch lh := strings.ToLower(h); {
			case h == "":
				c.fail(hkey, "must not be empty")
			case strings.ContainsAny(h, " \t/:"):
				c.fail(hkey, "%q is not a syslog hostname (no spaces, slashes or colons)", h)
			case seen[lh]:
				c.fail(hkey, "host %q is listed twice", h)
			default:
				seen[lh] = true
			}
		}
	}
}

// ParseSource parses an allowed syslog source: an address or a network.
func ParseSource(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a network (e.g. 10.1.2.3 or 10.1.2.0/24)", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// resolve fills in values derived from others.
func (cfg *Config) resolve() {
	cfg.resolveHA()
	if cfg.SSH.KnownHosts == "" {
		cfg.SSH.KnownHosts = filepath.Join(cfg.StateDir, "known_hosts")
	}
	if cfg.Audit.File == "" {
		cfg.Audit.File = filepath.Join(cfg.StateDir, "audit.jsonl")
	}
	for i := range cfg.Inventory.WebBridges {
		wb := &cfg.Inventory.WebBridges[i]
		if wb.SessionLimit == 0 {
			wb.SessionLimit = cfg.Model.SessionLimit
		}
		if wb.MMP.User == "" {
			wb.MMP.User = cfg.SSH.User
		}
		if wb.MMP.Command == "" {
			wb.MMP.Command = mmp.DefaultCommand
		}
		if wb.MMP.Address != "" {
			if _, _, err := net.SplitHostPort(wb.MMP.Address); err != nil {
				wb.MMP.Address = net.JoinHostPort(wb.MMP.Address, "22")
			}
		}
	}
}

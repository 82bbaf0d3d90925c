package daemon

import (
	"fmt"
	"slices"

	"github.com/leakwatch/leakwatch/internal/config"
)

// hangup reopens the audit log, then reloads the config.
func (d *Daemon) hangup() {
	d.reopenAudit()
	if d.opts.Reload != nil {
		d.reload()
	}
}

// reopenAudit reopens the audit log at its path, so that after a rotation
// (the file renamed away) entries go to the new file. On failure the old
// descriptor stays open and entries keep going to the rotated file.
func (d *Daemon) reopenAudit() {
	if err := d.audit.Reopen(); err != nil {
		d.log.Error("reopening the audit log failed; still writing to the old file", "file", d.audit.Path(), "err", err)
		return
	}
	d.log.Info("audit log reopened", "file", d.audit.Path())
}

// reload reads the configuration again. A bad one is refused and the old
// one stays in force. The restart policy, the restarter (SSH settings and
// credentials) and the log level apply at once; every other key needs a
// restart of leakwatch, which the log says, naming each changed key.
func (d *Daemon) reload() {
	old := d.cfg.Load()
	cfg, err := d.opts.Reload()
	if err != nil {
		d.log.Error("config reload refused; keeping the running config", "err", err)
		return
	}
	restarter, err := d.opts.NewRestarter(cfg)
	if err != nil {
		d.log.Error("config reload refused; keeping the running config", "err", err)
		return
	}
	if err := d.act.SetConfig(cfg.PolicyConfig(), d.now()); err != nil {
		d.log.Error("config reload refused; keeping the running config", "err", err)
		return
	}
	d.restarter.set(restarter)
	if d.opts.LevelVar != nil {
		_ = d.opts.LevelVar.UnmarshalText([]byte(cfg.Log.Level))
	}
	for _, k := range needsRestart(old, cfg) {
		d.log.Warn("config key changed but needs a restart of leakwatch to take effect", "key", k)
	}
	d.cfg.Store(cfg)
	d.loadedAt.Store(d.now().UnixNano())
	d.log.Info("config reloaded", "file", cfg.File, "mode", cfg.Policy.Mode)
}

// needsRestart names the keys that differ between the running config a and
// the reloaded b and that take effect only when leakwatch restarts:
// everything but the restart policy, the SSH settings, the MMPs and the log
// level, which a reload applies at once. It compares field by field, so
// that a key added to the config is a compile-time question here, not a
// difference a printed form happens to show.
func needsRestart(a, b *config.Config) []string {
	var keys []string
	differ := func(key string, same bool) {
		if !same {
			keys = append(keys, key)
		}
	}
	differ("log.format", a.Log.Format == b.Log.Format)
	differ("timezone", a.Timezone == b.Timezone)
	differ("state_dir", a.StateDir == b.StateDir)
	differ("cms_cluster", a.CMSCluster == b.CMSCluster)

	wa, wb := a.Web, b.Web
	differ("web.listen_address", slices.Equal(wa.ListenAddresses, wb.ListenAddresses))
	differ("web.systemd_socket", wa.SystemdSocket == wb.SystemdSocket)
	differ("web.telemetry_path", wa.TelemetryPath == wb.TelemetryPath)
	differ("web.config_file", wa.ConfigFile == wb.ConfigFile)

	fa, fb := a.Inputs.Files, b.Inputs.Files
	differ("inputs.files.paths", slices.Equal(fa.Paths, fb.Paths))
	differ("inputs.files.start_at", fa.StartAt == fb.StartAt)
	differ("inputs.files.poll_interval", fa.PollInterval == fb.PollInterval)
	differ("inputs.files.poll_only", fa.PollOnly == fb.PollOnly)
	differ("inputs.files.max_line_bytes", fa.MaxLineBytes == fb.MaxLineBytes)

	sa, sb := a.Inputs.Syslog, b.Inputs.Syslog
	differ("inputs.syslog.udp_address", sa.UDPAddress == sb.UDPAddress)
	differ("inputs.syslog.tcp_address", sa.TCPAddress == sb.TCPAddress)
	differ("inputs.syslog.allowed_sources", slices.Equal(sa.AllowedSources, sb.AllowedSources))
	differ("inputs.syslog.sources", slices.EqualFunc(sa.Sources, sb.Sources, func(x, y config.SyslogSource) bool {
		return x.Address == y.Address && slices.Equal(x.Hosts, y.Hosts)
	}))
	differ("inputs.syslog.max_message_size", sa.MaxMessageSize == sb.MaxMessageSize)
	differ("inputs.syslog.max_connections", sa.MaxConnections == sb.MaxConnections)
	differ("inputs.syslog.max_connections_per_source", sa.MaxConnectionsPerSource == sb.MaxConnectionsPerSource)
	differ("inputs.syslog.idle_timeout", sa.IdleTimeout == sb.IdleTimeout)
	differ("inputs.syslog.message_timeout", sa.MessageTimeout == sb.MessageTimeout)

	ma, mb := a.Model, b.Model
	differ("model.stale_after", ma.StaleAfter == mb.StaleAfter)
	differ("model.peak_window", ma.PeakWindow == mb.PeakWindow)
	differ("model.clock_skew", ma.ClockSkew == mb.ClockSkew)
	differ("model.max_discovered", ma.MaxDiscovered == mb.MaxDiscovered)
	differ("model.session_limit", ma.SessionLimit == mb.SessionLimit)
	differ("model.forget_after", ma.ForgetAfter == mb.ForgetAfter)
	differ("model.future_tolerance", ma.FutureTolerance == mb.FutureTolerance)

	// The model knows the members; each Web Bridge's MMP is the
	// restarter's, which a reload replaces.
	ia, ib := a.Inventory, b.Inventory
	if len(ia.WebBridges) != len(ib.WebBridges) {
		differ("inventory.webbridges", false)
	} else {
		for i, x := range ia.WebBridges {
			y := ib.WebBridges[i]
			key := fmt.Sprintf("inventory.webbridges[%d]", i)
			differ(key+".name", x.Name == y.Name)
			differ(key+".hosts", slices.Equal(x.Hosts, y.Hosts))
			differ(key+".session_limit", x.SessionLimit == y.SessionLimit)
		}
	}
	differ("inventory.callbridges", slices.EqualFunc(ia.CallBridges, ib.CallBridges, func(x, y config.CallBridge) bool {
		return x.Name == y.Name && slices.Equal(x.Hosts, y.Hosts)
	}))
	differ("inventory.ignore", slices.Equal(ia.Ignore, ib.Ignore))

	differ("audit.file", a.Audit.File == b.Audit.File)

	ha, hb := a.HA, b.HA
	differ("ha.name", ha.Name == hb.Name)
	differ("ha.key_prefix", ha.KeyPrefix == hb.KeyPrefix)
	differ("ha.lease_ttl", ha.LeaseTTL == hb.LeaseTTL)
	ea, eb := ha.Etcd, hb.Etcd
	differ("ha.etcd.endpoints", slices.Equal(ea.Endpoints, eb.Endpoints))
	differ("ha.etcd.dial_timeout", ea.DialTimeout == eb.DialTimeout)
	differ("ha.etcd.username", ea.Username == eb.Username)
	differ("ha.etcd.password_env", ea.PasswordEnv == eb.PasswordEnv)
	differ("ha.etcd.password_file", ea.PasswordFile == eb.PasswordFile)
	differ("ha.etcd.tls.ca_file", ea.TLS.CAFile == eb.TLS.CAFile)
	differ("ha.etcd.tls.cert_file", ea.TLS.CertFile == eb.TLS.CertFile)
	differ("ha.etcd.tls.key_file", ea.TLS.KeyFile == eb.TLS.KeyFile)
	differ("ha.etcd.tls.server_name", ea.TLS.ServerName == eb.TLS.ServerName)
	differ("ha.etcd.tls.insecure_skip_verify", ea.TLS.InsecureSkipVerify == eb.TLS.InsecureSkipVerify)
	return keys
}

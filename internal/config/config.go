// Package config loads and validates leakwatch's configuration: a YAML file,
// LEAKWATCH_* environment variables and command-line flags, layered by viper
// (flags win over the environment, which wins over the file, which wins over
// the defaults set in Default).
package config

import (
	"time"
)

// Config is leakwatch's whole configuration. Every key is documented, with
// its default, in config/leakwatch.yaml.
type Config struct {
	Log       Log       `mapstructure:"log"`
	Timezone  string    `mapstructure:"timezone"`
	StateDir  string    `mapstructure:"state_dir"`
	Web       Web       `mapstructure:"web"`
	Inputs    Inputs    `mapstructure:"inputs"`
	Model     Model     `mapstructure:"model"`
	Inventory Inventory `mapstructure:"inventory"`
	Policy    Policy    `mapstructure:"policy"`
	SSH       SSH       `mapstructure:"ssh"`
	Audit     Audit     `mapstructure:"audit"`
	// CMSCluster names the CMS cluster watched; it becomes the cms_cluster
	// label of every exported series when set.
	CMSCluster string `mapstructure:"cms_cluster"`
	HA         HA     `mapstructure:"ha"`

	// File is the file the config was read from ("" for defaults only).
	File string `mapstructure:"-"`
}

// Log configures leakwatch's own log.
type Log struct {
	Level  string `mapstructure:"level"`  // debug, info, warn, error
	Format string `mapstructure:"format"` // text, json
}

// Web configures the HTTP server.
type Web struct {
	// ListenAddresses are the host:port addresses to serve on, all alike
	// (one string in the file is a list of one).
	ListenAddresses []string `mapstructure:"listen_address"`
	// SystemdSocket serves on the sockets systemd passes (socket
	// activation) instead of ListenAddresses.
	SystemdSocket bool `mapstructure:"systemd_socket"`
	// TelemetryPath is where the metrics are served.
	TelemetryPath string `mapstructure:"telemetry_path"`
	// ConfigFile is an exporter-toolkit web config (TLS, basic auth).
	ConfigFile string `mapstructure:"config_file"`
}

// Inputs configures where syslog comes from.
type Inputs struct {
	Files  Files  `mapstructure:"files"`
	Syslog Syslog `mapstructure:"syslog"`
}

// Files configures the file follower.
type Files struct {
	Paths        []string      `mapstructure:"paths"`
	StartAt      string        `mapstructure:"start_at"`
	PollInterval time.Duration `mapstructure:"poll_interval"`
	PollOnly     bool          `mapstructure:"poll_only"`
	MaxLineBytes int           `mapstructure:"max_line_bytes"`
}

// Syslog configures the network syslog receiver.
type Syslog struct {
	UDPAddress string `mapstructure:"udp_address"`
	TCPAddress string `mapstructure:"tcp_address"`
	// AllowedSources are addresses or networks that may send, for any
	// hostname not bound in Sources.
	AllowedSources []string `mapstructure:"allowed_sources"`
	// Sources are more allowed addresses or networks, each optionally
	// bound to the hostnames it may report for.
	Sources                 []SyslogSource `mapstructure:"sources"`
	MaxMessageSize          int            `mapstructure:"max_message_size"`
	MaxConnections          int            `mapstructure:"max_connections"`
	MaxConnectionsPerSource int            `mapstructure:"max_connections_per_source"`
	IdleTimeout             time.Duration  `mapstructure:"idle_timeout"`
	MessageTimeout          time.Duration  `mapstructure:"message_timeout"`
}

// SyslogSource is an allowed sender and the hostnames it may report for.
type SyslogSource struct {
	Address string   `mapstructure:"address"`
	Hosts   []string `mapstructure:"hosts"`
}

// Model configures the cluster model and estimator.
type Model struct {
	StaleAfter    time.Duration `mapstructure:"stale_after"`
	PeakWindow    time.Duration `mapstructure:"peak_window"`
	ClockSkew     time.Duration `mapstructure:"clock_skew"`
	MaxDiscovered int           `mapstructure:"max_discovered"`
	SessionLimit  int64         `mapstructure:"session_limit"`
	// ForgetAfter is how long a discovered Web Bridge may be silent before it
	// leaves the sums.
	ForgetAfter time.Duration `mapstructure:"forget_after"`
	// FutureTolerance is how far a sample's own time may be ahead of its arrival.
	FutureTolerance time.Duration `mapstructure:"future_tolerance"`
}

// Inventory names the cluster's components.
type Inventory struct {
	WebBridges  []WebBridge  `mapstructure:"webbridges"`
	CallBridges []CallBridge `mapstructure:"callbridges"`
	// Ignore lists hosts whose stats lines are counted and dropped.
	Ignore []string `mapstructure:"ignore"`
}

// WebBridge is one Web Bridge in the inventory.
type WebBridge struct {
	Name         string   `mapstructure:"name"`
	Hosts        []string `mapstructure:"hosts"`
	SessionLimit int64    `mapstructure:"session_limit"`
	MMP          MMP      `mapstructure:"mmp"`
}

// MMP is how to reach a Web Bridge's server console over SSH.
type MMP struct {
	Address            string `mapstructure:"address"`
	User               string `mapstructure:"user"`
	Command            string `mapstructure:"command"`
	HostKeyFingerprint string `mapstructure:"host_key_fingerprint"`
}

// CallBridge is one Call Bridge in the inventory.
type CallBridge struct {
	Name  string   `mapstructure:"name"`
	Hosts []string `mapstructure:"hosts"`
}

// Policy configures automatic restarts.
type Policy struct {
	Mode              string        `mapstructure:"mode"`
	Plan              string        `mapstructure:"plan"`
	ForecastMargin    time.Duration `mapstructure:"forecast_margin"`
	Threshold         int64         `mapstructure:"threshold"`
	Sustain           time.Duration `mapstructure:"sustain"`
	Windows           []string      `mapstructure:"windows"`
	Timezone          string        `mapstructure:"timezone"`
	MaxActiveSessions int64         `mapstructure:"max_active_sessions"`
	Cooldown          time.Duration `mapstructure:"cooldown"`
	MaxPerDay         int           `mapstructure:"max_per_day"`
	RecoverTimeout    time.Duration `mapstructure:"recover_timeout"`
	EmergencyAtLimit  bool          `mapstructure:"emergency_at_limit"`
	FlapMax           int           `mapstructure:"flap_max"`
	FlapPeriod        time.Duration `mapstructure:"flap_period"`
}

// SSH configures the connection to the MMPs. Secrets are never in the file:
// only the name of the variable or file that holds them.
type SSH struct {
	User             string        `mapstructure:"user"`
	PasswordEnv      string        `mapstructure:"password_env"`
	PasswordFile     string        `mapstructure:"password_file"`
	KeyFile          string        `mapstructure:"key_file"`
	KeyPassphraseEnv string        `mapstructure:"key_passphrase_env"`
	UseAgent         bool          `mapstructure:"use_agent"`
	KnownHosts       string        `mapstructure:"known_hosts"`
	DialTimeout      time.Duration `mapstructure:"dial_timeout"`
	CommandTimeout   time.Duration `mapstructure:"command_timeout"`
	MinInterval      time.Duration `mapstructure:"min_interval"`
}

// Audit configures the audit log.
type Audit struct {
	File string `mapstructure:"file"`
}

// defaults lists every scalar key with its default. It is the one place
// defaults are set; viper also needs it to map LEAKWATCH_* variables.
var defaults = map[string]any{
	"log.level":                                "info",
	"log.format":                               "text",
	"timezone":                                 "Local",
	"state_dir":                                defaultStateDir,
	"web.listen_address":                       []string{":9723"},
	"web.systemd_socket":                       false,
	"web.telemetry_path":                       "/metrics",
	"web.config_file":                          "",
	"inputs.files.paths":                       []string{},
	"inputs.files.start_at":                    "beginning",
	"inputs.files.poll_interval":               "1s",
	"inputs.files.poll_only":                   false,
	"inputs.files.max_line_bytes":              65536,
	"inputs.syslog.udp_address":                "",
	"inputs.syslog.tcp_address":                "",
	"inputs.syslog.allowed_sources":            []string{},
	"inputs.syslog.max_message_size":           8192,
	"inputs.syslog.max_connections":            64,
	"inputs.syslog.sources":                    []any{},
	"inputs.syslog.max_connections_per_source": 8,
	"inputs.syslog.idle_timeout":               "30s",
	"inputs.syslog.message_timeout":            "10s",
	"model.stale_after":                        "11m",
	"model.peak_window":                        "5m",
	"model.clock_skew":                         "5s",
	"model.max_discovered":                     64,
	"model.session_limit":                      149,
	"model.future_tolerance":                   "2m",
	"model.forget_after":                       "24h",
	"inventory.webbridges":                     []any{},
	"inventory.callbridges":                    []any{},
	"inventory.ignore":                         []string{},
	"policy.mode":                              "observe",
	"policy.plan":                              "threshold",
	"policy.forecast_margin":                   "24h",
	"policy.threshold":                         20,
	"policy.sustain":                           "1h",
	"policy.windows":                           []string{},
	"policy.timezone":                          "UTC",
	"policy.max_active_sessions":               5,
	"policy.cooldown":                          "24h",
	"policy.max_per_day":                       1,
	"policy.recover_timeout":                   "15m",
	"policy.emergency_at_limit":                false,
	"policy.flap_max":                          3,
	"policy.flap_period":                       "168h",
	"ssh.user":                                 "admin",
	"ssh.password_env":                         "",
	"ssh.password_file":                        "",
	"ssh.key_file":                             "",
	"ssh.key_passphrase_env":                   "",
	"ssh.use_agent":                            false,
	"ssh.known_hosts":                          "",
	"ssh.dial_timeout":                         "10s",
	"ssh.command_timeout":                      "60s",
	"ssh.min_interval":                         "2s",
	"audit.file":                               "",
	"cms_cluster":                              "",
	"ha.name":                                  "",
	"ha.key_prefix":                            "",
	"ha.lease_ttl":                             "15s",
	"ha.etcd.endpoints":                        []string{},
	"ha.etcd.dial_timeout":                     "5s",
	"ha.etcd.username":                         "",
	"ha.etcd.password_env":                     "",
	"ha.etcd.password_file":                    "",
	"ha.etcd.tls.ca_file":                      "",
	"ha.etcd.tls.cert_file":                    "",
	"ha.etcd.tls.key_file":                     "",
	"ha.etcd.tls.server_name":                  "",
	"ha.etcd.tls.insecure_skip_verify":         false,
}

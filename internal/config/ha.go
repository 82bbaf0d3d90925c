package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// HA configures the warm standby through etcd. Without ha.etcd.endpoints
// leakwatch runs alone with its ledger in state_dir, as always.
type HA struct {
	Name      string        `mapstructure:"name"`
	KeyPrefix string        `mapstructure:"key_prefix"`
	LeaseTTL  time.Duration `mapstructure:"lease_ttl"`
	Etcd      Etcd          `mapstructure:"etcd"`
}

// Etcd is how to reach the etcd cluster. Secrets are never in the file:
// only the name of the variable or file that holds the password.
type Etcd struct {
	Endpoints    []string      `mapstructure:"endpoints"`
	DialTimeout  time.Duration `mapstructure:"dial_timeout"`
	Username     string        `mapstructure:"username"`
	PasswordEnv  string        `mapstructure:"password_env"`
	PasswordFile string        `mapstructure:"password_file"`
	TLS          EtcdTLS       `mapstructure:"tls"`
}

// EtcdTLS are the client TLS files for https endpoints.
type EtcdTLS struct {
	CAFile             string `mapstructure:"ca_file"`
	CertFile           string `mapstructure:"cert_file"`
	KeyFile            string `mapstructure:"key_file"`
	ServerName         string `mapstructure:"server_name"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"`
}

// Enabled reports whether HA is configured.
func (h HA) Enabled() bool { return len(h.Etcd.Endpoints) > 0 }

// minLeaseTTL is etcd's own floor for a lease with its default election
// timeout (1.5 x 1s, rounded up); a shorter TTL is silently raised by the
// server, so it is refused here instead.
const minLeaseTTL = 2 * time.Second

func (cfg *Config) validateHA(c *checker) {
	if cfg.CMSCluster != "" && !labelValueOK(cfg.CMSCluster) {
		c.fail("cms_cluster", "%q must be printable text without quotes or backslashes (it becomes a label value)", cfg.CMSCluster)
	}
	h := cfg.HA
	if h.LeaseTTL < minLeaseTTL || h.LeaseTTL%time.Second != 0 {
		c.fail("ha.lease_ttl", "must be whole seconds, at least %s (etcd leases count in seconds), got %s", minLeaseTTL, h.LeaseTTL)
	}
	c.positive("ha.etcd.dial_timeout", h.Etcd.DialTimeout)
	if p := h.KeyPrefix; p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//")) {
		c.fail("ha.key_prefix", "%q must start with / and not end with / (e.g. /leakwatch/cluster-a)", p)
	}
	if strings.ContainsAny(h.Name, " \t\n/") {
		c.fail("ha.name", "%q must not contain spaces or slashes", h.Name)
	}
	tlsSet := h.Etcd.TLS != (EtcdTLS{})
	for i, e := range h.Etcd.Endpoints {
		key := fmt.Sprintf("ha.etcd.endpoints[%d]", i)
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			c.fail(key, "%q must be an etcd client URL such as https://etcd1.example.com:2379", e)
			continue
		}
		if u.Scheme == "http" && tlsSet {
			c.fail(key, "%q is plain http but ha.etcd.tls is set: use https", e)
		}
	}
	t := h.Etcd.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		c.fail("ha.etcd.tls.cert_file", "ha.etcd.tls.cert_file and ha.etcd.tls.key_file go together")
	}
	if h.Etcd.PasswordEnv != "" && h.Etcd.PasswordFile != "" {
		c.fail("ha.etcd.password_file", "set ha.etcd.password_env or ha.etcd.password_file, not both")
	}
	if (h.Etcd.PasswordEnv != "" || h.Etcd.PasswordFile != "") && h.Etcd.Username == "" {
		c.fail("ha.etcd.username", "must be set when a password is given")
	}
	if h.Etcd.Username != "" && h.Etcd.PasswordEnv == "" && h.Etcd.PasswordFile == "" {
		c.fail("ha.etcd.password_env", "ha.etcd.username is set: name the variable (or ha.etcd.password_file) holding its password")
	}
}

func labelValueOK(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == '"' || r == '\\' || r == 0x7f {
			return false
		}
	}
	return true
}

func (cfg *Config) resolveHA() {
	if cfg.HA.Name == "" {
		if h, err := os.Hostname(); err == nil {
			cfg.HA.Name = h
		} else {
			cfg.HA.Name = "leakwatch"
		}
	}
	if cfg.HA.KeyPrefix == "" {
		name := cfg.CMSCluster
		if name == "" {
			name = "default"
		}
		cfg.HA.KeyPrefix = "/leakwatch/" + url.PathEscape(name)
	}
}

// EtcdPassword reads the etcd password from the variable or file the
// config names ("" when none is configured).
func (cfg *Config) EtcdPassword() (string, error) {
	e := cfg.HA.Etcd
	switch {
	case e.PasswordEnv != "":
		p, ok := os.LookupEnv(e.PasswordEnv)
		if !ok || p == "" {
			// Never the value: it may be the password itself.
			return "", errors.New("ha.etcd.password_env names an environment variable that is not set or empty (the name is not shown, in case it is the password itself)")
		}
		return p, nil
	case e.PasswordFile != "":
		b, err := os.ReadFile(e.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("ha.etcd.password_file: %w", err)
		}
		p, _, _ := strings.Cut(string(b), "\n")
		p = strings.TrimRight(p, "\r")
		if p == "" {
			return "", fmt.Errorf("ha.etcd.password_file: %s is empty", e.PasswordFile)
		}
		return p, nil
	}
	return "", nil
}

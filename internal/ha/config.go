package ha

import (
	"github.com/leakwatch/leakwatch/internal/config"
)

// OptionsFrom builds the node's options from a validated configuration,
// reading the etcd password and TLS files it names.
func OptionsFrom(cfg *config.Config) (Options, error) {
	h := cfg.HA
	pw, err := cfg.EtcdPassword()
	if err != nil {
		return Options{}, err
	}
	t := h.Etcd.TLS
	tc, err := LoadTLS(TLSFiles{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile,
		ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify})
	if err != nil {
		return Options{}, err
	}
	return Options{
		Endpoints: h.Etcd.Endpoints, DialTimeout: h.Etcd.DialTimeout,
		Username: h.Etcd.Username, Password: pw, TLS: tc,
		Prefix: h.KeyPrefix, LeaseTTL: h.LeaseTTL, Name: h.Name,
	}, nil
}

package ha

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Options configure the etcd connection and the election.
type Options struct {
	// Endpoints are the etcd client URLs (http://host:2379 or https://...).
	Endpoints []string
	// DialTimeout bounds each attempt to connect.
	DialTimeout time.Duration
	// Username and Password authenticate to etcd when Username is set.
	Username, Password string
	// TLS, if set, is used for https endpoints.
	TLS *tls.Config
	// Prefix is the key prefix of this cluster's election, ledger and
	// requests (e.g. /leakwatch/cluster-a). It has no trailing slash.
	Prefix string
	// LeaseTTL is the session lease: a leader that cannot reach etcd for
	// this long loses its term. Whole seconds, at least 2.
	LeaseTTL time.Duration
	// Name names this instance in the election and on the status page.
	Name string
}

// TLSFiles are the TLS options of the configuration, as file names.
type TLSFiles struct {
	CAFile, CertFile, KeyFile, ServerName string
	InsecureSkipVerify                    bool
}

// LoadTLS builds a tls.Config from files; nil when no file or server name
// is given and verification is not relaxed (plain http or system roots).
func LoadTLS(f TLSFiles) (*tls.Config, error) {
	if f == (TLSFiles{}) {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName, InsecureSkipVerify: f.InsecureSkipVerify}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ha.etcd.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ha.etcd.tls.ca_file: %s holds no PEM certificate", f.CAFile)
		}
		c.RootCAs = pool
	}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return nil, errors.New("ha.etcd.tls.cert_file and key_file go together")
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("ha.etcd.tls.cert_file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// dial returns an etcd client. It does not wait for a connection: etcd
// being down at start is a state to report, not a reason to exit.
func dial(o Options) (*clientv3.Client, error) {
	return dialContext(context.Background(), o)
}

// dialContext is dial with a client whose every call ends when ctx does.
func dialContext(ctx context.Context, o Options) (*clientv3.Client, error) {
	cfg := clientv3.Config{
		Context:     ctx,
		Endpoints:   o.Endpoints,
		DialTimeout: o.DialTimeout,
		Username:    o.Username,
		Password:    o.Password,
		TLS:         o.TLS,
		Logger:      zap.NewNop(),
		// Fail calls fast while etcd is away rather than queueing them.
		DialKeepAliveTime:    o.LeaseTTL / 2,
		DialKeepAliveTimeout: o.LeaseTTL / 2,
	}
	c, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("ha.etcd.endpoints %s: %w", strings.Join(o.Endpoints, ","), err)
	}
	return c, nil
}

// callTimeout bounds one etcd call: well inside the lease, so that a leader
// learns it cannot write before its term could have passed to another.
func (o Options) callTimeout() time.Duration {
	return max(o.LeaseTTL/3, 500*time.Millisecond)
}

func (o Options) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, o.callTimeout())
}

package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// waitTimeout bounds every wait for the server; it only fails a test that
// would otherwise hang.
const waitTimeout = 10 * time.Second

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "leakwatch test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// bgServer is ServeListener running in the background on 127.0.0.1:0.
type bgServer struct {
	addr string
	stop context.CancelFunc
	done chan struct{} // closed when ServeListener returned
	err  error         // its result, valid once done is closed
}

// serveInBackground starts ServeListener; the test's cleanup stops it and
// waits for it.
func serveInBackground(t *testing.T, h http.Handler, webConfig string) *bgServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &bgServer{addr: l.Addr().String(), stop: cancel, done: make(chan struct{})}
	go func() {
		s.err = ServeListener(ctx, l, h, webConfig, nil)
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(waitTimeout):
			t.Error("server did not stop")
		}
	})
	return s
}

// wait returns ServeListener's result, failing the test if it does not
// return in time.
func (s *bgServer) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(waitTimeout):
		t.Fatal("server did not return after its context was cancelled")
		return nil
	}
}

func TestServeListenerTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	const user, pass = "prometheus", "correct horse battery staple"
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web-config.yml")
	cfg := fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  %s: %s\n", certFile, keyFile, user, hash)
	if err := os.WriteFile(webConfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := serveInBackground(t, newTestHandler(t, realistic(), ""), webConfig)
	addr := srv.addr
	client := &http.Client{Timeout: waitTimeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()

	tests := []struct {
		name       string
		user, pass string
		code       int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", user, "wrong", http.StatusUnauthorized},
		{"unknown user", "admin", pass, http.StatusUnauthorized},
		{"valid credentials", user, pass, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", "https://"+addr+"/-/healthy", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tt.code, body)
			}
		})
	}

	// Plain HTTP to the TLS port is refused.
	if resp, err := (&http.Client{Timeout: waitTimeout}).Get("http://" + addr + "/-/healthy"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served by a TLS listener")
		}
	}

	srv.stop()
	if err := srv.wait(t); err != nil {
		t.Errorf("ServeListener after cancel: %v", err)
	}
}

// TestServeListenerGracefulShutdown: a request running when the context is
// cancelled completes before ServeListener returns.
func TestServeListenerGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		fmt.Fprint(w, "finished")
	})
	srv := serveInBackground(t, h, "")
	addr := srv.addr

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := (&http.Client{Timeout: waitTimeout}).Get("http://" + addr + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	select {
	case <-entered:
	case <-time.After(waitTimeout):
		t.Fatal("request never reached the handler")
	}
	srv.stop()
	select {
	case <-srv.done:
		t.Fatalf("ServeListener returned (%v) while a request was running", srv.err)
	default:
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request: %q, %v; want it to finish", r.body, r.err)
	}
	if err := srv.wait(t); err != nil {
		t.Errorf("ServeListener: %v", err)
	}
}

func TestServeListenerBadWebConfig(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	err = ServeListener(ctx, l, http.NotFoundHandler(), filepath.Join(t.TempDir(), "missing.yml"), nil)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("ServeListener with a missing web config: %v (context %v), want an error at once", err, ctx.Err())
	}
}

func TestServeAddressInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	err = Serve(ctx, http.NotFoundHandler(), l.Addr().String(), "", nil)
	if err == nil || !strings.Contains(err.Error(), l.Addr().String()) {
		t.Fatalf("Serve on a busy address: %v, want an error naming %s", err, l.Addr())
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, http.NotFoundHandler(), "127.0.0.1:0", "", nil) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Serve did not return after its context was cancelled")
	}
}

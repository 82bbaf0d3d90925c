package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leakwatch/leakwatch/internal/status"
)

// newTestHandler serves st with a registry holding one known gauge.
func newTestHandler(t *testing.T, st status.State, auditFile string) http.Handler {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "leakwatch_test_gauge", Help: "A gauge for the handler test."})
	g.Set(7)
	reg.MustRegister(g)
	return NewHandler(Options{Provider: func() status.State { return st }, Registry: reg, AuditFile: auditFile})
}

// do serves one request and returns the response and its body.
func do(t *testing.T, h http.Handler, method, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	resp := rec.Result()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, target, err)
	}
	return resp, string(body)
}

// TestEndpoints goes over a real connection, so HEAD and 405 behave as
// clients see them.
func TestEndpoints(t *testing.T) {
	srv := httptest.NewServer(newTestHandler(t, realistic(), ""))
	defer srv.Close()
	tests := []struct {
		method, target string
		code           int
		ctype          string // prefix of Content-Type, "" to skip
		body           string // substring of the body, "" to skip
	}{
		{"GET", "/metrics", 200, "text/plain", "leakwatch_test_gauge 7"},
		{"GET", "/-/healthy", 200, "text/plain", "Healthy"},
		{"GET", "/-/ready", 200, "text/plain", "Ready"},
		{"GET", "/api/v1/status", 200, "application/json", `"mode": "enforce"`},
		{"GET", "/", 200, "text/html", "<!DOCTYPE html>"},
		{"GET", "/?refresh=1", 200, "text/html", "<!DOCTYPE html>"},
		{"HEAD", "/", 200, "text/html", ""},
		{"HEAD", "/metrics", 200, "text/plain", ""},
		{"HEAD", "/api/v1/status", 200, "application/json", ""},

		{"GET", "/index.html", 404, "", ""},
		{"GET", "/api/v1/status/", 404, "", ""},
		{"GET", "/api/v1/restart", 404, "", ""},
		{"GET", "/-/reload", 404, "", ""},
		{"GET", "/debug/pprof/", 404, "", ""},

		// Nothing accepts a write: no endpoint can trigger a restart.
		{"POST", "/", 405, "", ""},
		{"POST", "/metrics", 405, "", ""},
		{"POST", "/api/v1/status", 405, "", ""},
		{"PUT", "/-/ready", 405, "", ""},
		{"DELETE", "/-/healthy", 405, "", ""},
		{"POST", "/api/v1/restart", 404, "", ""},
		{"POST", "/-/reload", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body := string(b)
			if resp.StatusCode != tt.code {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tt.code, body)
			}
			if ct := resp.Header.Get("Content-Type"); tt.ctype != "" && !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type %q, want %s...", ct, tt.ctype)
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("body lacks %q:\n%s", tt.body, body)
			}
			if tt.method == "HEAD" && body != "" {
				t.Errorf("HEAD returned a body of %d bytes", len(body))
			}
			if tt.code == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("405 with Allow %q, want \"GET, HEAD\"", resp.Header.Get("Allow"))
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
		})
	}
}

func TestReady(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*status.State)
		code   int
		body   string
	}{
		{"ready", func(*status.State) {}, 200, "Ready\n"},
		{"catching up", func(s *status.State) {
			s.Ready = false
			s.Inputs[1].Up = true
		}, 503, "Not ready: inputs are opening or the first catch-up of the logs is not done\n"},
		{"input down", func(s *status.State) { s.Ready = false }, 503,
			"Not ready: input syslog_udp is down (bind 0.0.0.0:5514: address already in use)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := realistic()
			tt.modify(&st)
			resp, body := do(t, newTestHandler(t, st, ""), "GET", "/-/ready")
			if resp.StatusCode != tt.code || body != tt.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.code, tt.body)
			}
		})
	}
}

// TestHealthyIgnoresState: liveness says only that the process serves HTTP,
// so a supervisor does not restart leakwatch for a CMS problem.
func TestHealthyIgnoresState(t *testing.T) {
	st := realistic()
	st.Ready = false
	st.Inputs[0].Up = false
	resp, body := do(t, newTestHandler(t, st, ""), "GET", "/-/healthy")
	if resp.StatusCode != 200 || body != "Healthy\n" {
		t.Errorf("got %d %q, want 200 \"Healthy\\n\"", resp.StatusCode, body)
	}
}

// TestStateTimeDefaultsToNow: a provider that leaves Now unset gets the
// handler's clock, so ages are not computed from year 1.
func TestStateTimeDefaultsToNow(t *testing.T) {
	st := realistic()
	st.Now = time.Time{}
	h := NewHandler(Options{Provider: func() status.State { return st }, Now: func() time.Time { return now }})
	_, body := do(t, h, "GET", "/")
	for _, want := range []string{"As of 2025-03-20 16:00:00 CET", "42s ago"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/status"
)

// Options configure the handler.
type Options struct {
	// Provider returns the state rendered by every endpoint; required.
	Provider status.Provider
	// Registry is served at MetricsPath; nil serves an empty registry.
	Registry *prometheus.Registry
	// MetricsPath is where the metrics are served (--web.telemetry-path);
	// "" means /metrics.
	MetricsPath string
	// AuditFile is the audit log whose tail the status page shows; "" shows
	// none.
	AuditFile string
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
	// Now stands in for a State without a time; nil means time.Now.
	Now func() time.Time
}

type handler struct {
	opts Options
	log  *slog.Logger
}

// NewHandler returns the read-only HTTP handler of `leakwatch run`:
// the metrics (at Options.MetricsPath), /-/healthy, /-/ready, /api/v1/status and the status page at /.
// Only GET and HEAD are allowed (405 otherwise); other paths are 404.
func NewHandler(opts Options) http.Handler {
	if opts.Provider == nil {
		panic("web.NewHandler: Options.Provider is nil")
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MetricsPath == "" {
		opts.MetricsPath = "/metrics"
	}
	h := &handler{opts: opts, log: opts.Logger}

	mux := http.NewServeMux()
	// "GET" patterns also match HEAD; the mux answers 405 with an Allow
	// header for any other method, and 404 for unknown paths.
	mux.Handle("GET "+opts.MetricsPath, promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(opts.Logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /-/healthy", h.healthy)
	mux.HandleFunc("GET /-/ready", h.ready)
	mux.HandleFunc("GET /api/v1/status", h.api)
	mux.HandleFunc("GET /{$}", h.page)
	return securityHeaders(mux)
}

// securityHeaders forbids framing, sniffing and every external or scripted
// resource: the page needs only its inline styles.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// state returns the current state, stamped with Now when the provider left
// the time unset.
func (h *handler) state() status.State {
	st := h.opts.Provider()
	if st.Now.IsZero() {
		st.Now = h.opts.Now()
	}
	return st
}

func (h *handler) healthy(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "Healthy")
}

func (h *handler) ready(w http.ResponseWriter, _ *http.Request) {
	st := h.state()
	if st.Ready {
		writeText(w, http.StatusOK, "Ready")
		return
	}
	writeText(w, http.StatusServiceUnavailable, "Not ready: "+notReadyReason(st))
}

// notReadyReason says why leakwatch is not ready, naming any input down.
func notReadyReason(st status.State) string {
	var down []string
	for _, in := range st.Inputs {
		if !in.Up {
			down = append(down, fmt.Sprintf("input %s is down (%s)", in.Source, in.Detail))
		}
	}
	if len(down) > 0 {
		return strings.Join(down, "; ")
	}
	return "inputs are opening or the first catch-up of the logs is not done"
}

func (h *handler) api(w http.ResponseWriter, r *http.Request) {
	body, err := json.MarshalIndent(toAPI(h.state()), "", "  ")
	if err != nil {
		h.log.Error("encoding status", "path", r.URL.Path, "err", err)
		writeText(w, http.StatusInternalServerError, "Internal error: cannot encode the status")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(body, '\n'))
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	st := h.state()
	var entries []audit.Entry
	var auditErr error
	if h.opts.AuditFile != "" {
		entries, auditErr = readAuditTail(h.opts.AuditFile, auditEntries)
		if auditErr != nil {
			h.log.Warn("status page: audit log tail unavailable", "err", auditErr)
		}
	}
	// Render fully before writing, so a template error is a clean 500.
	var buf bytes.Buffer
	p := buildPage(st, entries, h.opts.AuditFile, auditErr)
	p.MetricsPath = h.opts.MetricsPath
	if err := pageTemplate.Execute(&buf, p); err != nil {
		h.log.Error("rendering status page", "path", r.URL.Path, "err", err)
		writeText(w, http.StatusInternalServerError, "Internal error: cannot render the status page")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

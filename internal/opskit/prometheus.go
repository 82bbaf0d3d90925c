package opskit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// PrometheusOptions says how StartPrometheus runs a server.
type PrometheusOptions struct {
	// Binary is the prometheus executable ("prometheus" from PATH when "").
	Binary string
	// Dir is a directory the server owns: its configuration and TSDB go
	// there. Tests pass t.TempDir().
	Dir string
	// Config is the prometheus.yml content. "" runs a server that scrapes
	// nothing (an empty TSDB, enough to check query syntax).
	Config string
	// ReadyTimeout bounds the wait for /-/ready (30 s when 0).
	ReadyTimeout time.Duration
}

// Prometheus is a prometheus server started by StartPrometheus, listening
// on 127.0.0.1 only.
type Prometheus struct {
	// URL is the server's base URL, such as http://127.0.0.1:40123.
	URL string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid once done is closed
	log  *lockedBuffer
	once sync.Once
}

// lockedBuffer collects the server's output; the exec package writes to it
// from its own goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StartPrometheus starts prometheus on a free port of 127.0.0.1 and waits
// until it is ready. The caller must call Stop. ctx bounds the start only.
func StartPrometheus(ctx context.Context, opts PrometheusOptions) (*Prometheus, error) {
	bin := opts.Binary
	if bin == "" {
		bin = "prometheus"
	}
	if opts.Dir == "" {
		return nil, errors.New("starting prometheus: PrometheusOptions.Dir is empty")
	}
	cfg := opts.Config
	if cfg == "" {
		cfg = "global:\n  scrape_interval: 15s\nscrape_configs: []\n"
	}
	cfgPath := filepath.Join(opts.Dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("writing prometheus config: %w", err)
	}
	addr, err := freeLocalAddr()
	if err != nil {
		return nil, err
	}
	p := &Prometheus{
		URL:  "http://" + addr,
		done: make(chan struct{}),
		log:  &lockedBuffer{},
	}
	// Not exec.CommandContext: ctx bounds the start, the process lives
	// until Stop.
	p.cmd = exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(opts.Dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	p.cmd.Dir = opts.Dir
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()

	timeout := opts.ReadyTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	if err := p.waitReady(ctx, timeout); err != nil {
		_ = p.Stop()
		return nil, fmt.Errorf("waiting for prometheus on %s: %w\n%s", addr, err, p.Log())
	}
	return p, nil
}

// freeLocalAddr returns a 127.0.0.1 address whose port was free a moment
// ago. Another process may take it before prometheus binds it; StartPrometheus
// then fails with prometheus's bind error in its log.
func freeLocalAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("releasing port %s: %w", addr, err)
	}
	return addr, nil
}

func (p *Prometheus) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/-/ready", nil)
		if err != nil {
			return fmt.Errorf("building ready request: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("prometheus exited: %v", p.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Log returns what the server has written to stdout and stderr so far.
func (p *Prometheus) Log() string { return p.log.String() }

// Stop terminates the server and waits for it to exit. It is safe to call
// more than once.
func (p *Prometheus) Stop() error {
	var err error
	p.once.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		if err = p.cmd.Process.Signal(os.Interrupt); err != nil {
			err = fmt.Errorf("stopping prometheus: %w", err)
			return
		}
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			err = errors.New("stopping prometheus: killed after 15s")
		}
	})
	return err
}

// QueryResult is the outcome of an instant query.
type QueryResult struct {
	// ResultType is "vector", "scalar", "matrix" or "string".
	ResultType string
	// Series is the number of series in a vector or matrix (1 for a scalar
	// or string).
	Series int
	// Warnings are the API's warnings, if any.
	Warnings []string
}

// QueryError is an error answer of the Prometheus HTTP API, such as a
// PromQL syntax error (Type "bad_data", HTTP 400).
type QueryError struct {
	Status int
	Type   string
	Msg    string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("prometheus API: HTTP %d: %s: %s", e.Status, e.Type, e.Msg)
}

// InstantQuery evaluates expr at time at (the server's now when zero)
// through the /api/v1/query endpoint of the Prometheus at baseURL. An
// expression Prometheus rejects returns a *QueryError.
func InstantQuery(ctx context.Context, client *http.Client, baseURL, expr string, at time.Time) (*QueryResult, error) {
	form := url.Values{"query": {expr}}
	if !at.IsZero() {
		form.Set("time", fmt.Sprintf("%.3f", float64(at.UnixMilli())/1000))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("building query request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", baseURL, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status    string   `json:"status"`
		ErrorType string   `json:"errorType"`
		Error     string   `json:"error"`
		Warnings  []string `json:"warnings"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decoding answer to %q (HTTP %d): %w", expr, resp.StatusCode, err)
	}
	if body.Status != "success" {
		return nil, &QueryError{Status: resp.StatusCode, Type: body.ErrorType, Msg: body.Error}
	}
	res := &QueryResult{ResultType: body.Data.ResultType, Warnings: body.Warnings}
	switch res.ResultType {
	case "vector", "matrix":
		var series []json.RawMessage
		if err := json.Unmarshal(body.Data.Result, &series); err != nil {
			return nil, fmt.Errorf("decoding %s result of %q: %w", res.ResultType, expr, err)
		}
		res.Series = len(series)
	default:
		res.Series = 1
	}
	return res, nil
}

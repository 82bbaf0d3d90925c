package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Prometheus is a prometheus server started by StartPrometheus, listening
// on 127.0.0.1 only.
type Prometheus struct {
	// URL is the server's base URL, such as http://127.0.0.1:40123.
	URL  string
	proc *Process
}

// StartPrometheus runs prometheus (see Need) on a free port of 127.0.0.1
// with cfg as its prometheus.yml ("" scrapes nothing: an empty TSDB, enough
// to check query syntax) and waits up to 40 s until it is ready. At the end
// of the test it stops the server, failing the test if it does not stop
// cleanly, and logs the server's output if the test failed.
func StartPrometheus(t testing.TB, cfg string) *Prometheus {
	t.Helper()
	bin := Need(t, "prometheus")
	if cfg == "" {
		cfg = "global:\n  scrape_interval: 15s\nscrape_configs: []\n"
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing prometheus config: %v", err)
	}
	// The port was free a moment ago; should another process take it
	// first, prometheus's bind error is in the output the test logs.
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	p := &Prometheus{URL: "http://" + addr}
	p.proc = Start(t, nil, bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	t.Cleanup(func() {
		if err := p.proc.Stop(15 * time.Second); err != nil {
			t.Errorf("stopping prometheus: %v", err)
		}
	})
	deadline := time.Now().Add(40 * time.Second)
	for {
		if code, _ := Get(p.URL + "/-/ready"); code == http.StatusOK {
			return p
		}
		select {
		case <-p.proc.Done():
			t.Fatalf("prometheus on %s exited before it was ready", addr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus on %s not ready after 40s", addr)
		}
	}
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

// PromAPI sends a request to endpoint, a URL of the Prometheus HTTP API,
// with form as its body (none when nil), and decodes the data field of a
// successful answer into data. An answer with another status returns a
// *QueryError.
func PromAPI(ctx context.Context, client *http.Client, method, endpoint string, form url.Values, data any) error {
	req, err := http.NewRequestWithContext(ctx, method, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("building request to %s: %w", endpoint, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("requesting %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	var answer struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Warnings  []string        `json:"warnings"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return fmt.Errorf("decoding answer of %s (HTTP %d): %w", endpoint, resp.StatusCode, err)
	}
	if answer.Status != "success" {
		return &QueryError{Status: resp.StatusCode, Type: answer.ErrorType, Msg: answer.Error}
	}
	if err := json.Unmarshal(answer.Data, data); err != nil {
		return fmt.Errorf("decoding data of %s: %w", endpoint, err)
	}
	return nil
}

// QueryResult is the outcome of an instant query.
type QueryResult struct {
	// ResultType is "vector", "scalar", "matrix" or "string".
	ResultType string
	// Series is the number of series in a vector or matrix (1 for a scalar
	// or string).
	Series int
	// Samples are the elements of a vector result.
	Samples []Sample
}

// Sample is one element of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// PromSeconds is t as the Prometheus HTTP API takes a time: Unix seconds
// with milliseconds.
func PromSeconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// InstantQuery evaluates expr at time at (the server's now when zero)
// through the /api/v1/query endpoint of the Prometheus at baseURL. An
// expression Prometheus rejects returns a *QueryError.
func InstantQuery(ctx context.Context, client *http.Client, baseURL, expr string, at time.Time) (*QueryResult, error) {
	form := url.Values{"query": {expr}}
	if !at.IsZero() {
		form.Set("time", PromSeconds(at))
	}
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := PromAPI(ctx, client, http.MethodPost, strings.TrimRight(baseURL, "/")+"/api/v1/query", form, &data); err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	res := &QueryResult{ResultType: data.ResultType, Series: 1}
	switch res.ResultType {
	case "vector":
		var vector []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(data.Result, &vector); err != nil {
			return nil, fmt.Errorf("decoding the vector of %q: %w", expr, err)
		}
		for _, r := range vector {
			s, ok := r.Value[1].(string)
			if !ok {
				return nil, fmt.Errorf("query %q: value %v is not a string", expr, r.Value[1])
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("query %q: value %q: %w", expr, s, err)
			}
			res.Samples = append(res.Samples, Sample{Labels: r.Metric, Value: v})
		}
		res.Series = len(vector)
	case "matrix":
		var matrix []json.RawMessage
		if err := json.Unmarshal(data.Result, &matrix); err != nil {
			return nil, fmt.Errorf("decoding the matrix of %q: %w", expr, err)
		}
		res.Series = len(matrix)
	}
	return res, nil
}

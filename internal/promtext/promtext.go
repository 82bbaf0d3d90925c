// Package promtext reads samples out of a /metrics body in the Prometheus
// text format, for the benchmarks and tests that watch leakwatch from the
// outside, as Prometheus would.
package promtext

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Value returns the value of series, written as it appears in the
// exposition (`go_goroutines`, `leakwatch_lines_total{source="files"}`),
// from body. ok is false when body has no such sample or its value is not
// a number.
func Value(body, series string) (v float64, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		rest, found := strings.CutPrefix(sc.Text(), series+" ")
		if !found {
			continue
		}
		// A timestamp may follow the value.
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, false
		}
		v, err := strconv.ParseFloat(f[0], 64)
		return v, err == nil
	}
	return 0, false
}

// Fetch GETs url with c and returns the body of a 200 answer.
func Fetch(ctx context.Context, c *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("scraping %s: %w", url, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("scraping %s: status %s", url, resp.Status)
	}
	return string(body), nil
}

package promtext

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func TestValue(t *testing.T) {
	body := `# HELP leakwatch_lines_total Lines read.
# TYPE leakwatch_lines_total counter
leakwatch_lines_total{source="files"} 12
leakwatch_lines_total{source="files_extra"} 99
leakwatch_lines_total{source="syslog"} 3 1700000000000
go_goroutines 7
bad_value NaNx
`
	tests := []struct {
		series string
		want   float64
		ok     bool
	}{
		{`leakwatch_lines_total{source="files"}`, 12, true},
		{`leakwatch_lines_total{source="syslog"}`, 3, true}, // with a timestamp
		{`go_goroutines`, 7, true},
		{`go_gorou`, 0, false},                             // a prefix is not the series
		{`leakwatch_lines_total{source="file"}`, 0, false}, // nor a label prefix
		{`bad_value`, 0, false},
		{`missing`, 0, false},
	}
	for _, tt := range tests {
		if v, ok := Value(body, tt.series); v != tt.want || ok != tt.ok {
			t.Errorf("Value(%s) = %v, %v; want %v, %v", tt.series, v, ok, tt.want, tt.ok)
		}
	}
}

// TestFetchReadsARealRegistry scrapes what client_golang serves, so the
// format Value expects is the one leakwatch's exporter writes.
func TestFetchReadsARealRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cms_webbridge_sessions", Help: "h"}, []string{"webbridge"})
	reg.MustRegister(g)
	g.WithLabelValues("cms1").Set(42)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	body, err := Fetch(context.Background(), srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := Value(body, `cms_webbridge_sessions{webbridge="cms1"}`); !ok || v != 42 {
		t.Errorf("got %v, %v from %q", v, ok, body)
	}
	if _, err := Fetch(context.Background(), srv.Client(), srv.URL+"/nothing\x00"); err == nil {
		t.Error("a bad URL gave no error")
	}
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	if _, err := Fetch(context.Background(), notFound.Client(), notFound.URL); err == nil {
		t.Error("a 404 gave no error")
	}
}

package exporter

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/leakwatch/leakwatch/internal/status"
	"github.com/leakwatch/leakwatch/internal/version"
)

// NewRegistry returns a registry for leakwatch's /metrics: the state
// collector on p, the Go runtime and process collectors, and
// leakwatch_build_info. It is a registry of its own, never the global one.
//
// A non-empty cmsCluster (the config's cms_cluster) is added to every
// series as the label cms_cluster, so one Prometheus can tell clusters
// apart without relying on a target label.
func NewRegistry(p status.Provider, cmsCluster ...string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	var r prometheus.Registerer = reg
	if len(cmsCluster) > 0 && cmsCluster[0] != "" {
		r = prometheus.WrapRegistererWith(prometheus.Labels{"cms_cluster": cmsCluster[0]}, reg)
	}
	r.MustRegister(
		NewCollector(p),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
	)
	return reg
}

// buildInfo returns leakwatch_build_info, constant 1, whose labels say
// which leakwatch is running.
func buildInfo() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "leakwatch_build_info",
		Help: "Always 1; the labels give the leakwatch version, the source revision and the Go release that built it.",
		ConstLabels: prometheus.Labels{
			"version":   version.Version,
			"revision":  version.Revision,
			"goversion": version.GoVersion(),
		},
	})
	g.Set(1)
	return g
}

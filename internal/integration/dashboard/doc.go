// Package dashboard holds the integration test that runs every query of the
// Grafana dashboard (dashboards/cms-webbridge-leaks.json) against a real
// Prometheus scraping a running `leakwatch demo`, so that a panel whose
// metric was renamed, whose label filter matches nothing, or whose PromQL
// no longer parses fails a test instead of showing "No data" to an
// operator.
package dashboard

// Package opskit checks leakwatch's operator kit: the Prometheus alerting
// rules and their unit tests, the Prometheus and Alertmanager
// configurations, the Grafana dashboard and provisioning, the Dockerfile,
// docker-compose.yml and the systemd unit. The files live outside Go code
// (config/, dashboards/, the repository root); this package's tests run the
// real tools on them (promtool, prometheus, docker-compose, amtool,
// systemd-analyze) and check what the tools cannot.
//
// Only tests live here: the helpers they share with the other integration
// tests (DashboardQueries, StartPrometheus, InstantQuery) are in
// internal/integration/harness.
package opskit

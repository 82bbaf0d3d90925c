// Package opskit checks leakwatch's operator kit: the Prometheus alerting
// rules and their unit tests, the Prometheus and Alertmanager
// configurations, the Grafana dashboard and provisioning, the Dockerfile,
// docker-compose.yml and the systemd unit. The files live outside Go code
// (config/, dashboards/, the repository root); this package's tests run the
// real tools on them (promtool, prometheus, docker-compose, amtool,
// systemd-analyze) and check what the tools cannot.
//
// The exported helpers let integration tests reuse the dashboard's queries
// against a running Prometheus: DashboardQueries extracts them,
// StartPrometheus runs a throwaway server on 127.0.0.1 and InstantQuery
// evaluates a query through the HTTP API.
package opskit

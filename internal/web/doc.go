// Package web is the HTTP side of `leakwatch run`: /metrics, the health
// and readiness probes, /api/v1/status (the state as JSON) and a
// self-contained status page at /.
//
// Every endpoint only reads: the handler has no route, method or parameter
// that restarts a Web Bridge, resets a breaker or changes the policy. Those
// stay with the leakwatch command line on the host. Only GET and HEAD are
// served; any other method gets 405 and any other path 404.
//
// Nothing served carries a secret: status.State holds none (passwords are
// named by environment variable in the config and never reach it), and
// this package renders only State and the audit log, which has no field for
// one either.
//
// Serve and ServeListener run the server through the Prometheus
// exporter-toolkit, so TLS and basic authentication come from a standard
// web config file (--web.config.file) as for every Prometheus exporter.
package web

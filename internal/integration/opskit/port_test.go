package opskit

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/config"
)

// defaultPort is leakwatch's HTTP port: free on the Prometheus wiki's
// "Default port allocations" page (see the README, Configuration).
const defaultPort = "9723"

// takenPorts are defaults of published exporters that leakwatch once used
// or might drift to; none may appear as leakwatch's port anywhere.
var takenPorts = map[string]string{
	"9149": "passenger_exporter",
	"9722": "miele_exporter",
	"9724": "prometheus-freeswitch-exporter",
}

func TestDefaultPortIsNotAnotherExportersPort(t *testing.T) {
	_, port, err := net.SplitHostPort(config.Default().Web.ListenAddresses[0])
	if err != nil {
		t.Fatal(err)
	}
	if owner, ok := takenPorts[port]; ok {
		t.Fatalf("default web.listen_address port %s is %s's", port, owner)
	}
	if port != defaultPort {
		t.Fatalf("default port %s, want %s (update this test, the README and every shipped file together)", port, defaultPort)
	}
}

// TestShippedFilesUseTheDefaultPort finds every tracked file that names a
// taken port, so the config, docs, compose, systemd unit, Dockerfile,
// dashboards and alert tests cannot keep the old one.
func TestShippedFilesUseTheDefaultPort(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err) // not a checkout: nothing to scan
	}
	for _, rel := range strings.Fields(string(out)) {
		if strings.HasSuffix(rel, "_test.go") && strings.HasPrefix(rel, "internal/integration/opskit/") {
			continue // this file names the taken ports on purpose
		}
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			continue // deleted in the work tree
		}
		for i, line := range strings.Split(string(data), "\n") {
			for port, owner := range takenPorts {
				if !strings.Contains(line, port) || explainsTheChoice(line, owner) {
					continue
				}
				if strings.Contains(line, ":"+port) || strings.Contains(line, port+"/") || strings.Contains(line, "port "+port) || strings.Contains(line, "**"+port) {
					t.Errorf("%s:%d uses port %s (%s's): %s", rel, i+1, port, owner, strings.TrimSpace(line))
				}
			}
		}
	}
}

// explainsTheChoice lets the README and the example config say whose port
// the old default was.
func explainsTheChoice(line, owner string) bool {
	return strings.Contains(line, strings.SplitN(owner, "_", 2)[0])
}

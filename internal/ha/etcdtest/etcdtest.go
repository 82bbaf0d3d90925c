// Package etcdtest starts a real etcd server (Debian's etcd-server) on
// loopback for tests: ephemeral ports, a temporary data folder, stopped at
// the end of the test. A missing etcd skips the test, or fails it under CI.
package etcdtest

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// Server is a running (or stopped) single-member etcd.
type Server struct {
	t        testing.TB
	bin      string
	dir      string
	client   string
	peer     string
	proc     *harness.Process
	Endpoint string
}

// Start starts etcd and waits until it answers.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: harness.Need(t, "etcd"), dir: filepath.Join(t.TempDir(), "etcd")}
	s.client = fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(t))
	s.peer = fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(t))
	s.Endpoint = s.client
	s.Restart()
	return s
}

// Restart starts etcd again on the same ports and data after Stop.
func (s *Server) Restart() {
	s.t.Helper()
	s.proc = harness.Start(s.t, nil, s.bin,
		"--name", "lw", "--data-dir", s.dir,
		"--listen-client-urls", s.client, "--advertise-client-urls", s.client,
		"--listen-peer-urls", s.peer, "--initial-advertise-peer-urls", s.peer,
		"--initial-cluster", "lw="+s.peer, "--initial-cluster-state", "new",
		"--log-level", "warn", "--enable-pprof=false")
	host := s.client[len("http://"):]
	deadline := time.Now().Add(20 * time.Second)
	for {
		if ok := s.healthy(host); ok {
			return
		}
		select {
		case <-s.proc.Done():
			s.t.Fatalf("etcd exited at start:\n%s", s.proc.Output())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("etcd did not answer on %s within 20s:\n%s", host, s.proc.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) healthy(host string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false
	}
	c.Close()
	code, body := harness.Get(s.client + "/health")
	return code == 200 && len(body) > 0 && strings.Contains(body, `"health":"true"`)
}

// Stop kills etcd (SIGKILL: as a crash or a cut cable looks to clients).
func (s *Server) Stop() { s.proc.Kill() }

// Pause stops etcd with SIGSTOP: connections stay open and nothing answers.
func (s *Server) Pause() { s.proc.Pause() }

// Resume continues a paused etcd.
func (s *Server) Resume() { s.proc.Resume() }

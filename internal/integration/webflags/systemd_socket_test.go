//go:build unix

package webflags

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// TestSystemdSocketActivation starts leakwatch the way a systemd .socket
// unit does, through systemd's own systemd-socket-activate: it holds the
// listening socket, starts leakwatch on the first connection and passes
// the socket as fd 3 (LISTEN_FDS, LISTEN_PID). With --web.systemd-socket
// leakwatch must serve on that socket, and not on --web.listen-address.
func TestSystemdSocketActivation(t *testing.T) {
	activate := harness.Need(t, "systemd-socket-activate")
	bin := harness.Binary(t)
	port, unused := harness.FreePort(t), harness.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := harness.Start(t, nil, activate, "--listen", addr, "--",
		bin, "run", "--state-dir", t.TempDir(), "--web.systemd-socket",
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", unused))

	// The first connection makes systemd-socket-activate start leakwatch;
	// it waits in the socket's backlog until leakwatch accepts it.
	var body string
	harness.Eventually(t, 30*time.Second, "metrics on the activated socket", func() bool {
		var code int
		code, body = harness.Get("http://" + addr + "/metrics")
		return code == 200
	})
	if !strings.Contains(body, "leakwatch_build_info") {
		t.Errorf("/metrics on the activated socket lacks leakwatch_build_info")
	}
	if code, _ := harness.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", unused)); code != 0 {
		t.Errorf("leakwatch also listens on --web.listen-address (HTTP %d) despite --web.systemd-socket", code)
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Errorf("stop: %v", err)
	}
	if out := p.Output(); !strings.Contains(out, "listen=["+addr+"]") {
		t.Errorf("the log does not name the activated socket %s:\n%s", addr, out)
	}
}

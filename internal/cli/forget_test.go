package cli

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// TestForgetThroughTheDaemon: a lab Call Bridge that is not in the
// inventory withholds wb1's proof while it reports, which the metrics say;
// `leakwatch forget` hands the request to the running daemon, which clears
// it and audits the request, and the proof is back. A listed host is
// refused, and without a running daemon there is nothing to forget.
func TestForgetThroughTheDaemon(t *testing.T) {
	t.Setenv("USER", "")
	s := newSite(t, siteOptions{bridges: []string{"wb1"}, extra: operatorPolicy})
	if err := os.MkdirAll(s.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "forget", "lab-cb", "--config", s.config); code != 1 || !strings.Contains(errOut, "no leakwatch is running") {
		t.Errorf("forget without a daemon: exit %d, stderr:\n%s", code, errOut)
	}
	feedLeak(t, s)
	url := startDaemon(t, s)
	proof := `cms_webbridge_leaked_sessions_lower_bound{webbridge="wb1"}`
	harness.Eventually(t, 20*time.Second, "wb1's leak proven on /metrics", func() bool {
		v, ok := metric(t, url, proof)
		return ok && v == 52
	})
	stamp := time.Now().UTC().Format("Jan _2 15:04:05.000")
	lab := stamp + ` user.info lab-cb host:server:  INFO : STATS: {"CMA": "30/30"}` + "\n" +
		stamp + ` user.info h-wbl "webbridge": INFO : [DEBUGGING] Stats 90, c:960, d:900` + "\n"
	f, err := os.OpenFile(s.logFile, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(lab); err != nil {
		t.Fatal(err)
	}
	f.Close()
	harness.Eventually(t, 20*time.Second, "lab-cb named as withholding proofs", func() bool {
		v, ok := metric(t, url, `leakwatch_proofs_withheld{host="lab-cb"}`)
		_, proven := metric(t, url, proof)
		return ok && v == 1 && !proven
	})
	if v, _ := metric(t, url, `leakwatch_unlisted_lines_total{host="h-wbl",role="webbridge"}`); v != 1 {
		t.Errorf("unlisted lines of the look-alike h-wbl = %v, want 1", v)
	}

	code, out, errOut := run(t, "forget", "LAB-CB", "--config", s.config)
	if code != 0 || !strings.Contains(out, "host lab-cb forgotten") || !strings.Contains(errOut, "asking the running leakwatch") {
		t.Fatalf("forget lab-cb: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	harness.Eventually(t, 20*time.Second, "wb1's leak proven again", func() bool {
		v, ok := metric(t, url, proof)
		_, withheld := metric(t, url, `leakwatch_proofs_withheld{host="lab-cb"}`)
		return ok && v == 52 && !withheld
	})
	code, _, errOut = run(t, "forget", "h-wb1", "--config", s.config)
	if code != 1 || !strings.Contains(errOut, "listed in inventory.webbridges as wb1") {
		t.Errorf("forget h-wb1: exit %d, stderr:\n%s", code, errOut)
	}
	es := auditEvents(t, s, "", audit.EventForget)
	if len(es) != 2 || es[0].Reason != "forgotten" || !strings.Contains(es[0].Detail, "LAB-CB") || es[1].Reason != "refused" {
		t.Errorf("forget audit entries = %+v, want forgotten then refused", es)
	}
	// Who asked is named even without $USER (unset under systemd-run,
	// cron, containers): the audit said user "".
	for _, e := range es {
		if strings.Contains(e.Detail, `user ""`) {
			t.Errorf("forget audit entry names nobody: %s", e.Detail)
		}
	}
}

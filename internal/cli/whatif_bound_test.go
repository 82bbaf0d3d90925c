package cli

import (
	"fmt"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/logline"
)

// TestWhatIfWorldIsBounded: the what-if keeps a bridge only for hosts the
// model counts. A million made-up hostnames once grew it to a gigabyte;
// unlisted hosts (the inventory lists Web Bridges) get none, and without an
// inventory no more than model.max_discovered are discovered.
func TestWhatIfWorldIsBounded(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	line := func(host string) *logline.Line {
		return &logline.Line{Kind: logline.WebBridgeStats, Host: []byte(host), Time: t0, WebBridge: logline.WebBridge{Active: 10}}
	}
	open := newWhatIfWorld(cluster.Options{DefaultLimit: 149, MaxDiscovered: 4})
	for i := range 1000 {
		open.rewrite(line(fmt.Sprintf("h%d", i)))
	}
	if n := len(open.byHost); n != 4 {
		t.Errorf("without an inventory the what-if tracks %d hosts, want the cap of 4", n)
	}
	listed := newWhatIfWorld(cluster.Options{DefaultLimit: 149, MaxDiscovered: 4, WebBridges: []cluster.Member{{Name: "wb1", Hosts: []string{"cms-wb1"}}}})
	for _, h := range []string{"cms-wbl", "cms-wb1.", "lab", "CMS-WB1"} {
		listed.rewrite(line(h))
	}
	if n := len(listed.byHost); n != 1 || !listed.byHost["cms-wb1"].seen {
		t.Errorf("with an inventory the what-if tracks %d hosts (%v), want cms-wb1 alone", n, listed.byHost)
	}
}

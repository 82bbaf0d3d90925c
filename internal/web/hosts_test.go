package web

import (
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
)

// TestStatusPageHostsOutsideTheInventory: the page names an unlisted Call
// Bridge that withholds proofs first, and shows unlisted Web Bridges,
// ignored hosts, departures and hosts whose lines were stamped ahead.
func TestStatusPageHostsOutsideTheInventory(t *testing.T) {
	st := realistic()
	st.Cluster.Unlisted = []cluster.UnlistedHost{
		{Host: "cms-wbl", Role: cluster.RoleWebBridge, Lines: 3, LastSeen: now.Add(-time.Minute)},
		{Host: "lab-cb", Role: cluster.RoleCallBridge, Lines: 2, LastSeen: now.Add(-time.Minute), Reporting: true},
	}
	st.Cluster.Withheld = []string{"lab-cb"}
	st.Cluster.Ignored = []cluster.IgnoredHost{{Host: "lab-cms", Lines: 7}}
	st.Cluster.Departures = []cluster.Departure{{Seq: 1, Name: "old-wb", Role: cluster.RoleWebBridge, Hosts: []string{"old-wb"},
		LastSeen: now.Add(-25 * time.Hour), At: now.Add(-time.Hour), Why: cluster.DepartedSilent}}
	st.Cluster.Clocks = []cluster.HostClock{{Host: "cms3", Offset: 24 * time.Hour, Arrived: now, FutureRejected: 1}}
	_, body := do(t, newTestHandler(t, st, ""), "GET", "/")
	i := strings.Index(body, "Hosts outside the inventory")
	if i < 0 {
		t.Fatal("page lacks the hosts section")
	}
	section := body[i:]
	for _, want := range []string{"lab-cb", "every proof is withheld", "cms-wbl", "unlisted: left out of the sums",
		"lab-cms", "ignored (inventory.ignore)", "old-wb", "left the sums", "forget_after",
		"cms3", "stamped more than model.future_tolerance ahead", "24h0m0s"} {
		if !strings.Contains(section, want) {
			t.Errorf("hosts section lacks %q", want)
		}
	}
	if strings.Index(section, "lab-cb") > strings.Index(section, "cms-wbl") {
		t.Error("the withholding call bridge is not listed first")
	}
}

// TestAPIStatusUnlistedHosts: scripts see the unlisted hosts and who
// withholds proofs.
func TestAPIStatusUnlistedHosts(t *testing.T) {
	st := realistic()
	st.Cluster.Unlisted = []cluster.UnlistedHost{{Host: "lab-cb", Role: cluster.RoleCallBridge, Lines: 2, LastSeen: now, Reporting: true}}
	st.Cluster.Withheld = []string{"lab-cb"}
	_, body := do(t, newTestHandler(t, st, ""), "GET", "/api/v1/status")
	for _, want := range []string{`"proofs_withheld_by": [`, `"host": "lab-cb"`, `"role": "callbridge"`, `"reporting": true`} {
		if !strings.Contains(body, want) {
			t.Errorf("API lacks %s:\n%s", want, body)
		}
	}
}

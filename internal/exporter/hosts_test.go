package exporter

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/status"
)

// TestCollectorHosts: unlisted, ignored and withholding hosts, and each
// host's clock, are exported per host.
func TestCollectorHosts(t *testing.T) {
	st := fixture()
	st.Cluster.Unlisted = []cluster.UnlistedHost{
		{Host: "cms-wbl", Role: cluster.RoleWebBridge, Lines: 3},
		{Host: "lab-cb", Role: cluster.RoleCallBridge, Lines: 2, Reporting: true},
	}
	st.Cluster.Withheld = []string{"lab-cb"}
	st.Cluster.Ignored = []cluster.IgnoredHost{{Host: "lab-cms", Lines: 7}}
	st.Cluster.Clocks = []cluster.HostClock{{Host: "cms1", Offset: 90 * time.Second, FutureRejected: 4}}
	c := NewCollector(func() status.State { return st })
	want := `
		#> cms_host_clock_offset_seconds
		cms_host_clock_offset_seconds{host="cms1"} 90
		#> leakwatch_future_stamped_lines_total
		leakwatch_future_stamped_lines_total{host="cms1"} 4
		#> leakwatch_ignored_lines_total
		leakwatch_ignored_lines_total{host="lab-cms"} 7
		#> leakwatch_proofs_withheld
		leakwatch_proofs_withheld{host="lab-cb"} 1
		#> leakwatch_unlisted_lines_total
		leakwatch_unlisted_lines_total{host="cms-wbl",role="webbridge"} 3
		leakwatch_unlisted_lines_total{host="lab-cb",role="callbridge"} 2
	`
	if err := testutil.CollectAndCompare(c, strings.NewReader(expo(want)), "cms_host_clock_offset_seconds",
		"leakwatch_future_stamped_lines_total", "leakwatch_ignored_lines_total", "leakwatch_proofs_withheld", "leakwatch_unlisted_lines_total"); err != nil {
		t.Error(err)
	}
}

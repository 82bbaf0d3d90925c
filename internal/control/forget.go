package control

import (
	"fmt"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/cluster"
)

// Forget carries out a `leakwatch forget HOST` request on the daemon's
// model and audits it: a discovered component with that host leaves the
// sums, and the host's unlisted records are cleared. Listed, ignored and
// unknown hosts are refused with the reason (and audited too).
func Forget(m *cluster.Model, w audit.Writer, req Request, now time.Time) (Response, error) {
	resp := Response{ID: req.ID}
	deps, err := m.Forget(req.Host, now)
	entry := audit.Entry{Time: now, Event: audit.EventForget}
	if err != nil {
		resp.Message = "not forgotten: " + err.Error()
		entry.Reason, entry.Detail = "refused", fmt.Sprintf("host %s, user %q: %v", req.Host, req.User, err)
		return resp, w.Write(entry)
	}
	var what []string
	for _, d := range deps {
		what = append(what, fmt.Sprintf("%s %s left the sums", d.Role, d.Name))
	}
	if len(what) == 0 {
		what = append(what, "its unlisted records were cleared")
	}
	resp.OK = true
	resp.Message = fmt.Sprintf("host %s forgotten: %s; if it reports again it counts as new (list it, or name it in inventory.ignore, to decide for good)",
		cluster.FoldHost(req.Host), strings.Join(what, "; "))
	entry.Reason, entry.Detail = "forgotten", fmt.Sprintf("host %s, user %q: %s", req.Host, req.User, strings.Join(what, "; "))
	return resp, w.Write(entry)
}

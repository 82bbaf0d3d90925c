package web

import (
	"fmt"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/status"
)

// hostRow is a host the operator should know about: one outside the
// inventory, one that left the sums, or one whose clock runs ahead.
type hostRow struct {
	Host, Role, State, Class, Lines, Seen string
}

// hostRowsOf lists unlisted and ignored hosts, recent departures and
// hosts with future-stamped lines, most urgent first.
func hostRowsOf(st status.State) []hostRow {
	now, c := st.Now, st.Cluster
	var crit, rest []hostRow
	for _, u := range c.Unlisted {
		r := hostRow{Host: u.Host, Role: string(u.Role), Lines: fmt.Sprint(u.Lines), Seen: age(now, u.LastSeen)}
		switch {
		case u.Role == cluster.RoleCallBridge && u.Reporting:
			r.State, r.Class = "unlisted call bridge: every proof is withheld while it reports (list it, ignore it or leakwatch forget it)", classCrit
			crit = append(crit, r)
			continue
		case u.Role == cluster.RoleCallBridge:
			r.State, r.Class = "unlisted call bridge, silent: proofs are not withheld", classMuted
		default:
			r.State, r.Class = "unlisted: left out of the sums (list it if it belongs to this cluster)", classWarn
		}
		rest = append(rest, r)
	}
	for _, h := range c.Ignored {
		rest = append(rest, hostRow{Host: h.Host, Role: "any", Lines: fmt.Sprint(h.Lines), Seen: "—",
			State: "ignored (inventory.ignore): counted and dropped", Class: classMuted})
	}
	for i := len(c.Departures) - 1; i >= 0; i-- {
		d := c.Departures[i]
		why := "silent for longer than model.forget_after"
		if d.Why == cluster.DepartedOperator {
			why = "forgotten by an operator"
		}
		for _, h := range d.Hosts {
			rest = append(rest, hostRow{Host: h, Role: string(d.Role), Lines: "—", Seen: age(now, d.LastSeen),
				State: fmt.Sprintf("discovered %s %s left the sums %s: %s", d.Role, d.Name, age(now, d.At), why), Class: classInfo})
		}
	}
	for _, h := range c.Clocks {
		if h.FutureRejected == 0 {
			continue
		}
		rest = append(rest, hostRow{Host: h.Host, Role: "—", Lines: fmt.Sprint(h.FutureRejected), Seen: age(now, h.Arrived),
			State: fmt.Sprintf("lines rejected: stamped more than model.future_tolerance ahead of their arrival (latest offset %s)", signed(h.Offset)),
			Class: classWarn})
	}
	return append(crit, rest...)
}

func signed(d time.Duration) string {
	d = d.Round(time.Second)
	if d > 0 {
		return "+" + d.String()
	}
	return d.String()
}

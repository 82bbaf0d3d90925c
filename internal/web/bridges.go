package web

import (
	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/status"
)

// bridge is one Web Bridge as the model and the policy see it.
type bridge struct {
	Name string
	// WebBridge is the model's view; zero when !InCluster.
	WebBridge cluster.WebBridge
	// InCluster is false for a bridge that only the actuator still knows
	// (removed from the inventory, but with restarts or a breaker on record).
	InCluster bool
	// Policy is the actuator's view; Reason is "" before its first decision.
	Policy actuator.BridgeStatus
}

// mergeBridges joins the model's Web Bridges with the actuator's, in the
// model's order, followed by those only the actuator knows.
func mergeBridges(st status.State) []bridge {
	pol := make(map[string]actuator.BridgeStatus, len(st.Policy.Bridges))
	for _, bs := range st.Policy.Bridges {
		pol[bs.Name] = bs
	}
	out := make([]bridge, 0, len(st.Cluster.WebBridges))
	inCluster := make(map[string]bool, len(st.Cluster.WebBridges))
	for _, wb := range st.Cluster.WebBridges {
		inCluster[wb.Name] = true
		bs, ok := pol[wb.Name]
		if !ok {
			bs = actuator.BridgeStatus{Name: wb.Name}
		}
		out = append(out, bridge{Name: wb.Name, WebBridge: wb, InCluster: true, Policy: bs})
	}
	for _, bs := range st.Policy.Bridges {
		if !inCluster[bs.Name] {
			out = append(out, bridge{Name: bs.Name, WebBridge: cluster.WebBridge{Name: bs.Name}, Policy: bs})
		}
	}
	return out
}

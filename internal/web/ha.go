package web

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/ha"
)

// apiHA is the "ha" object of /api/v1/status; absent without ha configured.
type apiHA struct {
	// Name is this instance's name; Role is "leader" or "standby".
	Name string `json:"name"`
	Role string `json:"role"`
	// Acting is true while this instance may restart a Web Bridge.
	Acting bool `json:"acting"`
	// Leader is the elected leader's name, null when none is known.
	Leader *string `json:"leader"`
	// EtcdUp is true while the last call to etcd succeeded.
	EtcdUp      bool    `json:"etcd_up"`
	LastContact *string `json:"last_contact"`
	// State is the status page's line, e.g. "standby; the leader is lw-a".
	State string `json:"state"`
}

func apiHAOf(h *ha.Status) *apiHA {
	if h == nil {
		return nil
	}
	out := &apiHA{Name: h.Name, Role: "standby", Acting: h.Leader, EtcdUp: h.Up, State: h.Words()}
	if h.Leader {
		out.Role = "leader"
	}
	if h.LeaderName != "" {
		l := h.LeaderName
		out.Leader = &l
	}
	if !h.LastContact.IsZero() {
		s := h.LastContact.UTC().Format(time.RFC3339)
		out.LastContact = &s
	}
	return out
}

// haBanner is the page's HA line: its words and how alarming they are.
func haBanner(h *ha.Status) (role, words, class string) {
	switch {
	case h == nil:
		return "", "", ""
	case h.Leader:
		return "LEADER", "this instance (" + h.Name + ") is the elected HA leader: it alone acts", classOK
	case !h.Up || h.Reason != "":
		return "NOT ACTING", h.Words(), classCrit
	case h.LeaderName == "":
		return "STANDBY", h.Words() + ": no instance acts", classCrit
	}
	return "STANDBY", h.Words() + "; this instance (" + h.Name + ") observes and takes over if it fails", classInfo
}

package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/ha"
)

func TestHAOnPageAndAPI(t *testing.T) {
	tests := []struct {
		name     string
		ha       *ha.Status
		page     []string
		apiState string
		role     string
	}{
		{"standby", &ha.Status{Name: "lw-b", Up: true, LeaderName: "lw-a"},
			[]string{`<span class="mode">STANDBY</span>standby; the leader is lw-a; this instance (lw-b) observes`}, "standby; the leader is lw-a", "standby"},
		{"leader", &ha.Status{Name: "lw-a", Up: true, Leader: true, LeaderName: "lw-a"},
			[]string{`<span class="mode">LEADER</span>this instance (lw-a) is the elected HA leader`}, "leader (lw-a)", "leader"},
		{"etcd down", &ha.Status{Name: "lw-a", Reason: "not acting: etcd unreachable since 2026-03-19T14:00:00Z (connection refused)"},
			[]string{`banner crit`, `<span class="mode">NOT ACTING</span>not acting: etcd unreachable since`}, "not acting: etcd unreachable since 2026-03-19T14:00:00Z (connection refused)", "standby"},
		{"no leader", &ha.Status{Name: "lw-b", Up: true},
			[]string{`standby; no leader elected: no instance acts`}, "standby; no leader elected", "standby"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := realistic()
			st.HA = tt.ha
			h := newTestHandler(t, st, "")
			_, body := do(t, h, "GET", "/")
			for _, want := range tt.page {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			_, api := do(t, h, "GET", "/api/v1/status")
			var doc struct {
				HA *apiHA `json:"ha"`
			}
			if err := json.Unmarshal([]byte(api), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.HA == nil || doc.HA.State != tt.apiState || doc.HA.Role != tt.role || doc.HA.Name != tt.ha.Name {
				t.Errorf("api ha = %+v, want state %q role %q", doc.HA, tt.apiState, tt.role)
			}
		})
	}
}

func TestNoHAConfiguredShowsNothing(t *testing.T) {
	h := newTestHandler(t, realistic(), "")
	_, body := do(t, h, "GET", "/")
	if strings.Contains(body, "STANDBY") || strings.Contains(body, "LEADER") {
		t.Error("page shows an HA line without ha configured")
	}
	_, api := do(t, h, "GET", "/api/v1/status")
	if strings.Contains(api, `"ha"`) {
		t.Error(`/api/v1/status has "ha" without ha configured`)
	}
}

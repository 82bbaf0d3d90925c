package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func inventory() Options {
	return Options{
		WebBridges:  []Member{{Name: "wb1", Hosts: []string{"cms-wb1"}, Restartable: true}},
		CallBridges: []Member{{Name: "cb1", Hosts: []string{"cms-cb1"}}},
	}
}

// feedListed gives a listed cluster one report period: wb1 at 60 sessions,
// cb1 with 5 CMA sessions, ending at end.
func feedListed(m *Model, end time.Time) {
	observe(m, wbLine("cms-wb1", end.Add(-time.Minute), 60))
	observe(m, cbLine("cms-cb1", end, 5, 5))
}

// TestUnlistedWebBridgeIsLeftOut: three lines from a lab Web Bridge, once,
// while the inventory lists the Web Bridges, once made the estimate unknown
// forever. It is left out of the sums, counted and shown as unlisted.
func TestUnlistedWebBridgeIsLeftOut(t *testing.T) {
	m := mustModel(t, inventory())
	warmUp(m, "cms-cb1")
	for i := range 3 {
		if got := observe(m, wbLine("lab-wb", t0.Add(time.Duration(i)*time.Minute), 90)); got != Unlisted {
			t.Fatalf("lab line: outcome %d, want Unlisted", got)
		}
	}
	for i := 1; i <= 12; i++ { // an hour
		end := t0.Add(time.Duration(i) * 5 * time.Minute)
		feedListed(m, end)
		s := m.Snapshot(end)
		if !s.Leak.Valid || len(s.WebBridges) != 1 {
			t.Fatalf("at %s: valid %v (%s), %d web bridges; want valid with wb1 alone", end, s.Leak.Valid, s.Leak.Reason, len(s.WebBridges))
		}
		if wb, _ := s.WebBridge("wb1"); wb.LeakLowerBound != 55 || s.Leak.Sessions != 60 {
			t.Fatalf("wb1 proven %d, sessions %d; want 55 and 60 (lab-wb's 90 in no sum)", wb.LeakLowerBound, s.Leak.Sessions)
		}
	}
	s := m.Snapshot(t0.Add(time.Hour))
	if len(s.Unlisted) != 1 || s.Unlisted[0].Host != "lab-wb" || s.Unlisted[0].Role != RoleWebBridge || s.Unlisted[0].Lines != 3 {
		t.Errorf("unlisted = %+v, want lab-wb, webbridge, 3 lines", s.Unlisted)
	}
}

// TestLookAlikeHostsAreNotListed: only ASCII case is folded. A look-alike
// (cms-wbl for cms-wb1) or a trailing dot is another host.
func TestLookAlikeHostsAreNotListed(t *testing.T) {
	m := mustModel(t, inventory())
	for host, want := range map[string]Outcome{"CMS-WB1": Applied, "cms-wb1": Applied, "cms-wbl": Unlisted, "cms-wb1.": Unlisted, "cms-wb1.example.com": Unlisted, "cms-wb": Unlisted} {
		if got := observe(m, wbLine(host, t0, 10)); got != want {
			t.Errorf("host %q: outcome %d, want %d", host, got, want)
		}
	}
}

// TestUnlistedCallBridgeWithholdsProofs: an unlisted Call Bridge's CMA
// sessions belong in the peaks every proof subtracts, so while it reports no
// proof holds, and the estimate names it. Once it is silent, proofs resume.
func TestUnlistedCallBridgeWithholdsProofs(t *testing.T) {
	m := mustModel(t, inventory())
	warmUp(m, "cms-cb1")
	feedListed(m, t0.Add(5*time.Minute))
	if got := observe(m, cbLine("lab-cb", t0.Add(5*time.Minute), 50, 50)); got != Unlisted {
		t.Fatalf("lab-cb: outcome %d, want Unlisted", got)
	}
	s := m.Snapshot(t0.Add(5 * time.Minute))
	wb, _ := s.WebBridge("wb1")
	if s.Leak.Valid || wb.LeakKnown || len(s.Withheld) != 1 || s.Withheld[0] != "lab-cb" || !strings.Contains(s.Leak.Reason, "unlisted call bridge lab-cb") {
		t.Errorf("with lab-cb reporting: valid %v, wb1 proven %v, withheld %v, reason %q; want proofs withheld naming lab-cb",
			s.Leak.Valid, wb.LeakKnown, s.Withheld, s.Leak.Reason)
	}
	for i := 2; i <= 5; i++ {
		feedListed(m, t0.Add(time.Duration(i)*5*time.Minute))
	}
	s = m.Snapshot(t0.Add(25 * time.Minute)) // lab-cb silent for 20m > stale_after
	if wb, _ := s.WebBridge("wb1"); !s.Leak.Valid || !wb.LeakKnown || len(s.Withheld) != 0 {
		t.Errorf("lab-cb silent: valid %v (%s), wb1 proven %v; want proofs back", s.Leak.Valid, s.Leak.Reason, wb.LeakKnown)
	}
}

// TestDiscoveredWebBridgeLeavesAfterForgetAfter: without an inventory, a
// Web Bridge that goes silent makes the estimate unknown, until it has been
// silent for forget_after; then it leaves the sums, and that is recorded.
func TestDiscoveredWebBridgeLeavesAfterForgetAfter(t *testing.T) {
	m := mustModel(t, Options{ForgetAfter: time.Hour})
	warmUp(m, "cb1")
	observe(m, wbLine("lab-wb", t0.Add(time.Minute), 90))
	var s Snapshot
	for i := 1; i <= 14; i++ {
		end := t0.Add(time.Duration(i) * 5 * time.Minute)
		observe(m, wbLine("wb1", end.Add(-time.Minute), 60))
		observe(m, cbLine("cb1", end, 5, 5))
		s = m.Snapshot(end)
		if i == 6 && s.Leak.Valid {
			t.Errorf("30m after lab-wb's last line the estimate is valid; want unknown until forget_after")
		}
	}
	if _, ok := s.WebBridge("lab-wb"); ok || !s.Leak.Valid {
		t.Fatalf("70m after its last line: lab-wb still in (%v), valid %v (%s)", ok, s.Leak.Valid, s.Leak.Reason)
	}
	if d := s.Departures; len(d) != 1 || d[0].Name != "lab-wb" || d[0].Why != DepartedSilent || d[0].Seq != 1 {
		t.Errorf("departures = %+v, want lab-wb, forget_after", d)
	}
	// It may come back, as a new bridge.
	observe(m, wbLine("lab-wb", t0.Add(71*time.Minute), 3))
	if s := m.Snapshot(t0.Add(71 * time.Minute)); len(s.WebBridges) != 2 {
		t.Errorf("lab-wb did not come back: %d web bridges", len(s.WebBridges))
	}
}

// TestDiscoveredCallBridgeNeverLeavesOnItsOwn: a silent Call Bridge may
// still carry calls while its logging is broken: the estimate stays unknown
// however long, until an operator forgets it.
func TestDiscoveredCallBridgeNeverLeavesOnItsOwn(t *testing.T) {
	m := mustModel(t, Options{ForgetAfter: time.Hour})
	warmUp(m, "cb1", "cb2")
	end := t0.Add(48 * time.Hour)
	observe(m, wbLine("wb1", end.Add(-time.Minute), 60))
	observe(m, cbLine("cb1", end, 5, 5))
	s := m.Snapshot(end)
	if s.Leak.Valid || !strings.Contains(s.Leak.Reason, "cb2") {
		t.Fatalf("cb2 silent 48h: valid %v (%s); want unknown naming cb2", s.Leak.Valid, s.Leak.Reason)
	}
	d, err := m.Forget("CB2", end)
	if err != nil || len(d) != 1 || d[0].Name != "cb2" || d[0].Why != DepartedOperator {
		t.Fatalf("Forget(CB2) = %+v, %v", d, err)
	}
	if s := m.Snapshot(end); !s.Leak.Valid {
		t.Errorf("after forget: valid %v (%s)", s.Leak.Valid, s.Leak.Reason)
	}
}

// TestIgnoredHostsAreCountedAndDropped, whatever their role.
func TestIgnoredHostsAreCountedAndDropped(t *testing.T) {
	m := mustModel(t, Options{Ignore: []string{"Lab-CMS"}})
	warmUp(m, "cb1")
	if got := observe(m, wbLine("lab-cms", t0.Add(time.Minute), 90)); got != DroppedIgnored {
		t.Errorf("web bridge line: outcome %d, want DroppedIgnored", got)
	}
	if got := observe(m, cbLine("LAB-CMS", t0.Add(time.Minute), 9, 9)); got != DroppedIgnored {
		t.Errorf("call bridge line: outcome %d, want DroppedIgnored", got)
	}
	s := m.Snapshot(t0.Add(time.Minute))
	if len(s.WebBridges) != 0 || len(s.CallBridges) != 1 || len(s.Ignored) != 1 || s.Ignored[0].Lines != 2 {
		t.Errorf("snapshot: %d web bridges, %d call bridges, ignored %+v; want 0, 1, lab-cms with 2", len(s.WebBridges), len(s.CallBridges), s.Ignored)
	}
	if _, err := New(Options{Ignore: []string{"cms-wb1"}, WebBridges: []Member{{Name: "wb1", Hosts: []string{"CMS-WB1"}}}}); err == nil {
		t.Error("a host both listed and ignored was accepted")
	}
}

// TestForgetRefusesWhatTheInventoryDecides: listed and ignored hosts are
// the config's to change; an unknown host is an error naming the rule.
func TestForgetRefusesWhatTheInventoryDecides(t *testing.T) {
	o := inventory()
	o.Ignore = []string{"lab"}
	m := mustModel(t, o)
	observe(m, cbLine("lab-cb", t0, 1, 1))
	for host, want := range map[string]string{
		"cms-wb1":  "listed in inventory.webbridges as wb1",
		"cms-cb1":  "listed in inventory.callbridges as cb1",
		"lab":      "inventory.ignore",
		"lab-cb.":  "no host lab-cb. is known",
		"nonesuch": "no host nonesuch is known",
	} {
		if _, err := m.Forget(host, t0); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Forget(%s) = %v, want an error containing %q", host, err, want)
		}
	}
	if d, err := m.Forget("lab-cb", t0); err != nil || len(d) != 0 {
		t.Errorf("Forget(lab-cb) = %v, %v; want its unlisted record cleared, no departure", d, err)
	}
	if s := m.Snapshot(t0); len(s.Unlisted) != 0 {
		t.Errorf("unlisted after forget = %+v", s.Unlisted)
	}
}

// TestStrayFloodCannotHideAnUnlistedCallBridge: a flood of made-up Web
// Bridge hosts fills the table of unlisted hosts; an unlisted Call Bridge
// that then reports still withholds proofs, and the flood cannot push it
// out while it reports.
func TestStrayFloodCannotHideAnUnlistedCallBridge(t *testing.T) {
	o := inventory()
	o.MaxDiscovered = 4
	m := mustModel(t, o)
	for i := range 4 {
		observe(m, wbLine(fmt.Sprintf("fake%d", i), t0, 1))
	}
	if got := observe(m, cbLine("lab-cb", t0.Add(time.Minute), 9, 9)); got != Unlisted {
		t.Fatalf("lab-cb after the flood: outcome %d, want Unlisted", got)
	}
	for i := 4; i < 12; i++ {
		observe(m, wbLine(fmt.Sprintf("fake%d", i), t0.Add(2*time.Minute), 1))
	}
	s := m.Snapshot(t0.Add(3 * time.Minute))
	if len(s.Withheld) != 1 || s.Withheld[0] != "lab-cb" || s.Leak.Valid {
		t.Errorf("withheld %v, valid %v; want lab-cb withholding proofs", s.Withheld, s.Leak.Valid)
	}
	if len(s.Unlisted) != 4 {
		t.Errorf("%d unlisted records, want the cap of 4", len(s.Unlisted))
	}
}

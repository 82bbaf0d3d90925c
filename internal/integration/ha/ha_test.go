package ha

import (
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/mmp/mmptest"
)

// TestLeaderKilledMidRestart: the leader is killed with SIGKILL while the
// MMP is still running its restart. The standby takes over within the lease
// TTL, finds the in-flight record, counts the restart as interrupted, and
// does not repeat it inside the cooldown although the leak stays proven.
func TestLeaderKilledMidRestart(t *testing.T) {
	p := newPair(t)
	p.mmp.SetFaults(mmptest.Faults{Delay: time.Minute}) // the command hangs
	p.feeder.Start(healthy, feedPeriod)
	for _, in := range p.nodes {
		in.start()
	}
	l := p.leader(20 * time.Second)
	standby := p.other(l)
	harness.Eventually(t, 10*time.Second, "the standby to name the leader", func() bool {
		return standby.haState() == "standby; the leader is "+l.name
	})
	if !strings.Contains(standby.page(), "standby; the leader is "+l.name) {
		t.Error("standby's page does not name the leader")
	}

	p.feeder.Sessions.Store(leaking)
	harness.Eventually(t, 20*time.Second, "the restart command at the MMP", func() bool { return len(p.restarts()) == 1 })
	l.kill()
	killed := time.Now()
	harness.Eventually(t, leaseTTL+5*time.Second, "the standby to take over", func() bool { return standby.isLeader() })
	t.Logf("standby acting %s after the leader's SIGKILL (lease %s)", time.Since(killed).Round(time.Millisecond), leaseTTL)
	harness.Eventually(t, 5*time.Second, "the interrupted restart counted", func() bool {
		v, ok := standby.metric(`leakwatch_restarts_total{cms_cluster="test",result="interrupted",webbridge="wb1"}`)
		return ok && v == 1
	})
	if len(standby.events(audit.EventRestartInterrupted)) != 1 {
		t.Error("the new leader did not audit the interrupted restart")
	}
	// The leak is still proven (the restart never completed), yet nothing
	// is sent again inside the cooldown.
	p.holds(3*leaseTTL, "a single restart command", func() bool { return len(p.restarts()) == 1 })
}

// TestPausedLeaderSendsNothing: the leader is stopped with SIGSTOP for
// longer than the lease. The standby takes over and restarts the leaking
// bridge once; the old leader, resumed, catches up on the same leak and
// sends nothing.
func TestPausedLeaderSendsNothing(t *testing.T) {
	p := newPair(t)
	p.feeder.Start(healthy, feedPeriod)
	for _, in := range p.nodes {
		in.start()
	}
	old := p.leader(20 * time.Second)
	next := p.other(old)
	old.pause()
	t.Cleanup(old.resume)
	harness.Eventually(t, 2*leaseTTL+5*time.Second, "the standby to take over", func() bool { return next.isLeader() })
	p.feeder.Sessions.Store(leaking)
	harness.Eventually(t, 20*time.Second, "the new leader's restart", func() bool { return len(p.restarts()) == 1 })
	// Feed the leak again, as if the restart had not helped: the old
	// leader, resumed, reads it, and must still send nothing.
	p.mmp.SetFaults(mmptest.Faults{})
	p.feeder.Sessions.Store(leaking)
	old.resume()
	harness.Eventually(t, 10*time.Second, "the old leader to know it is a standby", func() bool {
		return old.haState() == "standby; the leader is "+next.name
	})
	p.holds(3*leaseTTL, "one restart, by the new leader", func() bool {
		return len(p.restarts()) == 1 && !old.isLeader()
	})
	if len(old.events(audit.EventRestartStarted)) != 0 {
		t.Error("the resumed old leader began a restart")
	}
}

// TestEtcdDownNobodyActs: with etcd gone no instance acts, the page and
// metrics say why, and acting resumes when etcd returns.
func TestEtcdDownNobodyActs(t *testing.T) {
	p := newPair(t)
	p.feeder.Start(healthy, feedPeriod)
	for _, in := range p.nodes {
		in.start()
	}
	p.leader(20 * time.Second)
	p.etcd.Stop()
	for _, in := range p.nodes {
		harness.Eventually(t, leaseTTL+5*time.Second, in.name+" to say etcd is down", func() bool {
			up, ok1 := in.metric(upSeries)
			lead, ok2 := in.metric(leaderSeries)
			return ok1 && ok2 && up == 0 && lead == 0
		})
		if s := in.haState(); !strings.HasPrefix(s, "not acting: etcd unreachable since") {
			t.Errorf("%s says %q", in.name, s)
		}
		if !strings.Contains(in.page(), "NOT ACTING") {
			t.Errorf("%s's page does not say it is not acting", in.name)
		}
	}
	p.feeder.Sessions.Store(leaking)
	p.holds(2*leaseTTL, "no restart while etcd is down", func() bool { return len(p.restarts()) == 0 })
	p.etcd.Restart()
	l := p.leader(4*leaseTTL + 10*time.Second)
	harness.Eventually(t, 20*time.Second, "the restart once etcd is back", func() bool { return len(p.restarts()) == 1 })
	if len(l.events(audit.EventRestartStarted)) != 1 {
		t.Errorf("the restart was not begun by the leader %s", l.name)
	}
	p.holds(2*leaseTTL, "a single restart", func() bool { return len(p.restarts()) == 1 })
}

package sshfaults

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
	"github.com/leakwatch/leakwatch/internal/policy"
)

// TestRestartFault drives one restart of a provably leaking wb1 into each
// SSH fault. Every fault must end the same way: the restart is recorded as
// failed, never ok; the audit log says why (the fault's class); the breaker
// trips and raises the alert metric; no second attempt follows although the
// leak stays proven; and leakwatch keeps running.
func TestRestartFault(t *testing.T) {
	tests := []struct {
		name string
		// setup returns leakwatch's SSH settings and the stand-in MMP
		// (nil when there is no sshd to ask).
		setup func(t *testing.T) (settings, *standIn)
		// class is the mmp.Classify label the audit must show.
		class string
		// ran is how many commands the stand-in must record: 0 when
		// leakwatch must not get as far as running one.
		ran int
		// output, if set, must appear in the audited command output.
		output string
	}{
		{
			name: "connection refused",
			setup: func(t *testing.T) (settings, *standIn) {
				return settings{mmpAddress: fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))}, nil
			},
			class: "connect",
		},
		{
			name: "dial timeout",
			setup: func(t *testing.T) (settings, *standIn) {
				return settings{mmpAddress: silentListener(t), dialTimeout: time.Second}, nil
			},
			class: "timeout",
		},
		{
			// Password authentication against a real sshd needs a real
			// account password; a key that is not the authorized one
			// exercises the same refusal.
			name: "auth failure",
			setup: func(t *testing.T) (settings, *standIn) {
				s := startStandIn(t, "ok")
				_, wrongKey := newKeyFile(t, t.TempDir(), "not_authorized")
				return settings{mmpAddress: s.addr, mmpUser: s.user, keyFile: wrongKey, knownHosts: s.knownHostsLine(s.hostKey)}, s
			},
			class: "auth",
		},
		{
			name: "unknown host key",
			setup: func(t *testing.T) (settings, *standIn) {
				s := startStandIn(t, "ok")
				// known_hosts trusts this key, but for another host only.
				other := knownHostsLineFor("192.0.2.7:22", s.hostKey)
				return settings{mmpAddress: s.addr, mmpUser: s.user, keyFile: s.keyFile, knownHosts: other}, s
			},
			class: "host_key_unknown",
		},
		{
			name: "changed host key",
			setup: func(t *testing.T) (settings, *standIn) {
				s := startStandIn(t, "ok")
				impostor, _ := newKeyFile(t, t.TempDir(), "impostor")
				return settings{mmpAddress: s.addr, mmpUser: s.user, keyFile: s.keyFile, knownHosts: s.knownHostsLine(impostor)}, s
			},
			class: "host_key_changed",
		},
		{
			name: "command hangs",
			setup: func(t *testing.T) (settings, *standIn) {
				s := startStandIn(t, "hang")
				return settings{mmpAddress: s.addr, mmpUser: s.user, keyFile: s.keyFile, knownHosts: s.knownHostsLine(s.hostKey),
					commandTimeout: 2 * time.Second}, s
			},
			class: "command_timeout",
			ran:   1,
		},
		{
			name: "MMP prints FAILURE",
			setup: func(t *testing.T) (settings, *standIn) {
				s := startStandIn(t, "failure")
				return settings{mmpAddress: s.addr, mmpUser: s.user, keyFile: s.keyFile, knownHosts: s.knownHostsLine(s.hostKey)}, s
			},
			class:  "failure_output",
			ran:    1,
			output: "FAILURE: webbridge is not configured",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, mmp := tt.setup(t)
			f := newFixture(t, set)
			f.feeder.Start(leaking, feedPeriod)
			f.start()

			started := f.waitEvent(30*time.Second, audit.EventRestartStarted, nil)
			if started.Inputs == nil || started.Inputs.LeakBound != leaking-1 {
				t.Errorf("restart_started inputs = %+v, want a proven leak of %d", started.Inputs, leaking-1)
			}
			// A fault before the command went out (connect, handshake,
			// host key, authentication) is not_sent: it trips the breaker
			// but spends no budget. One after it is failed.
			wantResult := "not_sent"
			if tt.ran > 0 {
				wantResult = "failed"
			}
			finished := f.waitEvent(30*time.Second, audit.EventRestartFinished, nil)
			if finished.Result != wantResult {
				t.Fatalf("restart_finished result %q, want %s: %+v", finished.Result, wantResult, finished)
			}
			if !strings.Contains(finished.Error, "["+tt.class+"]") {
				t.Errorf("restart_finished error %q does not name the fault [%s]", finished.Error, tt.class)
			}
			if tt.output != "" && !strings.Contains(finished.Output, tt.output) {
				t.Errorf("restart_finished output %q lacks %q", finished.Output, tt.output)
			}
			trip := f.waitEvent(10*time.Second, audit.EventBreakerTripped, nil)
			if trip.Reason != policy.TripRestartFailed || !strings.Contains(trip.Detail, "["+tt.class+"]") {
				t.Errorf("breaker_tripped = reason %q detail %q, want %s naming [%s]", trip.Reason, trip.Detail, policy.TripRestartFailed, tt.class)
			}

			f.waitMetric(10*time.Second, breakerTripped, 1)
			f.waitMetric(10*time.Second, restartsWith(wantResult), 1)
			f.waitMetric(10*time.Second, blockedByBreaker, 1)
			if v, ok := f.metric(restartsOK); ok && v != 0 {
				t.Errorf("%s = %v, want 0", restartsOK, v)
			}

			// The leak stays proven (the feeder keeps reporting it), yet the
			// tripped breaker must hold every further attempt.
			f.waitEvent(10*time.Second, audit.EventDecision, func(e audit.Entry) bool {
				return e.Reason == string(policy.ReasonBreakerTripped) && e.Decision == string(policy.VerdictBlocked)
			})
			f.holds(3*time.Second, "a single restart attempt", func() bool {
				return len(f.events(audit.EventRestartStarted)) == 1
			})
			for _, e := range f.audit() {
				if e.Event == audit.EventRestartFinished && e.Result == "ok" {
					t.Errorf("a restart was recorded as ok: %+v", e)
				}
			}
			if mmp != nil {
				// A timed-out command may be recorded after leakwatch gave up.
				harness.Eventually(t, 10*time.Second, fmt.Sprintf("%d commands recorded by the stand-in", tt.ran), func() bool {
					return len(mmp.commands(t)) >= tt.ran
				})
				if cmds := mmp.commands(t); len(cmds) != tt.ran {
					t.Errorf("the stand-in MMP ran %q, want %d command(s)", cmds, tt.ran)
				} else if tt.ran == 1 && cmds[0] != "webbridge restart" {
					t.Errorf("the stand-in MMP ran %q, want webbridge restart", cmds[0])
				}
			}
			f.healthy()
		})
	}
}

func knownHostsLineFor(addr string, key ssh.PublicKey) string {
	s := &standIn{addr: addr}
	return s.knownHostsLine(key)
}

// TestBridgeNeverRecovers restarts wb1 successfully, but its stats keep
// showing the leak: after recover_timeout the breaker trips with reason
// not_recovered, and no second restart is sent.
func TestBridgeNeverRecovers(t *testing.T) {
	mmp := startStandIn(t, "ok")
	const recoverTimeout = 8 * time.Second
	f := newFixture(t, settings{mmpAddress: mmp.addr, mmpUser: mmp.user, keyFile: mmp.keyFile,
		knownHosts: mmp.knownHostsLine(mmp.hostKey), recoverTimeout: recoverTimeout})
	f.feeder.Start(leaking, feedPeriod)
	f.start()

	finished := f.waitEvent(30*time.Second, audit.EventRestartFinished, nil)
	if finished.Result != "ok" || !strings.Contains(finished.Output, "SUCCESS: webbridge restarted") {
		t.Fatalf("restart_finished = %+v, want ok with the MMP's output", finished)
	}
	f.waitMetric(5*time.Second, restartsOK, 1)
	f.waitEvent(5*time.Second, audit.EventDecision, func(e audit.Entry) bool {
		return e.Reason == string(policy.ReasonRecovering)
	})

	trip := f.waitEvent(recoverTimeout+15*time.Second, audit.EventBreakerTripped, nil)
	if trip.Reason != policy.TripNotRecovered {
		t.Errorf("breaker_tripped reason %q, want %s (detail %q)", trip.Reason, policy.TripNotRecovered, trip.Detail)
	}
	if trip.Time.Sub(finished.Time) < recoverTimeout {
		t.Errorf("breaker tripped %v after the restart, before recover_timeout %v", trip.Time.Sub(finished.Time), recoverTimeout)
	}
	if trip.Inputs == nil || trip.Inputs.Sessions != leaking {
		t.Errorf("breaker_tripped inputs = %+v, want the leaking sessions (%d) that were still reported", trip.Inputs, leaking)
	}
	if len(f.events(audit.EventRecovered)) != 0 {
		t.Errorf("audit records a recovery the stats never showed")
	}
	f.waitMetric(5*time.Second, breakerTripped, 1)
	f.waitMetric(5*time.Second, blockedByBreaker, 1)

	f.holds(3*time.Second, "a single restart", func() bool {
		return len(f.events(audit.EventRestartStarted)) == 1 && len(mmp.commands(t)) == 1
	})
	if v, ok := f.metric(restartsFailed); ok && v != 0 {
		t.Errorf("%s = %v, want 0: the restart itself worked", restartsFailed, v)
	}
	f.healthy()
}

// TestKilledMidRestartDoesNotRepeat kills leakwatch with SIGKILL while the
// MMP command runs and starts it again on the same state directory. The
// restart in flight must be counted (restart_interrupted), and although the
// bridge recovers and then proves a leak again with sustain 0s, no second
// restart may be sent inside the cooldown.
func TestKilledMidRestartDoesNotRepeat(t *testing.T) {
	mmp := startStandIn(t, "hang")
	f := newFixture(t, settings{mmpAddress: mmp.addr, mmpUser: mmp.user, keyFile: mmp.keyFile,
		knownHosts: mmp.knownHostsLine(mmp.hostKey), commandTimeout: 45 * time.Second})
	f.feeder.Start(leaking, feedPeriod)
	first := f.start()

	f.waitEvent(30*time.Second, audit.EventRestartStarted, nil)
	harness.Eventually(t, 15*time.Second, "the stand-in MMP running the restart", func() bool {
		return len(mmp.commands(t)) == 1
	})
	if len(f.events(audit.EventRestartFinished)) != 0 {
		t.Fatal("the restart finished before leakwatch could be killed mid-command")
	}
	first.Kill() // SIGKILL to its process group

	f.start()
	interrupted := f.waitEvent(10*time.Second, audit.EventRestartInterrupted, nil)
	if interrupted.Result != "interrupted" {
		t.Errorf("restart_interrupted result %q, want interrupted", interrupted.Result)
	}
	f.waitMetric(5*time.Second, restartsInterrupted, 1)

	// The bridge comes back, then proves a leak again: only the cooldown
	// stands between it and a second restart.
	f.feeder.Set(recovered)
	f.waitEvent(15*time.Second, audit.EventRecovered, nil)
	f.feeder.Set(leaking)
	cool := f.waitEvent(15*time.Second, audit.EventDecision, func(e audit.Entry) bool {
		return e.Reason == string(policy.ReasonCooldown)
	})
	if cool.Decision != string(policy.VerdictBlocked) {
		t.Errorf("cooldown decision %q, want %s", cool.Decision, policy.VerdictBlocked)
	}
	f.waitMetric(5*time.Second, blockedByCooldown, 1)
	f.holds(3*time.Second, "exactly one restart sent", func() bool {
		return len(f.events(audit.EventRestartStarted)) == 1 && len(mmp.commands(t)) == 1
	})
	for _, e := range f.audit() {
		if e.Event == audit.EventRestartFinished {
			t.Errorf("a restart finished although the only one was interrupted: %+v", e)
		}
	}
	f.healthy()
}

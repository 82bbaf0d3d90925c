package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ledger"
)

// planConfig is testConfig with the forecast plan and a Sunday window.
func planConfig(t *testing.T) Config {
	cfg := testConfig(t)
	cfg.Plan = PlanForecast
	cfg.ForecastMargin = 24 * time.Hour
	cfg.Windows = []Window{MustParseWindow("Sun 02:30-04:30")}
	cfg.Location = time.UTC
	return cfg
}

// planNow is Sunday 2025-06-08 03:00 UTC, inside the window; the next
// window after it ends Sunday 2025-06-15 04:30.
var planNow = time.Date(2025, 6, 8, 3, 0, 0, 0, time.UTC)

// decideWithForecast evaluates one bridge with the forecast f, its leak
// proven at or above threshold for more than sustain.
func decideWithForecast(t *testing.T, cfg Config, f cluster.Forecast, now time.Time) Decision {
	t.Helper()
	e := NewEngine(cfg)
	led := ledger.NewMemory()
	e.Evaluate(testSnapshot(now.Add(-2*time.Hour)), led, now.Add(-2*time.Hour))
	snap := testSnapshot(now)
	snap.WebBridges[0].Forecast = f
	ds := e.Evaluate(snap, led, now)
	return ds[0]
}

func TestForecastPlan(t *testing.T) {
	known := func(full time.Time) cluster.Forecast {
		return cluster.Forecast{Known: true, At: planNow, Rate: 0.2, Leak: 40, RealPeak: 50, RealPeakKnown: true, Full: full}
	}
	for _, tc := range []struct {
		name    string
		plan    Plan
		f       cluster.Forecast
		now     time.Time
		want    Reason
		verdict Verdict
		summary string
	}{
		{name: "full in 23 days: hold", plan: PlanForecast, f: known(planNow.Add(23 * 24 * time.Hour)), now: planNow,
			want: ReasonForecastNotDue, verdict: VerdictHold,
			summary: "hold: forecast full in 23 days (Tue 2025-07-01 03:00); next check in the window of Sun 02:30"},
		{name: "full Tue 14:00: restart now", plan: PlanForecast, f: known(time.Date(2025, 6, 10, 14, 0, 0, 0, time.UTC)), now: planNow,
			want: ReasonNone, verdict: VerdictRestart,
			summary: "restart: forecast full Tue 14:00, before the end of the next window Sun 2025-06-15 04:30 (margin 24h)"},
		{name: "full inside the margin after the next window: restart now", plan: PlanForecast, f: known(time.Date(2025, 6, 16, 2, 0, 0, 0, time.UTC)), now: planNow,
			want: ReasonNone, verdict: VerdictRestart, summary: "restart: forecast full Mon 2025-06-16 02:00"},
		{name: "full past the margin: hold", plan: PlanForecast, f: known(time.Date(2025, 6, 16, 5, 0, 0, 0, time.UTC)), now: planNow,
			want: ReasonForecastNotDue, verdict: VerdictHold, summary: "hold: forecast full in 8 days"},
		{name: "not growing: hold", plan: PlanForecast, f: cluster.Forecast{Known: true, At: planNow, Reason: "not growing: proven leak stayed at 40 over 3 days"}, now: planNow,
			want: ReasonForecastNotDue, verdict: VerdictHold, summary: "hold: forecast: leak not growing (not growing: proven leak stayed at 40"},
		{name: "unknown forecast: the threshold rule decides", plan: PlanForecast,
			f:   cluster.Forecast{At: planNow, NeedMore: 14 * time.Hour, Reason: "unknown: 34h of proven history since 2025-06-06 17:00 UTC; needs 14h more"},
			now: planNow, want: ReasonNone, verdict: VerdictRestart,
			summary: "restart: forecast unknown: 34h of proven history since 2025-06-06 17:00 UTC; needs 14h more; threshold rule: proven leak 40 ≥ 20 since"},
		{name: "threshold plan ignores the forecast", plan: PlanThreshold, f: known(planNow.Add(23 * 24 * time.Hour)), now: planNow,
			want: ReasonNone, verdict: VerdictRestart, summary: "restart: proven leak 40 ≥ 20 since"},
		{name: "outside a window: blocked, the rule still said why", plan: PlanForecast, f: known(time.Date(2025, 6, 10, 14, 0, 0, 0, time.UTC)), now: planNow.Add(-3 * time.Hour),
			want: ReasonOutsideWindow, verdict: VerdictBlocked, summary: "blocked: outside window (next: Sun 2025-06-08 02:30 UTC)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := planConfig(t)
			cfg.Plan = tc.plan
			d := decideWithForecast(t, cfg, tc.f, tc.now)
			if d.Reason != tc.want || VerdictOf(d) != tc.verdict {
				t.Fatalf("reason %s, verdict %s (%s); want %s, %s", d.Reason, VerdictOf(d), d.Detail, tc.want, tc.verdict)
			}
			if got := Summary(d); !strings.HasPrefix(got, tc.summary) {
				t.Errorf("summary %q\nwant prefix %q", got, tc.summary)
			}
		})
	}
}

// The threshold stays the least leak worth a restart under the forecast plan.
func TestForecastPlanKeepsThresholdAsFloor(t *testing.T) {
	cfg := planConfig(t)
	e := NewEngine(cfg)
	snap := testSnapshot(planNow)
	snap.WebBridges[0].LeakLowerBound = 5
	snap.WebBridges[0].Forecast = cluster.Forecast{Known: true, At: planNow, Rate: 3, Leak: 5, RealPeak: 140, RealPeakKnown: true, Full: planNow.Add(time.Hour)}
	d := e.Evaluate(snap, ledger.NewMemory(), planNow)[0]
	if d.Reason != ReasonLeakBelowThreshold || !strings.Contains(d.Detail, "forecast full") || !strings.Contains(d.Detail, "but proven leak 5 below threshold 20") {
		t.Errorf("decision %s: %s; want a hold naming both rules", d.Reason, d.Detail)
	}
}

func TestParsePlan(t *testing.T) {
	for in, want := range map[string]Plan{"": PlanThreshold, "threshold": PlanThreshold, "forecast": PlanForecast} {
		if got, err := ParsePlan(in); err != nil || got != want {
			t.Errorf("ParsePlan(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParsePlan("predict"); err == nil || !strings.Contains(err.Error(), "plan:") {
		t.Errorf("ParsePlan(predict) = %v, want an error naming the key", err)
	}
	cfg := DefaultConfig()
	cfg.ForecastMargin = -time.Hour
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "forecast_margin") {
		t.Errorf("negative margin: %v", err)
	}
}

// Every reason has a verdict, and only none and observe_mode mean a restart.
func TestEveryReasonHasOneVerdict(t *testing.T) {
	for _, r := range Reasons {
		v := ReasonVerdict(r)
		if (v == VerdictRestart) != (r == ReasonNone) || (v == VerdictWouldRestart) != (r == ReasonObserveMode) {
			t.Errorf("reason %s has verdict %s", r, v)
		}
	}
}

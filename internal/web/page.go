package web

import (
	"embed"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/policy"
	"github.com/leakwatch/leakwatch/internal/status"
)

//go:embed templates/*.html
var templateFS embed.FS

var pageTemplate = template.Must(template.ParseFS(templateFS, "templates/status.html"))

// timeLayout is how the page prints times, in the State's zone.
const timeLayout = "2006-01-02 15:04:05 MST"

// page is what templates/status.html renders. Every value is ready to print:
// the template makes no decision beyond showing or hiding a block.
type page struct {
	Now         string
	MetricsPath string
	Mode        string
	ModeText    string
	ModeClass   string
	WhatIf      bool
	// HARole, HA and HAClass are the HA line; HA is "" without ha.
	HARole, HA, HAClass string
	Ready               bool
	Started             string
	ConfigFile          string
	Loaded              string
	InFlight            string
	Cluster             clusterView
	WebBridges          []webBridgeRow
	CallBridges         []callBridgeRow
	Hosts               []hostRow
	Audit               []auditRow
	AuditFile           string
	AuditError          string
	Inputs              []inputRow
	Counters            []counterRow
	// InputErrors is true when some input has a non-zero error counter.
	InputErrors bool
	Policy      []policyRow
	HasPolicy   bool
}

type clusterView struct {
	Sessions, CMAActive, CMAPeak int64
	Valid                        bool
	// Estimate and Bound are numbers or "unknown".
	Estimate, Bound string
	// EstimateClass and BoundClass colour the figures by size: a large
	// leak is amber or red, never green.
	EstimateClass, BoundClass string
	// Why says in words why the estimate is valid or not.
	Why string
}

type webBridgeRow struct {
	Name, Hosts string
	// Sessions is "120 / 149" or "—"; Pct is the bar's width in percent.
	Sessions string
	HasBar   bool
	Pct      int
	BarClass string
	Leak     string
	Age      string
	AgeClass string
	Verdict  string
	Class    string
	// LastRestart is "last restart 5m ago: ok", or "" if none on record.
	LastRestart string
	// LeakClass colours the proven leak by size: never green when large.
	LeakClass string
	// Forecast says where the leak is heading, in words.
	Forecast, ForecastClass string
	// Charts are inline SVGs: the last 24 hours and the last 7 days.
	Charts []template.HTML
}

type callBridgeRow struct {
	Name, Hosts, CMA, CallLegs, Age, AgeClass string
}

type auditRow struct {
	Time, Age, Event, Bridge, Text, Class string
}

type inputRow struct {
	Source, Detail, Errors string
	Up                     bool
}

type counterRow struct {
	Name  string
	Value uint64
}

// buildPage turns a State and the audit tail (newest first) into the page.
func buildPage(st status.State, entries []audit.Entry, auditFile string, auditErr error) page {
	now, loc := st.Now, st.Now.Location()
	p := page{
		Now:        st.Now.Format(timeLayout),
		Mode:       strings.ToUpper(string(st.Policy.Mode)),
		WhatIf:     st.Policy.WhatIf,
		Ready:      st.Ready,
		Started:    when(st.Started, now),
		ConfigFile: st.ConfigFile,
		Loaded:     when(st.ConfigLoaded, now),
		Cluster:    clusterOf(st),
		AuditFile:  auditFile,
	}
	switch st.Policy.Mode {
	case policy.ModeEnforce:
		p.ModeText, p.ModeClass = "leakwatch restarts a Web Bridge when every guard holds", classAct
	case policy.ModeObserve:
		p.ModeText, p.ModeClass = "leakwatch never restarts anything; it shows what it would do", classInfo
	default:
		p.Mode, p.ModeText, p.ModeClass = "UNKNOWN", "the restart policy has not reported its mode", classMuted
	}
	p.HARole, p.HA, p.HAClass = haBanner(st.HA)
	if f := st.Policy.InFlight; f != nil {
		p.InFlight = fmt.Sprintf("Restart of %s in progress since %s (%s).", f.Bridge, f.Started.In(loc).Format("15:04:05"), age(now, f.Started))
	}
	for _, b := range mergeBridges(st) {
		p.WebBridges = append(p.WebBridges, webBridgeRowOf(b, st))
	}
	for _, cb := range st.Cluster.CallBridges {
		r := callBridgeRow{Name: cb.Name, Hosts: hostsText(cb.Name, cb.Hosts), CMA: "—", CallLegs: "—"}
		r.Age, r.AgeClass = reportAge(cb.Seen, cb.Stale, cb.LastSeen, now)
		if cb.Seen {
			r.CMA = fmt.Sprintf("%d / %d", cb.Sample.CMA.Current, cb.Sample.CMA.Peak)
			if cb.Sample.HasCallLegs {
				r.CallLegs = fmt.Sprintf("%d / %d", cb.Sample.CallLegs.Current, cb.Sample.CallLegs.Peak)
			}
		}
		p.CallBridges = append(p.CallBridges, r)
	}
	p.Hosts = hostRowsOf(st)
	for _, e := range entries {
		p.Audit = append(p.Audit, auditRowOf(e, now, loc))
	}
	if auditErr != nil {
		p.AuditError = auditErr.Error()
	}
	for _, in := range st.Inputs {
		r := inputRow{Source: in.Source, Up: in.Up, Detail: in.Detail, Errors: countsText(in.Errors)}
		p.InputErrors = p.InputErrors || r.Errors != ""
		p.Inputs = append(p.Inputs, r)
	}
	p.Counters = countersOf(st)
	if st.PolicyConfig.Location != nil || st.PolicyConfig.Mode != "" {
		p.HasPolicy = true
		p.Policy = policyRows(st.PolicyConfig, now)
	}
	return p
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// hostsText lists a component's hostnames, or "" when it logs under its
// own name only.
func hostsText(name string, hosts []string) string {
	if len(hosts) == 0 || len(hosts) == 1 && strings.EqualFold(hosts[0], name) {
		return ""
	}
	return strings.Join(hosts, ", ")
}

func clusterOf(st status.State) clusterView {
	l := st.Cluster.Leak
	c := clusterView{Sessions: l.Sessions, CMAActive: l.CMAActive, CMAPeak: l.CMAPeak, Valid: l.Valid, Estimate: "unknown", Bound: "unknown"}
	if !l.Valid {
		c.Why = "unknown: " + l.Reason
		if l.Reason == "" {
			c.Why = "unknown: not every component has reported"
		}
		return c
	}
	c.Estimate = strconv.FormatInt(l.Estimate, 10)
	c.Why = "valid: every Web Bridge and Call Bridge reported recently"
	threshold := st.PolicyConfig.Threshold
	if threshold <= 0 {
		threshold = policy.DefaultConfig().Threshold
	}
	var limits int64
	for _, wb := range st.Cluster.WebBridges {
		limits += wb.Limit
	}
	c.EstimateClass = or(leakClass(l.Estimate, threshold, limits), classOK)
	if l.BoundKnown {
		c.Bound = strconv.FormatInt(l.LowerBound, 10)
		c.BoundClass = or(leakClass(l.LowerBound, threshold, limits), classOK)
	} else {
		c.Bound = "unknown (no Web Bridge sample inside every Call Bridge's report period yet)"
	}
	return c
}

func webBridgeRowOf(b bridge, st status.State) webBridgeRow {
	wb := b.WebBridge
	r := webBridgeRow{Name: b.Name, Hosts: hostsText(b.Name, wb.Hosts), Sessions: "—", Leak: "unknown"}
	r.Verdict, r.Class = verdict(b.Policy, st.Policy.InFlight, st.Now.Location())
	if last := b.Policy.LastRestart; !last.Started.IsZero() {
		result := string(last.Result)
		if result == "" {
			result = "in progress"
		}
		r.LastRestart = fmt.Sprintf("last restart %s: %s", age(st.Now, last.Started), result)
	}
	if !b.InCluster {
		r.Age, r.AgeClass = "not in the cluster any more", classMuted
		if b.Policy.Reason == "" && !b.Policy.Breaker.Tripped {
			r.Verdict, r.Class = "not monitored: kept only in the restart record", classMuted
		}
		return r
	}
	r.Age, r.AgeClass = reportAge(wb.Seen, wb.Stale, wb.LastSeen, st.Now)
	if wb.Seen {
		r.Sessions = fmt.Sprintf("%d / %d", wb.Sessions, wb.Limit)
		if wb.Limit > 0 {
			r.HasBar = true
			r.Pct = int(min(100, max(0, wb.Sessions*100/wb.Limit)))
			r.BarClass = barClass(wb.Sessions, wb.Limit, wb.Stale)
		}
	}
	threshold := st.PolicyConfig.Threshold
	if threshold <= 0 {
		threshold = policy.DefaultConfig().Threshold
	}
	if wb.LeakKnown {
		r.Leak = fmt.Sprintf("≥ %d", wb.LeakLowerBound)
		r.LeakClass = leakClass(wb.LeakLowerBound, threshold, wb.Limit)
		if r.Class == classOK && r.LeakClass != "" {
			r.Class = r.LeakClass // held, but a large leak is never green
		}
	}
	r.Forecast, r.ForecastClass = forecastText(wb.Forecast, wb.Limit, st.Now)
	if st.History != nil && wb.Seen {
		h := st.History(wb.Name, st.Now.Add(-chartWeek.past), st.Now)
		day := h[max(0, len(h)-int(chartDay.past/cluster.HistoryStep)-1):]
		r.Charts = []template.HTML{
			chartSVG(wb.Name, day, wb.Forecast, wb.Limit, st.Now, chartDay),
			chartSVG(wb.Name, h, wb.Forecast, wb.Limit, st.Now, chartWeek),
		}
	}
	return r
}

// leakClass: amber from the threshold, red from half the limit.
func leakClass(leak, threshold, limit int64) string {
	switch {
	case limit > 0 && leak*2 >= limit:
		return classCrit
	case leak >= threshold:
		return classWarn
	}
	return ""
}

// forecastText says where the leak is heading.
func forecastText(f cluster.Forecast, limit int64, now time.Time) (string, string) {
	loc := now.Location()
	switch {
	case f.At.IsZero():
		return "", ""
	case !f.Known:
		return "forecast " + f.Reason, classMuted
	case !f.Growing():
		return fmt.Sprintf("forecast: not growing; usual real peak %d of %d", f.RealPeak, limit), classOK
	case !f.Full.After(now):
		return fmt.Sprintf("forecast: full now (leak %.0f + usual real peak %d ≥ %d)", f.Leak, f.RealPeak, limit), classCrit
	}
	d := f.Full.Sub(now)
	class := classOK
	switch {
	case d < 3*24*time.Hour:
		class = classCrit
	case d < 14*24*time.Hour:
		class = classWarn
	}
	return fmt.Sprintf("forecast full %s (in %s): leak %.0f growing %.1f/day + usual real peak %d",
		f.Full.In(loc).Format("Mon 2006-01-02 15:04"), span(d), f.Leak, f.Rate*24, f.RealPeak), class
}

// barClass colours a session bar by the headroom left: red from 90 % of
// the limit, amber from 75 %, grey when the figure is stale.
func barClass(sessions, limit int64, stale bool) string {
	switch {
	case stale:
		return classMuted
	case sessions*10 >= limit*9:
		return classCrit
	case sessions*4 >= limit*3:
		return classWarn
	}
	return classOK
}

// reportAge says how old a component's last report is.
func reportAge(seen, stale bool, last, now time.Time) (string, string) {
	switch {
	case !seen:
		return "never reported", classWarn
	case stale:
		return "stale: " + age(now, last), classWarn
	}
	return age(now, last), classOK
}

func auditRowOf(e audit.Entry, now time.Time, loc *time.Location) auditRow {
	r := auditRow{Time: e.Time.In(loc).Format(timeLayout), Age: age(now, e.Time),
		Event: strings.ReplaceAll(string(e.Event), "_", " "), Bridge: e.Bridge}
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	switch e.Event {
	case audit.EventDecision:
		// The policy's detail usually starts with its verdict already
		// ("restart: proven leak 30 ..."): don't say it twice.
		if d := strings.ReplaceAll(e.Decision, "_", " "); !strings.HasPrefix(e.Detail, d+":") {
			add(d)
		}
		add(e.Detail)
	case audit.EventRestartFinished, audit.EventRestartInterrupted:
		add("result " + e.Result)
		add(e.Detail)
		add(e.Error)
	default:
		if e.Reason != string(policy.ReasonNone) {
			add(e.Reason)
		}
		add(e.Detail)
		add(e.Error)
	}
	if e.Forced {
		add("forced")
	}
	if e.Emergency {
		add("emergency")
	}
	r.Text = strings.Join(parts, ": ")
	switch {
	case e.Event == audit.EventBreakerTripped || e.Event == audit.EventForceRefused || e.Event == audit.EventRestartRefused || e.Result == "failed" || e.Result == "interrupted":
		r.Class = classCrit
	case e.Event == audit.EventRestartStarted || e.Event == audit.EventRestartFinished || e.Decision == "restart":
		r.Class = classAct
	case e.Event == audit.EventRecovered:
		r.Class = classOK
	}
	return r
}

func countersOf(st status.State) []counterRow {
	var out []counterRow
	add := func(prefix string, m map[string]uint64) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			out = append(out, counterRow{prefix + k, m[k]})
		}
	}
	add("lines read from ", st.Lines)
	add("stats lines: ", withKinds(st.Stats))
	// Error counters only when something went wrong.
	bad := map[string]uint64{}
	for k, v := range withKinds(st.Malformed) {
		if v > 0 {
			bad[k] = v
		}
	}
	add("malformed stats lines: ", bad)
	if n := st.Cluster.Dropped; n > 0 {
		out = append(out, counterRow{"lines dropped (discovery cap)", n})
	}
	if n := st.Policy.AuditErrors; n > 0 {
		out = append(out, counterRow{"audit entries lost", n})
	}
	return out
}

// countsText prints error counts as "permission_denied 3, too_large 1".
func countsText(m map[string]uint64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// when prints t with its age, or "—" for the zero time.
func when(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(now.Location()).Format(timeLayout) + " (" + age(now, t) + ")"
}

package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
)

// Chart geometry, in SVG user units (the page scales it to its box).
const (
	chartW, chartH = 420.0, 110.0
	padL, padR     = 30.0, 6.0
	padT, padB     = 6.0, 16.0
)

// chartSpan is one chart: how far back it looks, how far ahead it draws the
// forecast, and the width of one point.
type chartSpan struct {
	label        string
	past, future time.Duration
	step         time.Duration
}

var (
	chartDay  = chartSpan{"last 24 hours", 24 * time.Hour, 8 * time.Hour, cluster.HistoryStep}
	chartWeek = chartSpan{"last 7 days", 7 * 24 * time.Hour, 3 * 24 * time.Hour, time.Hour}
)

// chartPoint is one drawn point; -1 means no data.
type chartPoint struct {
	at             time.Time
	sessions, leak int64
}

// aggregate merges history buckets into points of span.step: the highest
// sessions and leak of each.
func aggregate(h []cluster.HistoryPoint, step time.Duration) []chartPoint {
	var out []chartPoint
	for _, p := range h {
		at := p.At.Truncate(step)
		if n := len(out); n > 0 && out[n-1].at.Equal(at) {
			out[n-1].sessions = max(out[n-1].sessions, p.Sessions)
			out[n-1].leak = max(out[n-1].leak, p.Leak)
			continue
		}
		out = append(out, chartPoint{at: at, sessions: p.Sessions, leak: p.Leak})
	}
	return out
}

// chartSVG draws sessions and proven leak over span, the limit, and the
// forecast of leak plus usual real peak up to the limit. It is inline SVG:
// no script, no outside request.
func chartSVG(name string, h []cluster.HistoryPoint, f cluster.Forecast, limit int64, now time.Time, span chartSpan) template.HTML {
	pts := aggregate(h, span.step)
	from, to := now.Add(-span.past), now.Add(span.future)
	top := float64(limit)
	for _, p := range pts {
		top = max(top, float64(p.sessions))
	}
	top *= 1.08
	x := func(t time.Time) float64 {
		return padL + (chartW-padL-padR)*float64(t.Sub(from))/float64(to.Sub(from))
	}
	y := func(v float64) float64 { return padT + (chartH-padT-padB)*(1-v/top) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img">`, chartW, chartH)
	fmt.Fprintf(&b, `<title>%s: sessions and proven leak, %s, with the limit and the forecast</title>`, html.EscapeString(name), span.label)
	// Past and future backgrounds, axis labels.
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="c-future"/>`, x(now), padT, x(to)-x(now), chartH-padT-padB)
	fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="c-now"/>`, x(now), x(now), padT, chartH-padB)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="c-axis" text-anchor="end">%d</text>`, padL-3, y(float64(limit))+3, limit)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="c-axis" text-anchor="end">0</text>`, padL-3, y(0)+3)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="c-axis">%s</text>`, padL, chartH-3, span.label)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="c-axis" text-anchor="middle">now</text>`, x(now), chartH-3)
	// The limit.
	fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="c-limit"/>`, padL, chartW-padR, y(float64(limit)), y(float64(limit)))
	// Sessions and proven leak, broken where there is no data.
	line := func(class string, v func(chartPoint) int64) {
		var d strings.Builder
		pen := false
		for _, p := range pts {
			if p.at.Before(from) {
				continue
			}
			val := v(p)
			if val < 0 {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f", cmd, x(p.at.Add(span.step/2)), y(float64(val)))
			pen = true
		}
		if d.Len() > 0 {
			fmt.Fprintf(&b, `<path d="%s" class="%s"/>`, d.String(), class)
		}
	}
	line("c-sessions", func(p chartPoint) int64 { return p.sessions })
	line("c-leak", func(p chartPoint) int64 { return p.leak })
	// The forecast: leak plus usual real peak, rising to the limit.
	if f.Known && f.RealPeakKnown {
		start := f.Leak + float64(f.RealPeak)
		end, endV := to, start
		if f.Growing() {
			if f.Full.Before(to) {
				end, endV = maxT(f.Full, now), float64(limit)
			} else {
				endV = start + f.Rate*to.Sub(now).Hours()
			}
		}
		fmt.Fprintf(&b, `<path d="M%.1f %.1fL%.1f %.1f" class="c-forecast"/>`, x(now), y(min(start, top)), x(end), y(min(endV, top)))
		if f.Growing() && f.Full.Before(to) {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" class="c-full"/>`, x(end), y(float64(limit)))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built here from numbers and escaped text only
}

func maxT(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

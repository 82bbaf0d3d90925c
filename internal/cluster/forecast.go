package cluster

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Defaults of the forecast.
const (
	// DefaultForecastMinHistory is the proven history a forecast needs: a
	// whole day, so that a night's tight proof is in it. After a restart the
	// leak starts from nothing; when the history begins some other way (at
	// leakwatch's start), its first day only shows the proof catching up with
	// a leak already there (loose under daytime load), so the forecast waits
	// for forecastSettle more.
	DefaultForecastMinHistory = 24 * time.Hour
	// ForecastPeakWindow is how far back the usual real peak looks.
	ForecastPeakWindow = 7 * 24 * time.Hour
	// forecastSettle is the first part of a history not begun by a restart
	// whose rise says nothing about growth: the proof catching up with an
	// old leak.
	forecastSettle = 24 * time.Hour
	// maxFitPoints bounds the Theil-Sen fit's points (its cost is square).
	maxFitPoints = 64
)

// Forecast says where a Web Bridge's leak is heading.
type Forecast struct {
	// Known is false while the history since the last restart is too short;
	// Reason then says why and NeedMore how much more history is needed.
	Known    bool
	Reason   string
	NeedMore time.Duration
	// Since is when the history the fit rests on starts: the first proven
	// sample after the last restart, or the oldest one kept.
	Since time.Time
	// Rate is the leak's growth in sessions per hour, never negative: the
	// Theil-Sen slope through the running maximum of the proven leak.
	Rate float64
	// Leak is the leak the fit puts at the forecast's time, never below the
	// highest proven since the restart.
	Leak float64
	// RealPeak is the usual peak of real sessions on the bridge: the highest
	// of sessions minus proven leak over the last ForecastPeakWindow. It is
	// an upper bound of real sessions, since the proven leak is a lower
	// bound; it is known (RealPeakKnown) with any sample, even without a
	// forecast.
	RealPeak      int64
	RealPeakKnown bool
	// Full is when Leak plus RealPeak reaches the bridge's limit: the first
	// moment a usual day's peak would find the bridge full. Zero when the
	// leak does not grow (Rate 0). At the forecast's time when already there.
	Full time.Time
	// At is the time the forecast was made for.
	At time.Time
}

// Growing reports whether the forecast expects the bridge to fill up.
func (f Forecast) Growing() bool { return f.Known && !f.Full.IsZero() }

// forecastCache keeps one bridge's last forecast: it is recomputed once per
// history bucket (or at a restart), so a scrape or a replay step costs no
// pass over the history. A forecast in hours or days lags its data by at
// most HistoryStep.
type forecastCache struct {
	idx       int32
	restartAt time.Time
	f         Forecast
}

type fitPoint struct {
	t    float64 // hours since the Unix epoch
	leak float64
}

// forecast returns the bridge's forecast as of now.
func (m *Model) forecast(wb *webBridge, now time.Time) Forecast {
	idx := bucketIndex(now)
	c := &wb.fc
	if c.f.At.IsZero() || c.idx != idx || !c.restartAt.Equal(wb.restartAt) {
		c.f = computeForecast(&wb.hist, wb.restartAt, wb.limit, now, m.opts.ForecastMinHistory)
		c.idx, c.restartAt = idx, wb.restartAt
	}
	return c.f
}

// computeForecast fits the history of one bridge. It is a pure function of
// its arguments.
func computeForecast(h *history, restartAt time.Time, limit int64, now time.Time, minHistory time.Duration) Forecast {
	f := Forecast{At: now}
	to := bucketIndex(now)
	from := to - int32(historySlots) + 1
	mid := HistoryStep / 2
	peakFrom := bucketIndex(now.Add(-ForecastPeakWindow))

	// One pass over the ring: the running maximum of each restart epoch,
	// the real peak of the last week, and the current epoch's fit points.
	var (
		running  = int64(-1) // highest proven leak of the epoch so far
		first    time.Time   // first proven bucket of the current epoch
		last     time.Time   // last proven bucket of the current epoch
		settled  fitPoint    // the settle period's highest point
		points   []fitPoint
		restartB = bucketIndex(restartAt)
		// The current epoch began with a restart the history holds: no
		// settling needed.
		settle = forecastSettle
		// An epoch that began with a restart starts from no leak. One that
		// began before the history did starts with a proof still catching up
		// with the leak: its first day overstates the real sessions, so its
		// real peak counts only when nothing later does.
		epochKnown bool
		epochFrom  time.Time
		early      = int64(-1)
	)
	if !restartAt.IsZero() && restartB >= from {
		settle = 0
	}
	minHistory += settle
	h.each(from, to, func(idx int32, b *bucket) {
		if b == nil {
			return
		}
		current := restartAt.IsZero() || idx >= restartB
		if b.reset {
			running, epochKnown, epochFrom = -1, true, bucketStart(idx)
		}
		if epochFrom.IsZero() {
			epochFrom = bucketStart(idx)
		}
		if idx >= peakFrom && b.sessions >= 0 {
			real := max(0, int64(b.sessions)-max(running, 0))
			switch {
			case !epochKnown && bucketStart(idx).Sub(epochFrom) < forecastSettle:
				early = max(early, real)
			case !f.RealPeakKnown || real > f.RealPeak:
				f.RealPeak, f.RealPeakKnown = real, true
			}
		}
		if b.leak < 0 {
			return
		}
		at := bucketStart(idx).Add(mid)
		leak := int64(b.leak)
		if current {
			if first.IsZero() {
				first = at
			}
			last = at
			p := fitPoint{t: hours(at), leak: float64(leak)}
			switch {
			case at.Sub(first) < settle || len(points) == 0 && settled.t == 0:
				if leak > running {
					settled = p
				}
			case leak > running:
				points = append(points, p)
			}
		}
		running = max(running, leak)
	})

	if !f.RealPeakKnown && early >= 0 {
		f.RealPeak, f.RealPeakKnown = early, true
	}
	if first.IsZero() {
		f.NeedMore = minHistory
		f.Reason = fmt.Sprintf("unknown: no proven leak yet; needs %s of proven history", roundSpan(minHistory))
		if !restartAt.IsZero() {
			f.Reason = fmt.Sprintf("unknown: no proven leak since the restart at %s; needs %s of proven history",
				restartAt.UTC().Format("2006-01-02 15:04 MST"), roundSpan(minHistory))
		}
		return f
	}
	f.Since = first
	if span := last.Sub(first); span < minHistory {
		f.NeedMore = minHistory - span
		// What is there rounds down and what is missing up, so the two
		// never read as if enough were there ("48h ...; needs 25m more").
		had := span.Truncate(time.Minute)
		if had >= time.Hour {
			had = had.Truncate(time.Hour)
		}
		f.Reason = fmt.Sprintf("unknown: %s of proven history since %s; needs %s more",
			roundSpan(had), first.UTC().Format("2006-01-02 15:04 MST"), roundSpan((f.NeedMore + time.Minute - 1).Truncate(time.Minute)))
		return f
	}
	f.Known = true
	points = append([]fitPoint{settled}, points...)
	f.Rate = max(0, theilSen(points))
	tNow := hours(now)
	// The line read at now, anchored by the median intercept as Theil-Sen
	// does; never below what is proven.
	at := make([]float64, len(points))
	for i, p := range points {
		at[i] = p.leak + f.Rate*(tNow-p.t)
	}
	f.Leak = max(float64(running), median(at))
	// A bridge counts no more than its limit: neither can its leak.
	f.Leak = min(f.Leak, float64(limit))
	room := float64(limit-f.RealPeak) - f.Leak
	switch {
	case room <= 0:
		f.Full = now
		f.Reason = fmt.Sprintf("full: leak %.0f plus usual real peak %d reach the limit %d", f.Leak, f.RealPeak, limit)
	case f.Rate <= 0:
		f.Reason = fmt.Sprintf("not growing: proven leak stayed at %d over %s", running, roundSpan(last.Sub(first)))
	default:
		d := time.Duration(room / f.Rate * float64(time.Hour))
		if d > 100*365*24*time.Hour {
			f.Reason = fmt.Sprintf("growing %.2f sessions/h; full in more than a century", f.Rate)
			f.Rate = 0
			break
		}
		f.Full = now.Add(d).Truncate(time.Minute)
		f.Reason = fmt.Sprintf("growing %.2f sessions/h; full in %s", f.Rate, roundSpan(d))
	}
	return f
}

// theilSen returns the median of the slopes between every pair of points
// with distinct times: a line fit that outliers and steps cannot drag, unlike
// least squares. Too many points are thinned evenly, keeping both ends.
func theilSen(points []fitPoint) float64 {
	if len(points) > maxFitPoints {
		thin := make([]fitPoint, 0, maxFitPoints)
		for i := range maxFitPoints {
			thin = append(thin, points[i*(len(points)-1)/(maxFitPoints-1)])
		}
		points = thin
	}
	slopes := make([]float64, 0, len(points)*(len(points)-1)/2)
	for i := range points {
		for j := i + 1; j < len(points); j++ {
			if dt := points[j].t - points[i].t; dt > 0 {
				slopes = append(slopes, (points[j].leak-points[i].leak)/dt)
			}
		}
	}
	if len(slopes) == 0 {
		return 0
	}
	return median(slopes)
}

func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func hours(t time.Time) float64 {
	return float64(t.Unix()) / 3600
}

// roundSpan prints a duration for people: "23 days", "14h", "40m".
func roundSpan(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(math.Round(d.Hours()/24)))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(math.Round(d.Hours())))
	}
	return fmt.Sprintf("%dm", int(math.Round(d.Minutes())))
}

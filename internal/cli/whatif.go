package cli

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/logline"
	"github.com/leakwatch/leakwatch/internal/replay"
)

// maxLimitGap is the most time one sample at the limit counts for: a longer
// silence says nothing about the bridge.
const maxLimitGap = 5 * time.Minute

// whatIfWorld is the world the what-if's restarts would have made. The logs
// show the leak as it was, restarts or not; after each what-if restart the
// sessions it would have freed (the leak proven then, a lower bound) are
// taken off the bridge's later counts, until the logs show a real restart
// (the c:/d: counters going back) that freed them anyway.
type whatIfWorld struct {
	byHost map[string]*whatIfBridge
	byName map[string]*whatIfBridge
	limit  int64 // of discovered bridges
	// listed says the inventory lists Web Bridges: then an unlisted host
	// is in no sum, as in the model, and needs no bridge here. Without,
	// at most maxDiscovered bridges are discovered, as in the model, so
	// a flood of hostnames cannot grow the world without bound.
	listed        bool
	maxDiscovered int
	discovered    int
}

type whatIfBridge struct {
	name         string
	limit        int64
	freed        int64 // sessions the what-if's restarts freed, off every later count
	lastC, lastD int64
	seen         bool
	lastAt       time.Time
	atLimit      bool
	report       replay.WhatIfReport
}

func newWhatIfWorld(o cluster.Options) *whatIfWorld {
	w := &whatIfWorld{byHost: map[string]*whatIfBridge{}, byName: map[string]*whatIfBridge{}, limit: o.DefaultLimit,
		listed: len(o.WebBridges) > 0, maxDiscovered: o.MaxDiscovered}
	for _, m := range o.WebBridges {
		b := &whatIfBridge{name: m.Name, limit: m.Limit}
		if b.limit <= 0 {
			b.limit = o.DefaultLimit
		}
		w.byName[m.Name] = b
		hosts := m.Hosts
		if len(hosts) == 0 {
			hosts = []string{m.Name}
		}
		for _, h := range hosts {
			w.byHost[cluster.FoldHost(h)] = b
		}
	}
	return w
}

// bridge returns the host's bridge, or nil for a host the model leaves
// out of every sum (unlisted, or past the discovery cap).
func (w *whatIfWorld) bridge(host string) *whatIfBridge {
	host = cluster.FoldHost(host)
	b := w.byHost[host]
	if b == nil {
		if w.listed || w.discovered >= w.maxDiscovered {
			return nil
		}
		// Discovered: named by its hostname, as the model names it.
		w.discovered++
		b = &whatIfBridge{name: host, limit: w.limit}
		w.byHost[host], w.byName[host] = b, b
	}
	return b
}

// rewrite takes the freed sessions off a Web Bridge sample and counts the
// time the bridge spends at its limit.
func (w *whatIfWorld) rewrite(l *logline.Line) {
	if l.Kind != logline.WebBridgeStats {
		return
	}
	b := w.bridge(string(l.Host))
	if b == nil {
		return
	}
	s := &l.WebBridge
	if b.seen && (s.Connections < b.lastC || s.Disconnections < b.lastD) {
		b.freed = 0 // restarted for real: the logged counts start afresh
	}
	b.lastC, b.lastD = s.Connections, s.Disconnections
	if b.seen && b.atLimit && l.Time.After(b.lastAt) {
		b.report.MinutesAtLimit += min(l.Time.Sub(b.lastAt), maxLimitGap).Minutes()
	}
	s.Active = max(0, s.Active-b.freed)
	if !b.seen || l.Time.After(b.lastAt) {
		b.seen, b.lastAt, b.atLimit = true, l.Time, s.Active >= b.limit
	}
}

// restarted records a what-if restart of the named bridge with sessions
// counted and leak proven, and returns the real sessions it would cut.
func (w *whatIfWorld) restarted(name string, sessions, leak int64) int64 {
	b := w.byName[name]
	if b == nil {
		// The model restarts only bridges it knows, and this world knows
		// every bridge the model does; keep the count anyway.
		b = &whatIfBridge{name: name, limit: w.limit}
		w.byName[name] = b
	}
	leak = min(max(leak, 0), sessions)
	cut := sessions - leak
	b.freed += leak
	b.report.Restarts++
	b.report.RealSessionsCut += cut
	return cut
}

// report returns the what-if of every bridge seen.
func (w *whatIfWorld) report() map[string]replay.WhatIfReport {
	out := make(map[string]replay.WhatIfReport, len(w.byName))
	for name, b := range w.byName {
		if b.seen || b.report.Restarts > 0 {
			out[name] = b.report
		}
	}
	return out
}

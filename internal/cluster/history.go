package cluster

import (
	"time"
)

// HistoryStep is the width of one bucket of a Web Bridge's history.
const HistoryStep = 5 * time.Minute

// HistoryLength is how far back a Web Bridge's history reaches: the week the
// charts and the usual real peak look at, and one more day so that the first
// day's maximum of a week-old restart is still there.
const HistoryLength = 8 * 24 * time.Hour

// historySlots is the number of buckets in a history ring.
const historySlots = int(HistoryLength / HistoryStep)

// bucket summarises one HistoryStep of a Web Bridge. The ring is dense: the
// slot of bucket index i is i mod historySlots, and a slot whose idx differs
// from the one looked for is empty. 12 bytes, so a full history costs
// historySlots*12 = 27 KiB per bridge (see TestHistoryMemoryCost).
type bucket struct {
	idx      int32 // Unix time / HistoryStep; 0 means empty
	sessions int16 // highest session count sampled in the bucket; -1 none
	leak     int16 // highest proven leak of a sample in the bucket; -1 none
	reset    bool  // the bridge restarted in this bucket: the leak starts afresh
}

// history is one Web Bridge's bounded record of sessions and proven leak.
type history struct {
	ring []bucket // nil until the first sample; then historySlots long
	// newest is the newest bucket index written.
	newest int32
}

func bucketIndex(t time.Time) int32 {
	return int32(t.Unix() / int64(HistoryStep/time.Second))
}

func bucketStart(idx int32) time.Time {
	return time.Unix(int64(idx)*int64(HistoryStep/time.Second), 0).UTC()
}

// slot returns the bucket for t, emptied if it held an older index, or nil
// when t is older than the ring reaches or before 1970.
func (h *history) slot(t time.Time) *bucket {
	idx := bucketIndex(t)
	if idx <= 0 || idx <= h.newest-int32(historySlots) {
		return nil
	}
	h.newest = max(h.newest, idx)
	if h.ring == nil {
		h.ring = make([]bucket, historySlots)
	}
	b := &h.ring[int(idx)%historySlots]
	if b.idx != idx {
		*b = bucket{idx: idx, sessions: -1, leak: -1}
	}
	return b
}

func clamp16(v int64) int16 {
	return int16(min(max(v, 0), 1<<15-1))
}

// addSessions records a session count sampled at t.
func (h *history) addSessions(t time.Time, active int64) {
	if b := h.slot(t); b != nil {
		if v := clamp16(active); v > b.sessions {
			b.sessions = v
		}
	}
}

// addLeak records a proven leak of the sample taken at t.
func (h *history) addLeak(t time.Time, leak int64) {
	if b := h.slot(t); b != nil {
		if v := clamp16(leak); v > b.leak {
			b.leak = v
		}
	}
}

// markReset records a restart at t: the leak proven in its bucket so far
// came from before it.
func (h *history) markReset(t time.Time) {
	if b := h.slot(t); b != nil {
		b.reset, b.leak = true, -1
	}
}

// forgetLeaks drops every proven leak: they were computed without a Call
// Bridge that has just appeared, so they may overstate.
func (h *history) forgetLeaks() {
	for i := range h.ring {
		h.ring[i].leak = -1
	}
}

// each calls f for every bucket index from..to (inclusive) in order, with
// the bucket or nil when the slot holds no data for that index.
func (h *history) each(from, to int32, f func(idx int32, b *bucket)) {
	from = max(from, to-int32(historySlots)+1)
	for idx := from; idx <= to; idx++ {
		var b *bucket
		if h.ring != nil && idx > 0 {
			if s := &h.ring[int(idx)%historySlots]; s.idx == idx {
				b = s
			}
		}
		f(idx, b)
	}
}

// HistoryPoint is one bucket of a Web Bridge's history.
type HistoryPoint struct {
	// At is the start of the bucket (HistoryStep wide).
	At time.Time
	// Sessions is the highest session count sampled in the bucket, -1 when
	// there was no sample.
	Sessions int64
	// Leak is the highest leak proven since the bridge's last restart up to
	// the end of this bucket (the leak never shrinks without a restart),
	// -1 while nothing is proven.
	Leak int64
	// Restart is true when the bridge restarted in this bucket.
	Restart bool
}

// History returns the named Web Bridge's history from since to now, one
// point per HistoryStep, oldest first; nil for an unknown bridge. It reaches
// back HistoryLength at most.
func (m *Model) History(name string, since, now time.Time) []HistoryPoint {
	m.mu.Lock()
	defer m.mu.Unlock()
	var wb *webBridge
	for _, w := range m.wbs {
		if w.name == name {
			wb = w
		}
	}
	if wb == nil {
		return nil
	}
	to := bucketIndex(now)
	from := max(bucketIndex(since), to-int32(historySlots)+1)
	out := make([]HistoryPoint, 0, to-from+1)
	// The running maximum needs the epoch's buckets before since too.
	running := int64(-1)
	wb.hist.each(to-int32(historySlots)+1, to, func(idx int32, b *bucket) {
		p := HistoryPoint{At: bucketStart(idx), Sessions: -1}
		if b != nil {
			if b.reset {
				running = -1
			}
			running = max(running, int64(b.leak))
			p.Sessions, p.Restart = int64(b.sessions), b.reset
		}
		p.Leak = running
		if idx >= from {
			out = append(out, p)
		}
	})
	return out
}

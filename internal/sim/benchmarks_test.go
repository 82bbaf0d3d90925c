package sim_test

import (
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/sim"
)

// BenchmarkAdvance measures generation speed of a default cluster with 99%
// noise; SetBytes makes `go test -bench` print MB/s of log written.
func BenchmarkAdvance(b *testing.B) {
	s := mustNew(b, sim.Config{Seed: 1, ClockSkew: 2 * time.Second, Leak: map[string]float64{"cms2": 1}})
	var n int64
	s.Advance(time.Hour, func(l []byte) { n += int64(len(l)) + 1 })
	b.SetBytes(n) // bytes per simulated hour, roughly constant
	b.ResetTimer()
	for b.Loop() {
		s.Advance(time.Hour, func([]byte) {})
	}
}

// BenchmarkStatsOnly measures the model without noise.
func BenchmarkStatsOnly(b *testing.B) {
	s := mustNew(b, sim.Config{Seed: 1, NoisePerStats: -1})
	for b.Loop() {
		s.Advance(time.Hour, func([]byte) {})
	}
}

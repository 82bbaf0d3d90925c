package policy

import (
	"fmt"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/ledger"
)

// BenchmarkEvaluate measures one evaluation of ten Web Bridges with three
// windows and a ledger holding 1000 restarts.
func BenchmarkEvaluate(b *testing.B) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	cfg := Config{Mode: ModeEnforce, Threshold: 20, Sustain: time.Hour, Location: loc, MaxActiveSessions: 5,
		Cooldown: time.Hour, MaxPerDay: 2, RecoverTimeout: 15 * time.Minute, FlapMax: 3, FlapPeriod: 7 * 24 * time.Hour,
		Windows: []Window{MustParseWindow("Mon-Fri 01:00-03:00"), MustParseWindow("Sat,Sun 22:00-06:00"), MustParseWindow("Sat 10:00-14:00")}}
	led := ledger.NewMemory()
	for i := range ledger.MaxEntries {
		at := testNow.Add(-time.Duration(ledger.MaxEntries-i) * time.Hour)
		br := fmt.Sprintf("wb%d", i%10)
		led.BeginRestart(ledger.Restart{Bridge: br, Started: at})
		led.FinishRestart(br, at, ledger.ResultOK, "", "")
		led.MarkRecovered(br)
	}
	names := make([]string, 10)
	for i := range names {
		names[i] = fmt.Sprintf("wb%d", i)
	}
	snap := testSnapshot(testNow, names...)
	e := NewEngine(cfg)
	b.ReportAllocs()
	for b.Loop() {
		e.Evaluate(snap, led, testNow)
	}
}

//go:build unix

// Package webflags tests leakwatch's Prometheus-style web flags against the
// real programs they exist for.
package webflags

import (
	"os"
	"testing"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }

package ha

import (
	"os"
	"testing"

	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }

//go:build unix

package logrotate

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/follow"
	"github.com/leakwatch/leakwatch/internal/integration/harness"
)

// Environment of the follower process (the test binary run again).
const (
	envFollower = "LEAKWATCH_TEST_FOLLOWER" // the pattern to follow
	envState    = "LEAKWATCH_TEST_STATE"
	envRecord   = "LEAKWATCH_TEST_RECORD"
)

// caughtUpMark is what the follower process prints once it has caught up.
const caughtUpMark = "follower caught up"

func TestMain(m *testing.M) {
	if pattern := os.Getenv(envFollower); pattern != "" {
		os.Exit(runFollower(pattern, os.Getenv(envState), os.Getenv(envRecord)))
	}
	os.Exit(harness.Main(m))
}

// runFollower is the follower process: leakwatch's follow package with the
// settings `leakwatch run` gives it (config.Default()), whose handler
// appends every line it is handed to the record file, with the time it
// was handed, in one write each, so that a SIGKILL loses no delivered line
// from the record. SIGTERM stops it as it stops leakwatch: offsets saved.
func runFollower(pattern, state, record string) int {
	files := config.Default().Inputs.Files
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	f, err := follow.New(follow.Config{Patterns: []string{pattern}, StateDir: state, StartAt: files.StartAt,
		PollInterval: files.PollInterval, MaxLineBytes: files.MaxLineBytes, Poll: files.PollOnly}, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	out, err := os.OpenFile(record, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		select {
		case <-f.CaughtUp():
			fmt.Println(caughtUpMark)
		case <-ctx.Done():
		}
	}()
	buf := make([]byte, 0, 1024)
	err = f.Run(ctx, func(l follow.Line) {
		buf = strconv.AppendInt(buf[:0], time.Now().UnixNano(), 10)
		buf = append(buf, ' ')
		buf = append(buf, l.Data...)
		buf = append(buf, '\n')
		if _, err := out.Write(buf); err != nil {
			fmt.Fprintln(os.Stderr, "recording:", err)
			os.Exit(3)
		}
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

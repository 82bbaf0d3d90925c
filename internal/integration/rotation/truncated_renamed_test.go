//go:build unix

package rotation

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestTruncatedThenRenamedWhileStopped is issue 10's case, with the real
// leakwatch stopped by SIGTERM and by SIGKILL: while it is down, cms.log
// is copytruncated (the copy to a name no pattern matches), 500 lines are
// written to it, it is renamed to cms.log.1 and a new cms.log gets 10
// lines. cms.log.1 has the saved inode and less than the saved offset: it
// is the same file, truncated, and leakwatch must count 510 new lines, not
// take it for a stranger with a reused inode number and read none of it.
func TestTruncatedThenRenamedWhileStopped(t *testing.T) {
	for _, stop := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGTERM", syscall.SIGTERM}, {"SIGKILL", syscall.SIGKILL}} {
		t.Run(stop.name, func(t *testing.T) {
			in := newInstance(t)
			live := filepath.Join(in.logs, "cms.log")
			w := newLogWriter(t, live, 10000, 5)
			w.write(1000)
			p := in.start(t)
			in.waitLines(t, 1000, "before the stop")
			// Let an offset save (every second) cover every line, so that a
			// SIGKILL repeats none.
			time.Sleep(1500 * time.Millisecond)
			p.Signal(stop.sig)
			<-p.Done()

			copyTruncateFile(t, live)
			if err := os.Rename(live+".1", filepath.Join(in.logs, "cms.copy")); err != nil {
				t.Fatal(err)
			}
			w.write(500)
			if err := os.Rename(live, live+".1"); err != nil {
				t.Fatal(err)
			}
			w.reopen()
			w.write(10)

			in.start(t)
			in.waitLines(t, 510, "after the restart")
		})
	}
}

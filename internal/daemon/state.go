package daemon

import (
	"fmt"
	"time"

	"github.com/leakwatch/leakwatch/internal/status"
)

// State assembles the status picture at this moment. It is the Provider of
// the metrics collector and the web pages.
func (d *Daemon) State() status.State {
	now := d.now()
	cfg := d.cfg.Load()
	st := status.State{
		Now:          now,
		Cluster:      d.model.Snapshot(now),
		Policy:       d.act.Status(),
		Lines:        d.counts.linesBySource(),
		Stats:        map[string]uint64{"webbridge": d.counts.wbStats.Load(), "callbridge": d.counts.cbStats.Load()},
		Malformed:    map[string]uint64{"webbridge": d.counts.wbMalformed.Load(), "callbridge": d.counts.cbMalformed.Load()},
		Ready:        d.ready.Load(),
		Started:      d.started,
		ConfigFile:   cfg.File,
		ConfigLoaded: time.Unix(0, d.loadedAt.Load()),
		PolicyConfig: cfg.PolicyConfig(),
		History:      d.model.History,
	}
	if st.ConfigFile == "" {
		st.ConfigFile = d.opts.ConfigName
	}
	if d.ha != nil {
		hs := d.ha.status()
		st.HA = &hs
	}
	if d.follower != nil {
		fs := d.follower.Stats()
		in := status.Input{Source: SourceFiles, Up: fs.Up, Errors: fs.Errors,
			Detail: fmt.Sprintf("%d files open, following %v", fs.OpenFiles, cfg.Inputs.Files.Paths)}
		if !fs.Watching {
			in.Detail += " (polling)"
		}
		st.Inputs = append(st.Inputs, in)
	}
	if d.recv != nil {
		rs := d.recv.Stats()
		udp, tcp := d.recv.Addrs()
		detail := "listening on"
		if udp != nil {
			detail += " udp " + udp.String()
		}
		if tcp != nil {
			detail += " tcp " + tcp.String()
		}
		st.Inputs = append(st.Inputs, status.Input{Source: SourceSyslog, Up: true, Errors: rs.Rejected,
			Detail: fmt.Sprintf("%s; %d connections open", detail, rs.OpenConnections)})
		st.SyslogSenders = rs.Accepted
	}
	return st
}

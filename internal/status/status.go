// Package status is the one picture of leakwatch's state that the metrics
// collector, the status page and /api/v1/status all render. The daemon
// assembles it at scrape or request time, so nothing stale lives on.
package status

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/ha"
	"github.com/leakwatch/leakwatch/internal/policy"
)

// State is leakwatch's state at Now.
type State struct {
	Now time.Time
	// Cluster is the model's snapshot at Now.
	Cluster cluster.Snapshot
	// Policy is the actuator's state; its Mode is observe or enforce.
	Policy actuator.Status
	// Lines counts lines read per input source (e.g. "file:/var/log/cms.log",
	// "syslog:udp", "syslog:tcp").
	Lines map[string]uint64
	// Stats counts stats lines by kind ("webbridge", "callbridge").
	Stats map[string]uint64
	// Malformed counts malformed stats lines by kind.
	Malformed map[string]uint64
	// Inputs is each input's health.
	Inputs []Input
	// SyslogSenders counts syslog messages accepted per sender address
	// (at most 1024 addresses, then "other").
	SyslogSenders map[string]uint64
	// Ready is true once the inputs are open and the first catch-up is done.
	Ready bool
	// Started is when this process started.
	Started time.Time
	// Config names the config file in force (or "demo") and when it was
	// loaded.
	ConfigFile   string
	ConfigLoaded time.Time
	// HA is this instance's part in an HA pair; nil without ha configured.
	HA *ha.Status
	// PolicyConfig is the restart policy as loaded.
	PolicyConfig policy.Config
	// History, if set, returns a Web Bridge's bounded history between two
	// times (cluster.Model.History); the page draws its charts from it.
	History func(webbridge string, since, now time.Time) []cluster.HistoryPoint
}

// Input is one input's health.
type Input struct {
	// Source is the label value: "files", "syslog_udp" or "syslog_tcp".
	Source string
	Up     bool
	// Detail says in words what is wrong, or what is followed.
	Detail string
	// Errors counts errors by reason (e.g. "permission_denied",
	// "source_not_allowed", "too_large").
	Errors map[string]uint64
}

// Provider returns the current state.
type Provider func() State

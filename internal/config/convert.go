package config

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/policy"
	"github.com/leakwatch/leakwatch/internal/syslogrecv"
)

// SyslogConfig returns the syslog receiver's configuration.
func (cfg *Config) SyslogConfig() syslogrecv.Config {
	s := cfg.Inputs.Syslog
	rc := syslogrecv.Config{UDPAddress: s.UDPAddress, TCPAddress: s.TCPAddress,
		MaxMessageSize: s.MaxMessageSize, MaxConnections: s.MaxConnections,
		MaxConnectionsPerSource: s.MaxConnectionsPerSource, IdleTimeout: s.IdleTimeout, MessageTimeout: s.MessageTimeout}
	for _, src := range s.AllowedSources {
		if p, err := ParseSource(src); err == nil { // validated at load
			rc.AllowedSources = append(rc.AllowedSources, p)
		}
	}
	for _, src := range s.Sources {
		if p, err := ParseSource(src.Address); err == nil { // validated at load
			rc.Sources = append(rc.Sources, syslogrecv.Source{Prefix: p, Hosts: src.Hosts})
		}
	}
	return rc
}

// Location returns the zone of syslog timestamps that carry none.
func (cfg *Config) Location() *time.Location {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil { // validated at load
		return time.Local
	}
	return loc
}

// ModelOptions returns the cluster model's options.
func (cfg *Config) ModelOptions() cluster.Options {
	o := cluster.Options{
		StaleAfter:      cfg.Model.StaleAfter,
		PeakWindow:      cfg.Model.PeakWindow,
		ClockSkew:       cfg.Model.ClockSkew,
		MaxDiscovered:   cfg.Model.MaxDiscovered,
		DefaultLimit:    cfg.Model.SessionLimit,
		FutureTolerance: cfg.Model.FutureTolerance,
		ForgetAfter:     cfg.Model.ForgetAfter,
		Ignore:          cfg.Inventory.Ignore,
	}
	if o.ClockSkew == 0 {
		o.ClockSkew = -1 // an explicit 0s means no margin
	}
	for _, wb := range cfg.Inventory.WebBridges {
		o.WebBridges = append(o.WebBridges, cluster.Member{Name: wb.Name, Hosts: wb.Hosts, Limit: wb.SessionLimit,
			Restartable: wb.MMP.Address != ""})
	}
	for _, cb := range cfg.Inventory.CallBridges {
		o.CallBridges = append(o.CallBridges, cluster.Member{Name: cb.Name, Hosts: cb.Hosts})
	}
	return o
}

// PolicyConfig returns the restart policy.
func (cfg *Config) PolicyConfig() policy.Config {
	p := policy.DefaultConfig()
	p.Mode = policy.Mode(cfg.Policy.Mode)
	p.Plan = policy.Plan(cfg.Policy.Plan)
	p.ForecastMargin = cfg.Policy.ForecastMargin
	p.Threshold = cfg.Policy.Threshold
	p.Sustain = cfg.Policy.Sustain
	p.Windows = nil
	for _, s := range cfg.Policy.Windows {
		if w, err := policy.ParseWindow(s); err == nil { // validated at load
			p.Windows = append(p.Windows, w)
		}
	}
	if loc, err := time.LoadLocation(cfg.Policy.Timezone); err == nil {
		p.Location = loc
	}
	p.MaxActiveSessions = cfg.Policy.MaxActiveSessions
	p.Cooldown = cfg.Policy.Cooldown
	p.MaxPerDay = cfg.Policy.MaxPerDay
	p.RecoverTimeout = cfg.Policy.RecoverTimeout
	p.EmergencyAtLimit = cfg.Policy.EmergencyAtLimit
	p.FlapMax = cfg.Policy.FlapMax
	p.FlapPeriod = cfg.Policy.FlapPeriod
	return p
}

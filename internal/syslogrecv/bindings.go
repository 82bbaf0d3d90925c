package syslogrecv

import (
	"net/netip"
	"strings"
)

// hostBindings decides which source addresses may report for which
// hostnames. It is pure and read-only once built, so it needs no lock.
//
// The rules, for a line of host H from address A:
//
//	H named in some Source's Hosts   A must be in a Source that names H.
//	H named in no Source's Hosts     A must not be in a Source with Hosts
//	                                 (such a Source reports only its own).
//
// Hostnames compare case-insensitively, as the cluster model matches them.
type hostBindings struct {
	// bound maps a lower-case hostname to the networks that may report it.
	bound map[string][]netip.Prefix
	// restricted are the networks of Sources with Hosts.
	restricted []netip.Prefix
}

func newHostBindings(sources []Source) hostBindings {
	b := hostBindings{bound: map[string][]netip.Prefix{}}
	for _, s := range sources {
		if len(s.Hosts) == 0 {
			continue
		}
		b.restricted = append(b.restricted, s.Prefix)
		for _, h := range s.Hosts {
			b.bound[strings.ToLower(h)] = append(b.bound[strings.ToLower(h)], s.Prefix)
		}
	}
	return b
}

// enabled reports whether any hostname is bound.
func (b hostBindings) enabled() bool { return len(b.restricted) > 0 }

// allows reports whether src, already normalized, may report for host.
func (b hostBindings) allows(src netip.Addr, host []byte) bool {
	if !b.enabled() {
		return true
	}
	var nets []netip.Prefix
	var ok bool
	if hasUpper(host) {
		nets, ok = b.bound[strings.ToLower(string(host))]
	} else {
		nets, ok = b.bound[string(host)] // no allocation for a lookup key
	}
	if ok {
		return anyContains(nets, src)
	}
	return !anyContains(b.restricted, src)
}

func anyContains(nets []netip.Prefix, a netip.Addr) bool {
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func hasUpper(b []byte) bool {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

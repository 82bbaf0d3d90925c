package syslogrecv

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Defaults applied by New to zero-valued Config fields.
const (
	DefaultMaxMessageSize = 8192
	DefaultMaxConnections = 64
	// DefaultMaxConnectionsPerSource lets a relay or a reconnecting
	// sender hold a few connections while leaving most of the table to
	// others (it is lowered to MaxConnections if that is smaller).
	DefaultMaxConnectionsPerSource = 8
	// DefaultIdleTimeout is well under a minute so that silent connections
	// cannot hold the table for long; CMS servers log many lines a minute.
	DefaultIdleTimeout = 30 * time.Second
	// DefaultMessageTimeout bounds one message from its first byte to its
	// end: a real sender writes a message at once.
	DefaultMessageTimeout = 10 * time.Second

	// maxMessageSizeLimit caps MaxMessageSize so that a typo in the
	// configuration cannot make every connection buffer huge.
	maxMessageSizeLimit = 1 << 20
)

// Config configures a Receiver. The zero value of every field except the
// addresses means "use the default".
type Config struct {
	// UDPAddress is the host:port to receive datagrams on, such as
	// "127.0.0.1:5514". Empty disables UDP.
	UDPAddress string
	// TCPAddress is the host:port to accept RFC 6587 streams on. Empty
	// disables TCP.
	TCPAddress string
	// AllowedSources lists the networks whose messages are accepted. Empty
	// allows nothing: every message is rejected as "source_not_allowed".
	AllowedSources []netip.Prefix
	// MaxMessageSize is the largest message accepted, in bytes, PRI included
	// and framing excluded. Default 8192.
	MaxMessageSize int
	// Sources lists more allowed networks, each optionally bound to the
	// hostnames it may report for (see HostAllowed). Its networks are
	// allowed as AllowedSources are.
	Sources []Source
	// MaxConnections caps concurrent TCP connections. When a connection
	// arrives at the cap, the longest-idle one is closed to make room.
	// Default 64.
	MaxConnections int
	// MaxConnectionsPerSource caps concurrent TCP connections from one
	// address; more are closed unread. Default 8, at most MaxConnections.
	MaxConnectionsPerSource int
	// IdleTimeout closes a TCP connection that completes no message for
	// this long (bytes of an unfinished message do not count). Default 30s.
	IdleTimeout time.Duration
	// MessageTimeout closes a TCP connection whose message is not complete
	// this long after its first byte arrived. Default 10s.
	MessageTimeout time.Duration
}

// Source is an allowed network and the hostnames it may report for. With
// no Hosts it may report for any host that no other Source is bound to.
type Source struct {
	Prefix netip.Prefix
	Hosts  []string
}

// withDefaults returns a copy of c with defaults applied and the allowlist
// normalized, or an error naming the offending field.
func (c Config) withDefaults() (Config, error) {
	if c.UDPAddress == "" && c.TCPAddress == "" {
		return c, errors.New("syslog receiver: neither UDPAddress nor TCPAddress is set")
	}
	switch {
	case c.MaxMessageSize == 0:
		c.MaxMessageSize = DefaultMaxMessageSize
	case c.MaxMessageSize < 0 || c.MaxMessageSize > maxMessageSizeLimit:
		return c, fmt.Errorf("syslog receiver: MaxMessageSize %d out of range 1..%d", c.MaxMessageSize, maxMessageSizeLimit)
	}
	switch {
	case c.MaxConnections == 0:
		c.MaxConnections = DefaultMaxConnections
	case c.MaxConnections < 0:
		return c, fmt.Errorf("syslog receiver: MaxConnections %d is negative", c.MaxConnections)
	}
	switch {
	case c.MaxConnectionsPerSource == 0:
		c.MaxConnectionsPerSource = min(DefaultMaxConnectionsPerSource, c.MaxConnections)
	case c.MaxConnectionsPerSource < 0 || c.MaxConnectionsPerSource > c.MaxConnections:
		return c, fmt.Errorf("syslog receiver: MaxConnectionsPerSource %d out of range 1..MaxConnections (%d)", c.MaxConnectionsPerSource, c.MaxConnections)
	}
	switch {
	case c.IdleTimeout == 0:
		c.IdleTimeout = DefaultIdleTimeout
	case c.IdleTimeout < 0:
		return c, fmt.Errorf("syslog receiver: IdleTimeout %s is negative", c.IdleTimeout)
	}
	switch {
	case c.MessageTimeout == 0:
		c.MessageTimeout = DefaultMessageTimeout
	case c.MessageTimeout < 0:
		return c, fmt.Errorf("syslog receiver: MessageTimeout %s is negative", c.MessageTimeout)
	}
	allowed := make([]netip.Prefix, 0, len(c.AllowedSources))
	for i, p := range c.AllowedSources {
		if !p.IsValid() {
			return c, fmt.Errorf("syslog receiver: AllowedSources[%d] is not a valid prefix", i)
		}
		allowed = append(allowed, normalizePrefix(p))
	}
	c.AllowedSources = allowed
	sources := make([]Source, 0, len(c.Sources))
	for i, src := range c.Sources {
		if !src.Prefix.IsValid() {
			return c, fmt.Errorf("syslog receiver: Sources[%d] is not a valid prefix", i)
		}
		hosts := make([]string, 0, len(src.Hosts))
		for j, h := range src.Hosts {
			if h == "" {
				return c, fmt.Errorf("syslog receiver: Sources[%d].Hosts[%d] is empty", i, j)
			}
			hosts = append(hosts, strings.ToLower(h))
		}
		sources = append(sources, Source{Prefix: normalizePrefix(src.Prefix), Hosts: hosts})
	}
	c.Sources = sources
	return c, nil
}

// normalizePrefix masks p and turns an IPv4-mapped IPv6 prefix such as
// ::ffff:10.0.0.0/104 into its IPv4 form, because source addresses are
// unmapped before matching.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr().WithZone("")
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return netip.PrefixFrom(a, p.Bits()).Masked()
}

// normalizeAddr unmaps an IPv4-mapped IPv6 address and drops any zone, so
// that it matches the prefixes produced by normalizePrefix (a zoned address
// never matches a prefix).
func normalizeAddr(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

package syslogrecv

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Defaults applied by New to zero-valued Config fields.
const (
	DefaultMaxMessageSize = 8192
	DefaultMaxConnections = 64
	DefaultIdleTimeout    = 5 * time.Minute

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
	// MaxConnections caps concurrent TCP connections. Default 64.
	MaxConnections int
	// IdleTimeout closes a TCP connection that sends nothing for this long.
	// Default 5m.
	IdleTimeout time.Duration
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
	case c.IdleTimeout == 0:
		c.IdleTimeout = DefaultIdleTimeout
	case c.IdleTimeout < 0:
		return c, fmt.Errorf("syslog receiver: IdleTimeout %s is negative", c.IdleTimeout)
	}
	allowed := make([]netip.Prefix, 0, len(c.AllowedSources))
	for i, p := range c.AllowedSources {
		if !p.IsValid() {
			return c, fmt.Errorf("syslog receiver: AllowedSources[%d] is not a valid prefix", i)
		}
		allowed = append(allowed, normalizePrefix(p))
	}
	c.AllowedSources = allowed
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

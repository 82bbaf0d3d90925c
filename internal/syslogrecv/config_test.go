package syslogrecv

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{UDPAddress: "127.0.0.1:0"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxMessageSize != 8192 || c.MaxConnections != 64 || c.MaxConnectionsPerSource != 8 ||
		c.IdleTimeout != 30*time.Second || c.MessageTimeout != 10*time.Second {
		t.Errorf("defaults: got %d, %d, %d, %v, %v", c.MaxMessageSize, c.MaxConnections, c.MaxConnectionsPerSource,
			c.IdleTimeout, c.MessageTimeout)
	}
	// The per-source default never exceeds a smaller table.
	c, err = Config{TCPAddress: ":0", MaxConnections: 3}.withDefaults()
	if err != nil || c.MaxConnectionsPerSource != 3 {
		t.Errorf("MaxConnections 3: per-source %d, err %v; want 3", c.MaxConnectionsPerSource, err)
	}
}

func TestConfigNormalizesPrefixes(t *testing.T) {
	c, err := Config{TCPAddress: ":0", AllowedSources: []netip.Prefix{
		netip.MustParsePrefix("10.1.2.3/8"),
		netip.MustParsePrefix("::ffff:192.0.2.0/120"),
		netip.MustParsePrefix("2001:db8::1/32"),
	}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("2001:db8::/32"),
	}
	if !slices.Equal(c.AllowedSources, want) {
		t.Errorf("AllowedSources = %v, want %v", c.AllowedSources, want)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no address", Config{}, "neither UDPAddress nor TCPAddress"},
		{"negative size", Config{UDPAddress: ":0", MaxMessageSize: -1}, "MaxMessageSize"},
		{"huge size", Config{UDPAddress: ":0", MaxMessageSize: 1 << 30}, "MaxMessageSize"},
		{"negative connections", Config{TCPAddress: ":0", MaxConnections: -1}, "MaxConnections"},
		{"negative idle", Config{TCPAddress: ":0", IdleTimeout: -time.Second}, "IdleTimeout"},
		{"negative message timeout", Config{TCPAddress: ":0", MessageTimeout: -time.Second}, "MessageTimeout"},
		{"per-source above table", Config{TCPAddress: ":0", MaxConnections: 4, MaxConnectionsPerSource: 5}, "MaxConnectionsPerSource"},
		{"invalid source", Config{TCPAddress: ":0", Sources: []Source{{}}}, "Sources[0]"},
		{"empty host", Config{TCPAddress: ":0", Sources: []Source{{Prefix: netip.MustParsePrefix("10.0.0.5/32"), Hosts: []string{""}}}}, "Sources[0].Hosts[0]"},
		{"invalid prefix", Config{TCPAddress: ":0", AllowedSources: []netip.Prefix{{}}}, "AllowedSources[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: error %v, want one naming %q", err, tt.want)
			}
		})
	}
}

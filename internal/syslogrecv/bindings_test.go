package syslogrecv

import (
	"net/netip"
	"strings"
	"testing"
)

func TestHostBindings(t *testing.T) {
	b := newHostBindings([]Source{
		{Prefix: netip.MustParsePrefix("10.0.0.5/32"), Hosts: []string{"cms1"}},
		{Prefix: netip.MustParsePrefix("10.0.0.6/32"), Hosts: []string{"cms2", "CMS2-wb"}},
		{Prefix: netip.MustParsePrefix("10.0.1.0/24"), Hosts: []string{"cms1"}}, // a second path for cms1
		{Prefix: netip.MustParsePrefix("10.0.2.0/24")},                          // no hosts: any unbound host
	})
	tests := []struct {
		src, host string
		want      bool
	}{
		{"10.0.0.5", "cms1", true},
		{"10.0.0.5", "CMS1", true}, // hostnames compare case-insensitively
		{"10.0.1.7", "cms1", true},
		{"10.0.0.6", "cms1", false}, // cms1 is bound to other addresses
		{"10.0.2.9", "cms1", false},
		{"192.0.2.1", "cms1", false},
		{"10.0.0.6", "cms2-wb", true},
		{"10.0.0.5", "cms2", false},  // 10.0.0.5 may report only cms1
		{"10.0.0.5", "lab9", false},  // ... even for an unbound host
		{"10.0.2.9", "lab9", true},   // an unrestricted source, an unbound host
		{"192.0.2.1", "lab9", true},  // allowed by AllowedSources: not restricted here
		{"10.0.1.7", "other", false}, // a restricted network
		{"10.0.0.5", "", false},      // no hostname is not a bound one
		{"10.0.2.9", "", true},       // (the line parser rejects it anyway)
	}
	for _, tt := range tests {
		if got := b.allows(netip.MustParseAddr(tt.src), []byte(tt.host)); got != tt.want {
			t.Errorf("allows(%s, %q) = %v, want %v", tt.src, tt.host, got, tt.want)
		}
	}
}

func TestHostBindingsOffWithoutHosts(t *testing.T) {
	b := newHostBindings([]Source{{Prefix: netip.MustParsePrefix("10.0.0.0/8")}})
	if b.enabled() || !b.allows(netip.MustParseAddr("192.0.2.1"), []byte("x")) {
		t.Error("sources without hosts must bind nothing")
	}
}

func TestHostAllowedCountsAndLogsRefusals(t *testing.T) {
	h := start(t, Config{TCPAddress: "127.0.0.1:0", Sources: []Source{
		{Prefix: netip.MustParsePrefix("127.0.0.5/32"), Hosts: []string{"cms1"}},
		{Prefix: netip.MustParsePrefix("127.0.0.6/32")},
	}})
	a5, a6 := netip.MustParseAddr("127.0.0.5"), netip.MustParseAddr("127.0.0.6")
	if !h.r.HostAllowed(a5, []byte("cms1")) {
		t.Error("cms1 from its own address refused")
	}
	for range 3 {
		if h.r.HostAllowed(a6, []byte("cms1")) {
			t.Error("cms1 from another address allowed")
		}
	}
	if got := h.r.Stats().Rejected[ReasonHostNotAllowed]; got != 3 {
		t.Errorf("Rejected[%s] = %d, want 3", ReasonHostNotAllowed, got)
	}
	if got := strings.Count(h.logs.String(), "host=cms1"); got != 1 {
		t.Errorf("%d log lines naming the host, want 1 (rate-limited)", got)
	}
	// The Sources networks are allowed as AllowedSources are.
	write(t, h.dialFrom(t, "127.0.0.6"), "<14>from a source entry\n")
	h.expect(t, "from a source entry")
}

func BenchmarkHostAllowed(b *testing.B) {
	r, err := New(Config{TCPAddress: "127.0.0.1:0", Sources: []Source{
		{Prefix: netip.MustParsePrefix("10.0.0.5/32"), Hosts: []string{"cms1"}},
		{Prefix: netip.MustParsePrefix("10.0.0.6/32"), Hosts: []string{"cms2"}},
	}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	src, host := netip.MustParseAddr("10.0.0.5"), []byte("cms1")
	b.ReportAllocs()
	for b.Loop() {
		if !r.HostAllowed(src, host) {
			b.Fatal("refused")
		}
	}
}

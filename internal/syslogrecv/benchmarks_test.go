package syslogrecv

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

var benchLines = []string{
	`<14>Feb 23 09:02:21.594 user.info CMS host:server: INFO : guest login request 1450660605: resolution in progress`,
	`<14>Nov  6 09:51:50 user.info CMS1 host:server:  INFO : SIP trace: connection 12: read failure, code 104`,
	`<14>Mar 18 14:54:52.698 webbridge: INFO : [DEBUGGING] Stats 149, c:3477, d:3170`,
	`<14>Mar 18 14:55:00.000 user.info cms01 host:server: INFO : STATS: {"callLegsPS": 1, "callLegs": "20/24", "CMA": "14/17", "sip": {"std": "0/1", "peer": "6/6"}}`,
}

// benchStream returns about size bytes of CMS-like lines, newline-framed
// or octet-counted.
func benchStream(size int, octet bool) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		l := benchLines[i%len(benchLines)]
		if octet {
			b.WriteString(strconv.Itoa(len(l)))
			b.WriteByte(' ')
			b.WriteString(l)
		} else {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// BenchmarkFramer measures framer throughput over 32 KiB reads, the read
// size of a busy connection, and over 100-byte reads that split most
// messages.
func BenchmarkFramer(b *testing.B) {
	for _, bc := range []struct {
		name  string
		octet bool
		read  int
	}{
		{"newline/32KiB", false, 32 << 10},
		{"octet/32KiB", true, 32 << 10},
		{"newline/100B", false, 100},
		{"octet/100B", true, 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			stream := benchStream(1<<20, bc.octet)
			chunks := splitEvery(stream, bc.read)
			f := newFramer(DefaultMaxMessageSize)
			var n int
			emit := func(fr frame) {
				if fr.reject != "" {
					b.Fatalf("rejected: %s", fr.reject)
				}
				n++
			}
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range chunks {
					f.feed(c, emit)
				}
			}
			if n == 0 {
				b.Fatal("no message framed")
			}
		})
	}
}

// BenchmarkReceiverTCP measures end-to-end throughput over loopback TCP:
// framing, PRI stripping, counting and the handler call.
func BenchmarkReceiverTCP(b *testing.B) {
	r, err := New(Config{
		TCPAddress:     "127.0.0.1:0",
		AllowedSources: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Listen(); err != nil {
		b.Fatal(err)
	}
	var got atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, func(Message) { got.Add(1) }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()

	_, addr := r.Addrs()
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	stream := benchStream(1<<20, false)
	perStream := int64(bytes.Count(stream, []byte{'\n'}))
	b.SetBytes(int64(len(stream)))
	var want int64
	for b.Loop() {
		if _, err := conn.Write(stream); err != nil {
			b.Fatal(err)
		}
		want += perStream
	}
	deadline := time.Now().Add(30 * time.Second)
	for got.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("received %d of %d messages", got.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

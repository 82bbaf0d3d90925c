package logline

import (
	"testing"
	"time"
)

// benchNoise is a mix of noise as a Call Bridge writes it: every domain.md
// line plus a few longer traces, newline-terminated as read from a file.
func benchNoise() [][]byte {
	lines := make([][]byte, 0, len(domainLines)+3)
	for _, d := range domainLines {
		lines = append(lines, []byte(d.line+"\n"))
	}
	lines = append(lines,
		[]byte(`Mar 18 15:08:52.412 user.info cmscb3-1 host:server:  INFO : SIP trace: connection 1843: incoming SIP TLS data from 10.20.30.40:5061, size 1180:`+"\n"),
		[]byte(`Mar 18 15:08:52.413 user.info cmscb3-1 host:server:  INFO : call 9112: outgoing SIP call to "sip:meeting-room-4711@video.example.com" from local URI "sip:cms@example.com" (Server: Cisco-CMS 3.8)`+"\n"),
		[]byte(`Mar 18 15:08:52.420 user.info cmscb3-1 host:server:  INFO : participant "Jane Doe" joined space 6c0a0c6e-1b5a-4d3b-9a41-1ad0c1b2f9e3 (Team Stand-up)`+"\n"),
	)
	return lines
}

// benchLines parses lines once per iteration and reports the bytes parsed.
func benchLines(b *testing.B, lines [][]byte, want Kind) {
	p := NewParser(time.UTC, ref)
	var out Line
	n := 0
	for _, l := range lines {
		n += len(l)
		if k := p.Parse(l, &out); k != want {
			b.Fatalf("%q: %v, want %v", l, k, want)
		}
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			p.Parse(l, &out)
		}
	}
}

func BenchmarkParseNoise(b *testing.B) {
	benchLines(b, benchNoise(), Noise)
}

func BenchmarkParseWebBridgeStats(b *testing.B) {
	benchLines(b, [][]byte{[]byte(`Feb 23 09:02:21.594 user.info cmswb1 "webbridge": INFO : [DEBUGGING] Stats 149, c:3477, d:3170` + "\n")}, WebBridgeStats)
}

func BenchmarkParseCallBridgeStats(b *testing.B) {
	benchLines(b, [][]byte{[]byte(`Feb 23 09:02:21.594 user.info cmscb1 host:server:  INFO : ` + cbMsg + "\n")}, CallBridgeStats)
}

func BenchmarkTimestamp(b *testing.B) {
	lines := benchNoise()
	p := NewParser(time.UTC, ref)
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			p.Timestamp(l)
		}
	}
}

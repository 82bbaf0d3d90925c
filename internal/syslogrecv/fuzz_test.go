package syslogrecv

import (
	"bytes"
	"slices"
	"strconv"
	"testing"
)

// FuzzFraming checks the TCP framer on arbitrary streams:
//   - it never panics, never emits a message longer than max and never
//     holds more than its bound (checked in frameChunks);
//   - every event consumes input: there are never more events than bytes;
//   - the events do not depend on how the stream is split into reads;
//   - the bytes, read as messages separated by 0xFF, round-trip through a
//     mix of octet-counted and newline framing.
func FuzzFraming(f *testing.F) {
	f.Add([]byte("<34>a\n5 <13>b<1>c\r\n"), uint8(16), uint16(3))
	f.Add([]byte("25 xxxxxxxxxxxxxxxxxxxxxxxxx3 <1>"), uint8(20), uint16(1))
	f.Add([]byte("2024-03-06T09:34:45.395 local0.info cms01 cli: x\n"), uint8(200), uint16(7))
	f.Add([]byte("\x00\r\n12345678901 x\n10 <1>"), uint8(5), uint16(0xffff))
	f.Add([]byte("<1>a\r\xff<2>b\n\xff123 \xff\xff\r\r"), uint8(4), uint16(0x5555))
	f.Fuzz(func(t *testing.T, in []byte, limit uint8, cut uint16) {
		max := int(limit)%200 + 1

		whole := frameChunks(t, max, [][]byte{in})
		if len(whole) > len(in) {
			t.Fatalf("%d events from %d bytes", len(whole), len(in))
		}
		for name, chunks := range map[string][][]byte{
			"byte by byte":  splitEvery(in, 1),
			"uneven chunks": splitEvery(in, int(cut)%17+1),
		} {
			if got := frameChunks(t, max, chunks); !slices.Equal(got, whole) {
				t.Fatalf("%s: %v\nwhole: %v", name, got, whole)
			}
		}

		stream, want := encodeMessages(bytes.Split(in, []byte{0xff}), max, cut)
		for _, n := range []int{len(stream) + 1, int(cut)%13 + 1} {
			if got := frameChunks(t, max, splitEvery(stream, n)); !slices.Equal(got, want) {
				t.Fatalf("round trip of %q in chunks of %d:\ngot  %v\nwant %v", stream, n, got, want)
			}
		}
	})
}

// encodeMessages frames msgs as a TCP stream, message i octet-counted when
// bit i%16 of mode is set and newline-framed otherwise, and returns the
// events a framer must produce for it.
func encodeMessages(msgs [][]byte, max int, mode uint16) (stream []byte, want []event) {
	for i, m := range msgs {
		if len(m) == 0 {
			continue // an octet count cannot be zero, a line cannot be empty
		}
		if mode&(1<<(i%16)) != 0 {
			stream = strconv.AppendInt(stream, int64(len(m)), 10)
			stream = append(stream, ' ')
			stream = append(stream, m...)
			if len(m) > max {
				want = append(want, rej(ReasonTooLarge))
			} else {
				want = append(want, msg(string(trimTrailer(m))))
			}
			continue
		}
		// A line must not contain a terminator, and must not start with a
		// digit or a blank, which mean something else at a frame start.
		line := append([]byte("<1>"), bytes.Map(func(r rune) rune {
			if r == '\n' || r == 0 {
				return -1
			}
			return r
		}, m)...)
		stream = append(stream, line...)
		stream = append(stream, '\n')
		content := bytes.TrimSuffix(line, []byte("\r"))
		if len(content) > max {
			want = append(want, rej(ReasonTooLarge))
		} else {
			want = append(want, msg(string(trimTrailer(line))))
		}
	}
	return stream, want
}

func splitEvery(p []byte, n int) [][]byte {
	var out [][]byte
	for len(p) > 0 {
		k := min(n, len(p))
		out = append(out, p[:k:k])
		p = p[k:]
	}
	return out
}

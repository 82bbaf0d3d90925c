package syslogrecv

import (
	"slices"
	"strings"
	"testing"
)

// event is a frame made comparable: the data copied, or the reason.
type event struct {
	data   string
	reject string
}

func msg(s string) event { return event{data: s} }
func rej(r string) event { return event{reject: r} }
func (e event) String() string {
	if e.reject != "" {
		return "reject(" + e.reject + ")"
	}
	return "msg(" + e.data + ")"
}

// frameChunks feeds chunks to a new framer of max size limit, closes it, and
// returns the events. It fails t if the framer ever holds more than its
// bound or emits a message longer than max.
func frameChunks(t testing.TB, limit int, chunks [][]byte) []event {
	t.Helper()
	f := newFramer(limit)
	var got []event
	emit := func(fr frame) {
		if fr.reject == "" && len(fr.data) > limit {
			t.Fatalf("message of %d bytes exceeds max %d", len(fr.data), limit)
		}
		got = append(got, event{data: string(fr.data), reject: fr.reject})
	}
	bound := max(limit+1, maxCountDigits)
	for _, c := range chunks {
		f.feed(c, emit)
		if f.buffered() > bound {
			t.Fatalf("framer holds %d bytes, bound is %d", f.buffered(), bound)
		}
	}
	f.close(emit)
	if f.buffered() != 0 || f.state != stStart {
		t.Fatalf("framer not reset by close: %d bytes, state %d", f.buffered(), f.state)
	}
	return got
}

// splits returns the input whole, byte by byte, and in chunks of 2, 3 and 7
// bytes: framing must not depend on how TCP segments the stream.
func splits(in string) map[string][][]byte {
	out := map[string][][]byte{"whole": {[]byte(in)}}
	for _, n := range []int{1, 2, 3, 7} {
		var chunks [][]byte
		for s := in; len(s) > 0; {
			k := min(n, len(s))
			chunks = append(chunks, []byte(s[:k]))
			s = s[k:]
		}
		out["chunks of "+string(rune('0'+n))] = chunks
	}
	return out
}

func TestFramer(t *testing.T) {
	long := strings.Repeat("x", 20)
	tests := []struct {
		name string
		max  int
		in   string
		want []event
	}{
		{"LF", 64, "<34>a b\n<13>c\n", []event{msg("<34>a b"), msg("<13>c")}},
		{"CRLF", 64, "<34>a\r\n<13>c\r\n", []event{msg("<34>a"), msg("<13>c")}},
		{"NUL", 64, "<34>a\x00<13>c\x00", []event{msg("<34>a"), msg("<13>c")}},
		{"blank lines skipped", 64, "\n\r\n\x00<34>a\n\n", []event{msg("<34>a")}},
		{"octet counted", 64, "5 <34>a3 <1>", []event{msg("<34>a"), msg("<1>")}},
		{"octet counted body keeps LF inside", 64, "7 <34>a\nb", []event{msg("<34>a\nb")}},
		{"octet counted trailing LF dropped", 64, "6 <34>a\n5 <34>b", []event{msg("<34>a"), msg("<34>b")}},
		{"octet counted then LF between frames", 64, "5 <34>a\n5 <34>b\n", []event{msg("<34>a"), msg("<34>b")}},
		{"mixed", 64, "5 <34>a<13>line\n3 <1>", []event{msg("<34>a"), msg("<13>line"), msg("<1>")}},
		{"octet counted empty after trim", 64, "1 \n<1>x\n", []event{msg(""), msg("<1>x")}},
		{"digits without space are a line", 64, "2024-03-06T09:34:45.395 local0.info cms01 cli: x\n",
			[]event{msg("2024-03-06T09:34:45.395 local0.info cms01 cli: x")}},
		{"zero starts a line", 64, "0 x\n", []event{msg("0 x")}},
		{"eleven digits are a line", 64, "12345678901 x\n", []event{msg("12345678901 x")}},
		{"line at max", 20, long + "\n", []event{msg(long)}},
		{"line at max with CRLF", 20, long + "\r\n", []event{msg(long)}},
		{"line over max then resync", 20, long + "y\n<1>ok\n", []event{rej(ReasonTooLarge), msg("<1>ok")}},
		{"line far over max then resync", 20, strings.Repeat("z", 100) + "\n<1>ok\n", []event{rej(ReasonTooLarge), msg("<1>ok")}},
		{"line max+1 with CR but no LF", 20, long + "\ry\n<1>ok\n", []event{rej(ReasonTooLarge), msg("<1>ok")}},
		{"octet frame at max", 20, "20 " + long + "3 <1>", []event{msg(long), msg("<1>")}},
		{"octet frame over max skipped by length", 20, "25 " + long + "\n\n\n\n\n3 <1>", []event{rej(ReasonTooLarge), msg("<1>")}},
		{"huge octet count skipped by length", 20, "9999999999 " + long, []event{rej(ReasonTooLarge)}},
		{"unterminated last line kept", 64, "<1>a\n<2>b", []event{msg("<1>a"), msg("<2>b")}},
		{"unterminated digits kept as line", 64, "123", []event{msg("123")}},
		{"truncated octet frame", 64, "10 <1>abc", []event{rej(ReasonBadFrame)}},
		{"count without body", 64, "10 ", []event{rej(ReasonBadFrame)}},
		{"empty input", 64, "", nil},
		{"tiny max with digit line", 3, "123456x\n<1>\n", []event{rej(ReasonTooLarge), msg("<1>")}},
	}
	for _, tt := range tests {
		for how, chunks := range splits(tt.in) {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				got := frameChunks(t, tt.max, chunks)
				if !slices.Equal(got, tt.want) {
					t.Errorf("feed %q (max %d):\ngot  %v\nwant %v", tt.in, tt.max, got, tt.want)
				}
			})
		}
	}
}

// TestFramerReuseAfterClose checks that close resets a framer mid-frame so
// the next stream starts clean.
func TestFramerReuseAfterClose(t *testing.T) {
	f := newFramer(64)
	var got []event
	emit := func(fr frame) { got = append(got, event{data: string(fr.data), reject: fr.reject}) }
	f.feed([]byte("10 <1>"), emit)
	f.close(emit)
	f.feed([]byte("<2>b\n"), emit)
	want := []event{rej(ReasonBadFrame), msg("<2>b")}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestIndexTerminator(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", -1}, {"abc", -1}, {"a\nb", 1}, {"a\x00b\n", 1}, {"ab\n\x00", 2}, {"\x00", 0},
	}
	for _, tt := range tests {
		if got := indexTerminator([]byte(tt.in)); got != tt.want {
			t.Errorf("indexTerminator(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

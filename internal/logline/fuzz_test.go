package logline

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// webBridgeRE is an independent statement of the Web Bridge message grammar.
var webBridgeRE = regexp.MustCompile(`^\[(?:DEBUGGING|DEBUG)\][ \t]+Stats [ \t]*([0-9]+),[ \t]*c:([0-9]+),[ \t]*d:([0-9]+)[ \t]*$`)

func FuzzParse(f *testing.F) {
	for _, d := range domainLines {
		f.Add([]byte(d.line))
	}
	for _, tests := range [][]parseTest{webBridgeTests, callBridgeTests, lookAlikeTests} {
		for _, tc := range tests {
			f.Add([]byte(tc.line))
		}
	}
	for _, line := range noiseLines() {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		p := NewParser(time.UTC, ref)
		var out Line
		k := p.Parse(b, &out)
		if !bytes.Equal(in, b) {
			t.Fatal("Parse modified its input")
		}
		checkLine(t, b, k, &out)

		// The fast path must not reject a line that holds a marker.
		if hasMarker(b) != (bytes.Contains(b, []byte("Stats ")) || bytes.Contains(b, []byte("STATS:"))) {
			t.Fatalf("hasMarker = %v", hasMarker(b))
		}

		// A line end changes nothing.
		if n := len(b); n == 0 || (b[n-1] != '\r' && b[n-1] != '\n') {
			for _, eol := range []string{"\n", "\r\n"} {
				var out2 Line
				NewParser(time.UTC, ref).Parse(append(bytes.Clone(b), eol...), &out2)
				if !sameLine(&out, &out2) {
					t.Fatalf("with %q: %+v, without: %+v", eol, out2, out)
				}
			}
		}

		if k == WebBridgeStats || k == CallBridgeStats {
			ts, ok := NewParser(time.UTC, ref).Timestamp(b)
			if !ok || !ts.Equal(out.Time) {
				t.Fatalf("Timestamp = %v, %v; Parse time %v", ts, ok, out.Time)
			}
		}

		h := parseHeader(trimEOL(b), time.UTC, ref, false)
		if h.reason != "" {
			return
		}
		msg := trimEOL(b)[h.msg:]
		if !plausibleHost(h.host) {
			if k != Noise && (k != Malformed || out.Reason != reasonBadHost) {
				t.Fatalf("implausible host %q gave %v %q", h.host, k, out.Reason)
			}
			return
		}
		if isWebBridgeTag(h.tag) && webBridgeForm(msg) >= 0 {
			checkWebBridge(t, msg, k, &out)
		} else if i := callBridgeForm(msg); i >= 0 {
			checkCallBridge(t, msg[i:], k, &out)
		} else if k != Noise {
			t.Fatalf("no stats form at the message start but %v", k)
		}
	})
}

// checkLine checks the invariants every result must hold.
func checkLine(t *testing.T, b []byte, k Kind, out *Line) {
	t.Helper()
	if k != out.Kind || k > Malformed {
		t.Fatalf("returned %v, out.Kind %v", k, out.Kind)
	}
	switch k {
	case Noise:
		if !reflect.DeepEqual(*out, Line{}) {
			t.Fatalf("noise carries data: %+v", out)
		}
	case Malformed:
		if out.Reason == "" || (out.MalformedKind != "webbridge" && out.MalformedKind != "callbridge") {
			t.Fatalf("malformed without reason or kind: %+v", out)
		}
		if out.WebBridge != (WebBridge{}) || !reflect.DeepEqual(out.CallBridge, CallBridge{}) {
			t.Fatalf("malformed line carries a sample: %+v", out)
		}
	default:
		if out.Reason != "" || out.MalformedKind != "" {
			t.Fatalf("sample with a reason: %+v", out)
		}
		if out.Time.IsZero() {
			t.Fatal("sample without time")
		}
		if len(out.Host) == 0 || !isSubslice(b, out.Host) {
			t.Fatalf("host %q is empty or not part of the input", out.Host)
		}
		wb, cb := out.WebBridge, out.CallBridge
		for _, v := range []int64{wb.Active, wb.Connections, wb.Disconnections} {
			inRange(t, v)
		}
		for _, pr := range []Pair{cb.CMA, cb.CallLegs, cb.SIPStd, cb.SIPPeer} {
			inRange(t, pr.Current)
			inRange(t, pr.Peak)
			if pr.Peak < pr.Current {
				t.Fatalf("peak below current: %+v", cb)
			}
		}
		for _, pr := range cb.Other {
			inRange(t, pr.Current)
			inRange(t, pr.Peak)
		}
		if math.IsNaN(cb.CallLegsPS) || cb.CallLegsPS < 0 || cb.CallLegsPS > MaxValue {
			t.Fatalf("callLegsPS %v", cb.CallLegsPS)
		}
		if k == WebBridgeStats && !reflect.DeepEqual(cb, CallBridge{}) || k == CallBridgeStats && wb != (WebBridge{}) {
			t.Fatalf("sample of both kinds: %+v", out)
		}
	}
}

func inRange(t *testing.T, v int64) {
	t.Helper()
	if v < 0 || v > MaxValue {
		t.Fatalf("number %d out of [0, MaxValue]", v)
	}
}

// isSubslice reports whether s points into b.
func isSubslice(b, s []byte) bool {
	for i := range b {
		if &b[i] == &s[0] {
			return len(b)-i >= len(s)
		}
	}
	return false
}

// checkWebBridge compares a Web Bridge result with the regular expression.
func checkWebBridge(t *testing.T, msg []byte, k Kind, out *Line) {
	t.Helper()
	m := webBridgeRE.FindSubmatch(msg)
	var want WebBridge
	valid := m != nil
	for i, dst := range []*int64{&want.Active, &want.Connections, &want.Disconnections} {
		if !valid {
			break
		}
		v, err := strconv.ParseInt(string(m[i+1]), 10, 64)
		valid = err == nil && v <= MaxValue
		*dst = v
	}
	if valid != (k == WebBridgeStats) || (valid && out.WebBridge != want) {
		t.Fatalf("%q: got %v %+v %q, regexp says valid=%v %+v", msg, k, out.WebBridge, out.Reason, valid, want)
	}
	if !valid && k != Malformed {
		t.Fatalf("%q: stats form but %v", msg, k)
	}
}

// checkCallBridge compares a Call Bridge result with encoding/json.
func checkCallBridge(t *testing.T, obj []byte, k Kind, out *Line) {
	t.Helper()
	if k != CallBridgeStats && k != Malformed {
		t.Fatalf("%q: stats form but %v", obj, k)
	}
	valid := json.Valid(obj)
	syntax := strings.HasPrefix(out.Reason, "invalid JSON") || strings.HasPrefix(out.Reason, "trailing data")
	switch {
	case !valid && k != Malformed:
		t.Fatalf("%q: encoding/json rejects it but %v", obj, k)
	case valid && syntax && out.Reason != "invalid JSON: nested too deeply":
		t.Fatalf("%q: encoding/json accepts it but %q", obj, out.Reason)
	case !valid && !syntax:
		t.Fatalf("%q: encoding/json rejects it but reason %q", obj, out.Reason)
	}
	if k != CallBridgeStats {
		return
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(obj))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%q: encoding/json: %v", obj, err)
	}
	cb := out.CallBridge
	wantPair(t, obj, m["CMA"], true, cb.CMA)
	wantPair(t, obj, m["callLegs"], cb.HasCallLegs, cb.CallLegs)
	if sip, ok := m["sip"].(map[string]any); ok && cb.HasSIP {
		wantPair(t, obj, sip["std"], true, cb.SIPStd)
		wantPair(t, obj, sip["peer"], true, cb.SIPPeer)
	}
	if n, ok := m["callLegsPS"].(json.Number); ok != cb.HasCallLegsPS {
		t.Fatalf("%q: callLegsPS present=%v, HasCallLegsPS=%v", obj, ok, cb.HasCallLegsPS)
	} else if f, _ := n.Float64(); ok && f != cb.CallLegsPS {
		t.Fatalf("%q: callLegsPS %v, want %v", obj, cb.CallLegsPS, f)
	}
}

// wantPair checks that v, a value decoded by encoding/json, is the "a/b"
// string that got is, when has.
func wantPair(t *testing.T, obj []byte, v any, has bool, got Pair) {
	t.Helper()
	if !has {
		if v != nil {
			t.Fatalf("%q: %v present but not decoded", obj, v)
		}
		return
	}
	s, _ := v.(string)
	a, b, _ := strings.Cut(s, "/")
	cur, err1 := strconv.ParseInt(a, 10, 64)
	peak, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || (Pair{cur, peak}) != got {
		t.Fatalf("%q: decoded %+v, encoding/json has %q", obj, got, s)
	}
}

// sameLine reports whether two results are equal, comparing Host by value.
func sameLine(a, b *Line) bool {
	return a.Kind == b.Kind && a.Time.Equal(b.Time) && bytes.Equal(a.Host, b.Host) &&
		a.WebBridge == b.WebBridge && reflect.DeepEqual(a.CallBridge, b.CallBridge) &&
		a.MalformedKind == b.MalformedKind && a.Reason == b.Reason
}

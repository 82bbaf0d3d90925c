package logline

import (
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	wbMsg = `[DEBUGGING] Stats 149, c:3477, d:3170`
	cbMsg = `STATS: {"callLegsPS": 1, "callLegs": "20/24", "CMA": "14/17", "sip": {"std": "0/1", "peer": "6/6"}}`
)

var (
	wbSample = WebBridge{Active: 149, Connections: 3477, Disconnections: 3170}
	cbSample = CallBridge{
		CMA:      Pair{14, 17},
		CallLegs: Pair{20, 24}, HasCallLegs: true,
		CallLegsPS: 1, HasCallLegsPS: true,
		SIPStd: Pair{0, 1}, SIPPeer: Pair{6, 6}, HasSIP: true,
	}
	feb23 = time.Date(2024, 2, 23, 9, 2, 21, 594e6, time.UTC)
)

// want is the expected result of parsing one line.
type want struct {
	kind     Kind
	time     time.Time
	host     string
	wb       WebBridge
	cb       CallBridge
	mkind    string
	reason   string
	noHeader bool // Malformed for a bad header: no time expected
}

func check(t *testing.T, line string, got *Line, k Kind, w want) {
	t.Helper()
	if k != got.Kind {
		t.Errorf("%q: returned %v but out.Kind is %v", line, k, got.Kind)
	}
	reasonOK := got.Reason == w.reason
	if w.reason == reasonAnySyntax {
		// encoding/json words its syntax errors; the category is ours.
		reasonOK = strings.HasPrefix(got.Reason, "invalid JSON: ") &&
			got.Reason != "invalid JSON: truncated" && got.Reason != "invalid JSON: nested too deeply"
	}
	if got.Kind != w.kind || got.MalformedKind != w.mkind || !reasonOK {
		t.Fatalf("%q: got %v %q %q, want %v %q %q", line, got.Kind, got.MalformedKind, got.Reason, w.kind, w.mkind, w.reason)
	}
	if w.kind == Noise {
		if !got.Time.IsZero() || got.Host != nil || got.WebBridge != (WebBridge{}) || got.CallBridge.Other != nil || got.CallBridge.CMA != (Pair{}) {
			t.Errorf("%q: noise line carries data: %+v", line, got)
		}
		return
	}
	if !w.noHeader && !got.Time.Equal(w.time) {
		t.Errorf("%q: time %v, want %v", line, got.Time, w.time)
	}
	if w.noHeader && !got.Time.IsZero() {
		t.Errorf("%q: time %v, want zero", line, got.Time)
	}
	if string(got.Host) != w.host {
		t.Errorf("%q: host %q, want %q", line, got.Host, w.host)
	}
	if got.WebBridge != w.wb {
		t.Errorf("%q: web bridge %+v, want %+v", line, got.WebBridge, w.wb)
	}
	gcb, wcb := got.CallBridge, w.cb
	if !maps.Equal(gcb.Other, wcb.Other) || (gcb.Other == nil) != (wcb.Other == nil) {
		t.Errorf("%q: other %v, want %v", line, gcb.Other, wcb.Other)
	}
	gcb.Other, wcb.Other = nil, nil
	if !reflect.DeepEqual(gcb, wcb) {
		t.Errorf("%q: call bridge %+v, want %+v", line, gcb, wcb)
	}
}

// parseTest is one row of a Parse table.
type parseTest struct {
	name, line string
	want       want
}

func runTable(t *testing.T, tests []parseTest) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(time.UTC, ref)
			var out Line
			k := p.Parse([]byte(tc.line), &out)
			check(t, tc.line, &out, k, tc.want)
		})
	}
}

func wbWant(wb WebBridge) want {
	return want{kind: WebBridgeStats, time: feb23, host: "CMS", wb: wb}
}

func cbWant(cb CallBridge) want {
	return want{kind: CallBridgeStats, time: feb23, host: "CMS", cb: cb}
}

func badWB(reason string) want {
	return want{kind: Malformed, time: feb23, host: "CMS", mkind: "webbridge", reason: reason}
}

// reasonAnySyntax stands for any syntax error other than truncation or
// depth, which encoding/json words in its own way.
const reasonAnySyntax = "invalid JSON: <syntax>"

func badSyntax() want { return badCB(reasonAnySyntax) }

func badCB(reason string) want {
	return want{kind: Malformed, time: feb23, host: "CMS", mkind: "callbridge", reason: reason}
}

const hdr = `Feb 23 09:02:21.594 user.info CMS `

// stats returns a Call Bridge stats line with the given JSON.
func stats(json string) string { return hdr + `host:server:  INFO : STATS: ` + json }

// TestParseEveryHeaderForm puts both stats messages behind every header
// form of domain.md.
func TestParseEveryHeaderForm(t *testing.T) {
	for _, d := range domainLines {
		// Keep everything up to and including the host.
		prefix := d.line[:strings.Index(d.line, " "+d.tag+":")+1]
		for _, tc := range []struct {
			line string
			want want
		}{
			{prefix + `"webbridge": INFO : ` + wbMsg, want{kind: WebBridgeStats, wb: wbSample}},
			{prefix + `webbridge:  INFO : ` + wbMsg, want{kind: WebBridgeStats, wb: wbSample}},
			{prefix + `host:server: INFO : ` + cbMsg, want{kind: CallBridgeStats, cb: cbSample}},
			{prefix + `host:server:  INFO : ` + cbMsg, want{kind: CallBridgeStats, cb: cbSample}},
			{prefix + `host:server:  INFO : API trace: user typed "Stats 5, c:1, d:1"`, want{kind: Noise}},
		} {
			tc.want.time, tc.want.host = d.time, d.host
			p := NewParser(time.UTC, ref)
			var out Line
			k := p.Parse([]byte(tc.line), &out)
			check(t, tc.line, &out, k, tc.want)
		}
	}
}

func TestParseDomainLinesAreNoise(t *testing.T) {
	for _, d := range domainLines {
		p := NewParser(time.UTC, ref)
		out := Line{Kind: Malformed, Reason: "stale", Host: []byte("stale")}
		if k := p.Parse([]byte(d.line+"\n"), &out); k != Noise {
			t.Errorf("%q: %v, want noise", d.line, k)
		}
		check(t, d.line, &out, Noise, want{kind: Noise})
	}
}

var webBridgeTests = []parseTest{
	{"cisco sample", hdr + `"webbridge": INFO : [DEBUGGING] Stats 149, c:3477, d:3170`, wbWant(wbSample)},
	{"unquoted tag", hdr + `webbridge: INFO : [DEBUGGING] Stats 149, c:3477, d:3170`, wbWant(wbSample)},
	{"pid tag", hdr + `webbridge[812]: INFO : [DEBUGGING] Stats 149, c:3477, d:3170`, wbWant(wbSample)},
	{"DEBUG", hdr + `webbridge: INFO : [DEBUG] Stats 149, c:3477, d:3170`, wbWant(wbSample)},
	{"no level", hdr + `webbridge: [DEBUGGING] Stats 149, c:3477, d:3170`, wbWant(wbSample)},
	{"padded level", hdr + `webbridge:  INFO    : [DEBUGGING] Stats 149, c:3477, d:3170`, wbWant(wbSample)},
	{"LF", hdr + `webbridge: INFO : ` + wbMsg + "\n", wbWant(wbSample)},
	{"CRLF", hdr + `webbridge: INFO : ` + wbMsg + "\r\n", wbWant(wbSample)},
	{"trailing spaces", hdr + `webbridge: INFO : ` + wbMsg + " \t ", wbWant(wbSample)},
	{"tight commas", hdr + `webbridge: INFO : [DEBUGGING]  Stats  149,c:3477,d:3170`, wbWant(wbSample)},
	{"zeros", hdr + `webbridge: INFO : [DEBUGGING] Stats 0, c:0, d:0`, wbWant(WebBridge{})},
	{"leading zeros", hdr + `webbridge: INFO : [DEBUGGING] Stats 007, c:0, d:0`, wbWant(WebBridge{Active: 7})},
	{
		"max value", hdr + `webbridge: INFO : [DEBUGGING] Stats 9007199254740991, c:9007199254740991, d:1`,
		wbWant(WebBridge{Active: MaxValue, Connections: MaxValue, Disconnections: 1}),
	},
	{"invalid utf-8 host", "Feb 23 09:02:21.594 user.info \xffCMS webbridge: INFO : " + wbMsg,
		want{kind: Malformed, time: feb23, host: "\xffCMS", mkind: "webbridge", reason: "header: implausible hostname"}},

	{"negative active", hdr + `webbridge: INFO : [DEBUGGING] Stats -1, c:3477, d:3170`, badWB("active: negative number")},
	{"negative c", hdr + `webbridge: INFO : [DEBUGGING] Stats 1, c:-3477, d:3170`, badWB("c: negative number")},
	{"negative d", hdr + `webbridge: INFO : [DEBUGGING] Stats 1, c:3477, d:-3170`, badWB("d: negative number")},
	{"above MaxValue", hdr + `webbridge: INFO : [DEBUGGING] Stats 9007199254740992, c:1, d:1`, badWB("active: number too large")},
	{"int64 overflow", hdr + `webbridge: INFO : [DEBUGGING] Stats 1, c:99999999999999999999999999, d:1`, badWB("c: number too large")},
	{"d overflow", hdr + `webbridge: INFO : [DEBUGGING] Stats 1, c:1, d:18446744073709551617`, badWB("d: number too large")},
	{"not a number", hdr + `webbridge: INFO : [DEBUGGING] Stats abc, c:1, d:1`, badWB("active: not a number")},
	{"fraction", hdr + `webbridge: INFO : [DEBUGGING] Stats 1.5, c:1, d:1`, badWB("active: not a number")},
	{"empty", hdr + `webbridge: INFO : [DEBUGGING] Stats `, badWB("active: not a number")},
	{"plus sign", hdr + `webbridge: INFO : [DEBUGGING] Stats +1, c:1, d:1`, badWB("active: not a number")},
	{"c not a number", hdr + `webbridge: INFO : [DEBUGGING] Stats 1, c:x, d:1`, badWB("c: not a number")},
	{"d suffix", hdr + `webbridge: INFO : [DEBUGGING] Stats 1, c:1, d:1x`, badWB("d: not a number")},
	{"d NUL", hdr + "webbridge: INFO : [DEBUGGING] Stats 1, c:1, d:1\x00", badWB("d: not a number")},
	{"missing c", hdr + `webbridge: INFO : [DEBUGGING] Stats 149, d:3170`, badWB("missing c:")},
	{"missing comma", hdr + `webbridge: INFO : [DEBUGGING] Stats 149 c:3477, d:3170`, badWB("missing c:")},
	{"missing d", hdr + `webbridge: INFO : [DEBUGGING] Stats 149, c:3477`, badWB("missing d:")},
	{"d renamed", hdr + `webbridge: INFO : [DEBUGGING] Stats 149, c:3477, x:3170`, badWB("missing d:")},
	{"trailing field", hdr + `webbridge: INFO : [DEBUGGING] Stats 149, c:3477, d:3170, e:5`, badWB("trailing data after d:")},
	{"trailing text", hdr + `webbridge: INFO : [DEBUGGING] Stats 149, c:3477, d:3170 extra`, badWB("trailing data after d:")},
	{"bad timestamp", `Feb 30 09:02:21.594 user.info CMS webbridge: INFO : ` + wbMsg, want{kind: Malformed, mkind: "webbridge", reason: reasonBadTime, noHeader: true}},
	{"no timestamp", `"webbridge": INFO : ` + wbMsg, want{kind: Malformed, mkind: "webbridge", reason: reasonNoTimestamp, noHeader: true}},
	{"no host", `Feb 23 09:02:21.594 user.info webbridge: INFO : ` + wbMsg, want{kind: Malformed, time: feb23, mkind: "webbridge", reason: reasonNoHost}},
	{"bad inner timestamp", `2016-06-07 03:18:14 User.Info relay Jun 31 10:18:20 cms1 webbridge: INFO : ` + wbMsg, want{kind: Malformed, mkind: "webbridge", reason: reasonBadTime, noHeader: true}},
}

func TestParseWebBridge(t *testing.T) {
	runTable(t, webBridgeTests)
}

var callBridgeTests = []parseTest{
	{"cisco sample", hdr + `host:server:  INFO : ` + cbMsg, cbWant(cbSample)},
	{"CRLF", hdr + `host:server:  INFO : ` + cbMsg + "\r\n", cbWant(cbSample)},
	{"trailing whitespace", hdr + `host:server:  INFO : ` + cbMsg + " \t", cbWant(cbSample)},
	{"any tag", hdr + `callbridge: INFO : ` + cbMsg, cbWant(cbSample)},
	{"no level", hdr + `host:server: ` + cbMsg, cbWant(cbSample)},
	{"no space before brace", hdr + `host:server: INFO : STATS:{"CMA": "1/2"}`, cbWant(CallBridge{CMA: Pair{1, 2}})},
	{"CMA only", stats(`{"CMA": "0/0"}`), cbWant(CallBridge{})},
	{"compact", stats(`{"CMA":"3/3","callLegs":"0/0"}`), cbWant(CallBridge{CMA: Pair{3, 3}, HasCallLegs: true})},
	{"JSON whitespace", stats("{\n\t\"CMA\" :\r \"1/2\" }"), cbWant(CallBridge{CMA: Pair{1, 2}})},
	{"max value", stats(`{"CMA": "9007199254740991/9007199254740991"}`), cbWant(CallBridge{CMA: Pair{MaxValue, MaxValue}})},
	{"fractional rate", stats(`{"CMA": "1/2", "callLegsPS": 1.5}`), cbWant(CallBridge{CMA: Pair{1, 2}, CallLegsPS: 1.5, HasCallLegsPS: true})},
	{"exponent rate", stats(`{"CMA": "1/2", "callLegsPS": 2.5E2}`), cbWant(CallBridge{CMA: Pair{1, 2}, CallLegsPS: 250, HasCallLegsPS: true})},
	{"zero rate", stats(`{"CMA": "1/2", "callLegsPS": 0}`), cbWant(CallBridge{CMA: Pair{1, 2}, HasCallLegsPS: true})},
	{"escaped key", stats(`{"\u0043MA": "1\/2"}`), cbWant(CallBridge{CMA: Pair{1, 2}})},
	{
		"other pairs by dotted name",
		stats(`{"CMA": "1/2", "xmpp": "3/4", "sip": {"std": "0/1", "peer": "6/6", "tls": "2/2"}, "a": {"b": {"c": "5/6"}}}`),
		cbWant(CallBridge{CMA: Pair{1, 2}, SIPStd: Pair{0, 1}, SIPPeer: Pair{6, 6}, HasSIP: true,
			Other: map[string]Pair{"xmpp": {3, 4}, "sip.tls": {2, 2}, "a.b.c": {5, 6}}}),
	},
	{"other pair may have peak below current", stats(`{"CMA": "1/2", "x": "5/4"}`), cbWant(CallBridge{CMA: Pair{1, 2}, Other: map[string]Pair{"x": {5, 4}}})},
	{
		"unknown keys of every type",
		stats(`{"v": "3.1", "n": -12.5e-3, "t": true, "f": false, "z": null, "o": {}, "a": [1, "2/3", {"CMA": "-1/x"}, [[]]], "s": "a/b", "u": "\u00e9\ud83d\ude00\ud800", "CMA": "1/2"}`),
		cbWant(CallBridge{CMA: Pair{1, 2}}),
	},
	{"lone sip.std goes to Other", stats(`{"CMA": "1/2", "sip": {"std": "0/1"}}`), cbWant(CallBridge{CMA: Pair{1, 2}, Other: map[string]Pair{"sip.std": {0, 1}}})},
	{"lone sip.peer goes to Other", stats(`{"CMA": "1/2", "sip": {"peer": "3/4"}}`), cbWant(CallBridge{CMA: Pair{1, 2}, Other: map[string]Pair{"sip.peer": {3, 4}}})},
	{"empty sip", stats(`{"CMA": "1/2", "sip": {}}`), cbWant(CallBridge{CMA: Pair{1, 2}})},
	{"nested CMA is other", stats(`{"CMA": "1/2", "x": {"CMA": "7/8"}}`), cbWant(CallBridge{CMA: Pair{1, 2}, Other: map[string]Pair{"x.CMA": {7, 8}}})},
	{"invalid utf-8 in strings", stats("{\"\xff\": \"\xfe\", \"CMA\": \"1/2\"}"), cbWant(CallBridge{CMA: Pair{1, 2}})},

	{"no CMA key", stats(`{"callLegs": "20/24"}`), badCB("no CMA key")},
	{"empty object", stats(`{}`), badCB("no CMA key")},
	{"CMA without slash", stats(`{"CMA": "14"}`), badCB("CMA: missing slash")},
	{"CMA negative", stats(`{"CMA": "-1/17"}`), badCB("CMA: negative number")},
	{"CMA negative peak", stats(`{"CMA": "1/-17"}`), badCB("CMA: negative number")},
	{"CMA not a number", stats(`{"CMA": "a/b"}`), badCB("CMA: not a number")},
	{"CMA empty half", stats(`{"CMA": "1/"}`), badCB("CMA: not a number")},
	{"CMA two slashes", stats(`{"CMA": "1/2/3"}`), badCB("CMA: not a number")},
	{"CMA spaces", stats(`{"CMA": " 1/2"}`), badCB("CMA: not a number")},
	{"CMA above MaxValue", stats(`{"CMA": "1/9007199254740992"}`), badCB("CMA: number too large")},
	{"CMA int64 overflow", stats(`{"CMA": "99999999999999999999/99999999999999999999"}`), badCB("CMA: number too large")},
	{"CMA peak below current", stats(`{"CMA": "17/14"}`), badCB("CMA: peak below current")},
	{"callLegs peak below current", stats(`{"CMA": "1/1", "callLegs": "24/20"}`), badCB("callLegs: peak below current")},
	{"sip.std peak below current", stats(`{"CMA": "1/1", "sip": {"std": "2/1", "peer": "0/0"}}`), badCB("sip.std: peak below current")},
	{"sip.peer negative", stats(`{"CMA": "1/1", "sip": {"std": "0/1", "peer": "-6/6"}}`), badCB("sip.peer: negative number")},
	{"CMA number", stats(`{"CMA": 14}`), badCB("CMA: wrong type")},
	{"CMA null", stats(`{"CMA": null}`), badCB("CMA: wrong type")},
	{"CMA object", stats(`{"CMA": {"x": "1/2"}}`), badCB("CMA: wrong type")},
	{"CMA array", stats(`{"CMA": ["1/2"]}`), badCB("CMA: wrong type")},
	{"sip string", stats(`{"CMA": "1/1", "sip": "1/2"}`), badCB("sip: wrong type")},
	{"callLegsPS string", stats(`{"CMA": "1/1", "callLegsPS": "1"}`), badCB("callLegsPS: wrong type")},
	{"callLegsPS negative", stats(`{"CMA": "1/1", "callLegsPS": -1}`), badCB("callLegsPS: negative number")},
	{"callLegsPS above MaxValue", stats(`{"CMA": "1/1", "callLegsPS": 9007199254740992}`), badCB("callLegsPS: number too large")},
	{"callLegsPS huge exponent", stats(`{"CMA": "1/1", "callLegsPS": 1e400}`), badCB("callLegsPS: number too large")},
	{"callLegsPS float above MaxValue", stats(`{"CMA": "1/1", "callLegsPS": 1e16}`), badCB("callLegsPS: number too large")},
	{"other negative", stats(`{"CMA": "1/1", "x": "-1/2"}`), badCB("other key: negative number")},
	{"other too large", stats(`{"CMA": "1/1", "x": {"y": "1/99999999999999999999"}}`), badCB("other key: number too large")},
	{"duplicate CMA", stats(`{"CMA": "1/1", "CMA": "2/2"}`), badCB("duplicate key CMA")},
	{"duplicate sip", stats(`{"CMA": "1/1", "sip": {}, "sip": {}}`), badCB("duplicate key sip")},
	{"duplicate other", stats(`{"CMA": "1/1", "x": "1/2", "x": "1/2"}`), badCB("duplicate key")},
	{"lone sip.std clashes with other", stats(`{"CMA": "1/1", "sip": {"std": "0/1"}, "sip.std": "0/1"}`), badCB("duplicate key")},
	{"truncated", stats(`{"callLegsPS": 1, "callLegs": "20/24", "CMA": "14/17", "sip": {"std": "0/1", "peer": "6/6"}`), badCB("invalid JSON: truncated")},
	{"truncated in string", stats(`{"CMA": "14/1`), badCB("invalid JSON: truncated")},
	{"truncated in escape", stats(`{"CMA\`), badCB("invalid JSON: truncated")},
	{"truncated after key", stats(`{"CMA"`), badCB("invalid JSON: truncated")},
	{"truncated after colon", stats(`{"CMA":`), badCB("invalid JSON: truncated")},
	{"truncated number", stats(`{"CMA": "1/1", "x": 1`), badCB("invalid JSON: truncated")},
	{"truncated array", stats(`{"CMA": "1/1", "x": [1,`), badCB("invalid JSON: truncated")},
	{"brace only", stats(`{`), badCB("invalid JSON: truncated")},
	{"trailing comma", stats(`{"CMA": "14/17",}`), badSyntax()},
	{"missing colon", stats(`{"CMA" "14/17"}`), badSyntax()},
	{"missing comma", stats(`{"CMA": "14/17" "x": 1}`), badSyntax()},
	{"array missing comma", stats(`{"CMA": "14/17", "x": [1 2]}`), badSyntax()},
	{"single quotes", stats(`{'CMA': '14/17'}`), badSyntax()},
	{"bare word", stats(`{"CMA": "1/1", "x": yes}`), badSyntax()},
	{"leading zero", stats(`{"CMA": "1/1", "x": 01}`), badSyntax()},
	{"bad fraction", stats(`{"CMA": "1/1", "x": 1.}`), badSyntax()},
	{"bad exponent", stats(`{"CMA": "1/1", "x": 1e}`), badSyntax()},
	{"lone minus", stats(`{"CMA": "1/1", "x": -}`), badSyntax()},
	{"bad escape", stats(`{"CMA": "1/1", "x\q": 1}`), badSyntax()},
	{"bad unicode escape", stats(`{"CMA": "1/1", "x\u12g4": 1}`), badSyntax()},
	{"control character", stats("{\"CMA\": \"1/1\", \"x\ty\": 1}"), badSyntax()},
	{"NUL in string", stats("{\"CMA\": \"1/1\x00\"}"), badSyntax()},
	{"nested too deeply", stats(`{"CMA": "1/1", "x": ` + strings.Repeat(`{"a": `, 40) + `1` + strings.Repeat(`}`, 41)), badCB("invalid JSON: nested too deeply")},
	{"arrays nested too deeply", stats(`{"CMA": "1/1", "x": ` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`), badCB("invalid JSON: nested too deeply")},
	{"trailing text", stats(`{"CMA": "14/17"} extra`), badCB("trailing data after JSON object")},
	{"truncation beats meaning", stats(`{"CMA": "5/4", "callLegs": "1/2`), badCB("invalid JSON: truncated")},
	{"syntax beats meaning", stats(`{"CMA": 14, "x": 00}`), badSyntax()},
	{"trailing data beats meaning", stats(`{"CMA": "5/4"} x`), badCB("trailing data after JSON object")},
	{"first meaning error wins", stats(`{"CMA": "5/4", "callLegs": -1}`), badCB("CMA: peak below current")},
	{"meaning beats missing CMA", stats(`{"callLegs": "2/1"}`), badCB("callLegs: peak below current")},
	{"wrong-typed object is still scanned", stats(`{"CMA": {"a": [1, {"b": 2}]}, "x": 1}`), badCB("CMA: wrong type")},
	{"duplicate sip is still scanned", stats(`{"CMA": "1/1", "sip": {"std": "0/1", "peer": "1/1"}, "sip": {"std": "9/1"}}`), badCB("duplicate key sip")},
	{"second object", stats(`{"CMA": "14/17"}{}`), badCB("trailing data after JSON object")},
	{"extra brace", stats(`{"CMA": "14/17"}}`), badCB("trailing data after JSON object")},
	{"trailing NUL", stats("{\"CMA\": \"14/17\"}\x00"), badCB("trailing data after JSON object")},
	{"bad timestamp", `Feb 23 29:02:21.594 user.info CMS host:server: INFO : ` + cbMsg, want{kind: Malformed, mkind: "callbridge", reason: reasonBadTime, noHeader: true}},
	{"no timestamp", `host:server:  INFO : ` + cbMsg, want{kind: Malformed, mkind: "callbridge", reason: reasonNoTimestamp, noHeader: true}},
	{"no tag", `Feb 23 09:02:21.594 user.info CMS extra host:server: INFO : ` + cbMsg, want{kind: Malformed, time: feb23, host: "CMS", mkind: "callbridge", reason: reasonNoTag}},
}

func TestParseCallBridge(t *testing.T) {
	runTable(t, callBridgeTests)
}

var lookAlikeTests = []parseTest{
	{"stats quoted in API trace", hdr + `host:server: INFO : API trace: user typed "Stats 5, c:1, d:1"`, want{kind: Noise}},
	{"STATS in guest login", hdr + `host:server: INFO : guest login request: STATS: {"CMA": "1/1"}`, want{kind: Noise}},
	{"web bridge form under another tag", hdr + `host:server: INFO : ` + wbMsg, want{kind: Noise}},
	{"web bridge 3", hdr + `webbridge3: INFO : ` + wbMsg, want{kind: Noise}},
	{"web bridge form without debug marker", hdr + `webbridge: INFO : Stats 149, c:3477, d:3170`, want{kind: Noise}},
	{"debug marker glued", hdr + `webbridge: INFO : [DEBUGGING]Stats 149, c:3477, d:3170`, want{kind: Noise}},
	{"stats later in debug message", hdr + `webbridge: INFO : [DEBUGGING] session Stats 1, c:1, d:1`, want{kind: Noise}},
	{"lower-case debugging", hdr + `webbridge: INFO : [debugging] Stats 1, c:1, d:1`, want{kind: Noise}},
	{"Statistics", hdr + `webbridge: INFO : [DEBUGGING] Statistics 149, c:3477, d:3170`, want{kind: Noise}},
	{"STATS without object", hdr + `host:server: INFO : STATS: disabled`, want{kind: Noise}},
	{"STATS at end", hdr + `host:server: INFO : STATS:`, want{kind: Noise}},
	{"STATS lower-case", hdr + `host:server: INFO : stats: {"CMA": "1/1"}`, want{kind: Noise}},
	{"hostname Stats", `Feb 23 09:02:21.594 user.info Stats host:server: INFO : hello`, want{kind: Noise}},
	{"tag STATS", hdr + `STATS: hello`, want{kind: Noise}},
	{"forwarded line inside message", hdr + `host:server: INFO : forwarded "webbridge": INFO : ` + wbMsg, want{kind: Noise}},
	{"forwarded STATS inside message", hdr + `host:server: INFO : relay host:server: INFO : ` + cbMsg, want{kind: Noise}},
	{"bad header, stats inside text", `garbage INFO : API trace: "Stats 5, c:1, d:1"`, want{kind: Noise}},
	{"bad header, STATS after non-level", `garbage host:server: guest login request: STATS: {"CMA": "1/1"}`, want{kind: Noise}},
	{"bad header, web bridge form under another tag", `host:server: INFO : ` + wbMsg, want{kind: Noise}},
	{"bad header, STATS without object", `Feb 30 09:02:21 cms1 host:server: INFO : STATS: none`, want{kind: Noise}},
	{"bad header, marker only", `Stats `, want{kind: Noise}},
	{"bad header, STATS only", `STATS:`, want{kind: Noise}},
}

func TestParseLookAlikes(t *testing.T) {
	runTable(t, lookAlikeTests)
}

func TestParseMovesReference(t *testing.T) {
	p := NewParser(time.UTC, time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC))
	lines := []struct {
		line string
		want time.Time
	}{
		{"Dec 31 23:55:00 cms1 webbridge: INFO : " + wbMsg, time.Date(2024, 12, 31, 23, 55, 0, 0, time.UTC)},
		{"Jan  1 00:05:00 cms1 host:server: INFO : " + cbMsg, time.Date(2025, 1, 1, 0, 5, 0, 0, time.UTC)},
		{"Dec 31 23:59:59 cms1 webbridge: INFO : " + wbMsg, time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"Jan  1 00:10:00 cms1 webbridge: INFO : " + wbMsg, time.Date(2025, 1, 1, 0, 10, 0, 0, time.UTC)},
	}
	for _, tc := range lines {
		var out Line
		if k := p.Parse([]byte(tc.line), &out); k == Noise || k == Malformed || !out.Time.Equal(tc.want) {
			t.Errorf("%q: %v at %v, want a sample at %v", tc.line, k, out.Time, tc.want)
		}
	}
}

func TestParseHostAliasesInput(t *testing.T) {
	p := NewParser(time.UTC, ref)
	b := []byte(hdr + "webbridge: INFO : " + wbMsg)
	var out Line
	if p.Parse(b, &out) != WebBridgeStats {
		t.Fatal("not a sample")
	}
	if &out.Host[0] != &b[len("Feb 23 09:02:21.594 user.info ")] || cap(out.Host) != len(out.Host) {
		t.Errorf("Host does not alias the input as a capped subslice")
	}
}

func TestParseResetsOut(t *testing.T) {
	p := NewParser(time.UTC, ref)
	var out Line
	p.Parse([]byte(hdr+"host:server: INFO : STATS: {\"CMA\": \"1/2\", \"x\": \"3/4\"}"), &out)
	if out.CallBridge.Other == nil {
		t.Fatal("setup: no Other")
	}
	p.Parse([]byte(hdr+"webbridge: INFO : "+wbMsg), &out)
	if out.Kind != WebBridgeStats || out.CallBridge.Other != nil || out.CallBridge.CMA != (Pair{}) {
		t.Errorf("previous Call Bridge sample survived: %+v", out)
	}
	p.Parse([]byte(hdr+"host:server: INFO : STATS: {\"CMA\": \"1/2\", \"x\": \"3/4\", \"y\": -1/2}"), &out)
	if out.Kind != Malformed || out.WebBridge != (WebBridge{}) || out.CallBridge.Other != nil {
		t.Errorf("malformed line carries a sample: %+v", out)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Noise: "noise", WebBridgeStats: "webbridge", CallBridgeStats: "callbridge", Malformed: "malformed", 9: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

// noiseLines are lines that must be rejected without allocating: real
// noise, look-alikes that pass the marker scan, and bad headers.
func noiseLines() []string {
	lines := []string{
		"",
		"\r\n",
		"\xff\xfe\x00\x00 binary junk \x00",
		hdr + `host:server: INFO : API trace: user typed "Stats 5, c:1, d:1"`,
		hdr + `host:server: INFO : guest login request: STATS: {"CMA": "1/1"}`,
		hdr + `host:server: INFO : ` + wbMsg,
		hdr + `webbridge3: INFO : ` + wbMsg,
		hdr + `webbridge: INFO : [DEBUGGING] session Stats 1, c:1, d:1`,
		hdr + `host:server: INFO : STATS: disabled`,
		`Feb 23 09:02:21.594 user.info Stats host:server: INFO : hello`,
		`2016-06-07 03:18:14  User.Info  acanosrv03  Jun  7 10:18:20 acanosrv03 host:server: INFO : Stats here`,
		`2024-03-06T09:34:45.395+01:00 local0.info cms01 cli: Stats of STATS: {`,
		`garbage INFO : API trace: "Stats 5, c:1, d:1"`,
		`garbage host:server: guest login request: STATS: {"CMA": "1/1"}`,
		`Feb 30 09:02:21 cms1 host:server: INFO : STATS: none`,
		"Stats \r\n",
		strings.Repeat("SIP trace: Server: S", 100),
	}
	for _, d := range domainLines {
		lines = append(lines, d.line, d.line+"\r\n")
	}
	return lines
}

func TestParseNoiseDoesNotAllocate(t *testing.T) {
	p := NewParser(time.UTC, ref)
	var out Line
	for _, line := range noiseLines() {
		b := []byte(line)
		if k := p.Parse(b, &out); k != Noise {
			t.Fatalf("%q: %v, want noise", line, k)
		}
		if n := testing.AllocsPerRun(100, func() { p.Parse(b, &out) }); n != 0 {
			t.Errorf("%q: %v allocations per line, want 0", line, n)
		}
	}
}

func TestTimestampDoesNotAllocate(t *testing.T) {
	p := NewParser(time.FixedZone("X", 3600), ref)
	for _, d := range domainLines {
		b := []byte(d.line)
		if n := testing.AllocsPerRun(100, func() { p.Timestamp(b) }); n != 0 {
			t.Errorf("%q: %v allocations per line, want 0", d.line, n)
		}
	}
}

func TestParseWebBridgeDoesNotAllocate(t *testing.T) {
	p := NewParser(time.UTC, ref)
	b := []byte(hdr + "webbridge: INFO : " + wbMsg)
	var out Line
	if n := testing.AllocsPerRun(100, func() { p.Parse(b, &out) }); n != 0 {
		t.Errorf("%v allocations per Web Bridge sample, want 0", n)
	}
}

// TestParseCallBridgeAllocationsBounded keeps the STATS decoder's cost
// known. A Call Bridge reports once every 5 minutes, so encoding/json's
// token boxing is affordable; what must stay free is every other line.
func TestParseCallBridgeAllocationsBounded(t *testing.T) {
	p := NewParser(time.UTC, ref)
	b := []byte(hdr + "host:server: INFO : " + cbMsg)
	var out Line
	if n := testing.AllocsPerRun(100, func() { p.Parse(b, &out) }); n > 100 {
		t.Errorf("%v allocations per Call Bridge sample without other keys, want at most 100", n)
	}
}

// TestRsyslogSplitsHostServerTag covers Debian's default rsyslog file
// formats, which write Cisco's "host:server:" tag as "host: server:".
func TestRsyslogSplitsHostServerTag(t *testing.T) {
	p := NewParser(time.UTC, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	var l Line
	line := []byte(`Nov 26 12:00:00 cms4 host: server: INFO : STATS: {"callLegs": "2/3", "CMA": "1/2"}`)
	if k := p.Parse(line, &l); k != CallBridgeStats || string(l.Host) != "cms4" || l.CallBridge.CMA.Peak != 2 {
		t.Fatalf("got %v %+v", k, l)
	}
	// Only that split is joined: another word ending in ':' stays message.
	line = []byte(`Nov 26 12:00:00 cms4 host: client: INFO : STATS: {"CMA": "1/2"}`)
	if k := p.Parse(line, &l); k != Noise {
		t.Fatalf("got %v for a STATS inside another message", k)
	}
}

func TestImplausibleHostnameIsMalformed(t *testing.T) {
	p := NewParser(time.UTC, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	var l Line
	for _, host := range []string{"cms\xff1", "cms\x001", "cms\x1b[31m"} {
		line := []byte("Nov 26 12:00:00 " + host + ` webbridge: INFO : [DEBUG] Stats 5, c:1, d:1`)
		if k := p.Parse(line, &l); k != Malformed || l.Reason != "header: implausible hostname" {
			t.Errorf("host %q: %v %q", host, k, l.Reason)
		}
	}
	for _, host := range []string{"cms1.example.com", "10.1.2.3", "cms_2", "fe80::1"} {
		line := []byte("Nov 26 12:00:00 " + host + ` webbridge: INFO : [DEBUG] Stats 5, c:1, d:1`)
		if k := p.Parse(line, &l); k != WebBridgeStats {
			t.Errorf("host %q: %v %q", host, k, l.Reason)
		}
	}
}

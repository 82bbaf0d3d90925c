package logline

import (
	"testing"
	"time"
)

// ref is the reference time of the test parsers: mid-2024, so that every
// year-less line of domain.md lands in 2024.
var ref = time.Date(2024, time.June, 15, 12, 0, 0, 0, time.UTC)

// domainLines are the whole syslog lines of domain.md, verbatim.
var domainLines = []struct {
	line, host, tag, msg string
	time                 time.Time
}{
	{
		line: `Feb 23 09:02:21.594 user.info CMS host:server: INFO : guest login request 1450660605: resolution in progress`,
		host: "CMS", tag: "host:server", msg: "guest login request 1450660605: resolution in progress",
		time: time.Date(2024, 2, 23, 9, 2, 21, 594e6, time.UTC),
	},
	{
		line: `Mar 18 15:08:52.399 user.warning cmscb3-1 host:server:  WARNING : rejecting login attempt from user 'x@example.com' -- authenticationId incorrect`,
		host: "cmscb3-1", tag: "host:server", msg: "rejecting login attempt from user 'x@example.com' -- authenticationId incorrect",
		time: time.Date(2024, 3, 18, 15, 8, 52, 399e6, time.UTC),
	},
	{
		line: `Mar 18 14:54:52.698 user.err cmscb3-1 client_backend:  ERROR   : SamlManager : Invalid SSO login attempt`,
		host: "cmscb3-1", tag: "client_backend", msg: "SamlManager : Invalid SSO login attempt",
		time: time.Date(2024, 3, 18, 14, 54, 52, 698e6, time.UTC),
	},
	{
		line: `2024-03-06T09:34:45.395 local0.info cms01 cli: User admin from 10.140.249.233:63290 issued command < callbridge av1 enable>: permission granted`,
		host: "cms01", tag: "cli", msg: "User admin from 10.140.249.233:63290 issued command < callbridge av1 enable>: permission granted",
		time: time.Date(2024, 3, 6, 9, 34, 45, 395e6, time.UTC),
	},
	{
		line: `Jul 26 14:08:23 user.info Core1 host:server:  INFO : API trace 8889: GET for "/api/v1/system/status" (from 14.80.99.226)`,
		host: "Core1", tag: "host:server", msg: `API trace 8889: GET for "/api/v1/system/status" (from 14.80.99.226)`,
		time: time.Date(2024, 7, 26, 14, 8, 23, 0, time.UTC),
	},
	{
		line: `Nov  6 09:51:50 user.info CMS1 host:server:  INFO : SIP trace: connection 12: read failure, code 104`,
		host: "CMS1", tag: "host:server", msg: "SIP trace: connection 12: read failure, code 104",
		time: time.Date(2024, 11, 6, 9, 51, 50, 0, time.UTC),
	},
	{
		line: `<11>Jan 16 04:25:44 user.info cms20 authp:  Using authentication server cb_video.cms20.example to authenticate user (index: 1/1, reason: first match)`,
		host: "cms20", tag: "authp", msg: "Using authentication server cb_video.cms20.example to authenticate user (index: 1/1, reason: first match)",
		time: time.Date(2024, 1, 16, 4, 25, 44, 0, time.UTC),
	},
	{
		// The receiver's header carries the year; the device's header wins.
		line: `2016-06-07 03:18:14               User.Info  acanosrv03               Jun  7 10:18:20 acanosrv03 host:server:  INFO : SIP trace: Server: Acano CallBridge`,
		host: "acanosrv03", tag: "host:server", msg: "SIP trace: Server: Acano CallBridge",
		time: time.Date(2016, 6, 7, 10, 18, 20, 0, time.UTC),
	},
}

// checkHeader parses line's header and checks that it has the time and the
// host, tag and message text given.
func checkHeader(t *testing.T, line, host, tag, msg string, at time.Time) {
	t.Helper()
	b := []byte(line)
	h := parseHeader(b, time.UTC, ref, false)
	if h.reason != "" {
		t.Fatalf("reason %q", h.reason)
	}
	if !h.timeOK || !h.t.Equal(at) {
		t.Errorf("time = %v (ok %v), want %v", h.t, h.timeOK, at)
	}
	if string(h.host) != host || string(h.tag) != tag || string(b[h.msg:]) != msg {
		t.Errorf("host %q tag %q msg %q, want %q %q %q", h.host, h.tag, b[h.msg:], host, tag, msg)
	}
}

func TestParseHeaderDomainLines(t *testing.T) {
	for _, tc := range domainLines {
		t.Run(tc.host, func(t *testing.T) {
			checkHeader(t, tc.line, tc.host, tc.tag, tc.msg, tc.time)
		})
	}
}

func TestTimestampDomainLines(t *testing.T) {
	for _, tc := range domainLines {
		for _, eol := range []string{"", "\n", "\r\n"} {
			p := NewParser(time.UTC, ref)
			got, ok := p.Timestamp([]byte(tc.line + eol))
			if !ok || !got.Equal(tc.time) {
				t.Errorf("Timestamp(%q) = %v, %v; want %v", tc.line+eol, got, ok, tc.time)
			}
		}
	}
}

func TestParseHeaderVariants(t *testing.T) {
	tests := []struct {
		name, line, host, tag, msg string
		time                       time.Time
	}{
		{"no facility", "Feb 23 09:02:21 cms1 webbridge: hello", "cms1", "webbridge", "hello", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC)},
		{"zero-padded day", "Feb 03 09:02:21 cms1 x: hi", "cms1", "x", "hi", time.Date(2024, 2, 3, 9, 2, 21, 0, time.UTC)},
		{"bare day", "Feb 3 09:02:21 cms1 x: hi", "cms1", "x", "hi", time.Date(2024, 2, 3, 9, 2, 21, 0, time.UTC)},
		{"lower-case month", "feb  3 09:02:21 cms1 x: hi", "cms1", "x", "hi", time.Date(2024, 2, 3, 9, 2, 21, 0, time.UTC)},
		{"microseconds", "Feb 23 09:02:21.123456 cms1 x: hi", "cms1", "x", "hi", time.Date(2024, 2, 23, 9, 2, 21, 123456e3, time.UTC)},
		{"fqdn host", "Feb 23 09:02:21 user.info cms1.example.com x: hi", "cms1.example.com", "x", "hi", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC)},
		{"ip host", "Feb 23 09:02:21 10.1.2.3 x: hi", "10.1.2.3", "x", "hi", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC)},
		{"iso Z", "2024-03-06T09:34:45Z cms01 x: hi", "cms01", "x", "hi", time.Date(2024, 3, 6, 9, 34, 45, 0, time.UTC)},
		{"iso offset colon", "2024-03-06T09:34:45.5+01:00 cms01 x: hi", "cms01", "x", "hi", time.Date(2024, 3, 6, 8, 34, 45, 5e8, time.UTC)},
		{"iso offset compact", "2024-03-06T09:34:45-0230 cms01 x: hi", "cms01", "x", "hi", time.Date(2024, 3, 6, 12, 4, 45, 0, time.UTC)},
		{"iso offset hours", "2024-03-06T09:34:45+05 cms01 x: hi", "cms01", "x", "hi", time.Date(2024, 3, 6, 4, 34, 45, 0, time.UTC)},
		{"pri and iso", "<134>2024-03-06T09:34:45 cms01 x: hi", "cms01", "x", "hi", time.Date(2024, 3, 6, 9, 34, 45, 0, time.UTC)},
		{"tabs", "Feb 23 09:02:21\tuser.info\tcms1\tx:\tINFO\t:\thi", "cms1", "x", "hi", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC)},
		{"bom", "\xEF\xBB\xBFFeb 23 09:02:21 cms1 x: hi", "cms1", "x", "hi", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC)},
		{"level without space", "Feb 23 09:02:21 cms1 x: INFO: hi", "cms1", "x", "hi", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC)},
		{"unknown padded level", "Feb 23 09:02:21 cms1 x: AUDIT  : hi", "cms1", "x", "hi", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC)},
		{"not a level", "Feb 23 09:02:21 cms1 x: STATS: {}", "cms1", "x", "STATS: {}", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC)},
		{"pid tag", "Feb 23 09:02:21 cms1 webbridge[812]: hi", "cms1", "webbridge[812]", "hi", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC)},
		{"empty message", "Feb 23 09:02:21 cms1 x:", "cms1", "x", "", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC)},
		{
			"receiver header without host", "2024-02-23 08:02:30 User.Info Feb 23 09:02:21 cms1 x: hi",
			"cms1", "x", "hi", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC),
		},
		{
			"receiver header with pri inside", "2024-02-23 08:02:30 relay1 <14>Feb 23 09:02:21 user.info cms1 x: hi",
			"cms1", "x", "hi", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC),
		},
		{
			"invalid utf-8 and NUL in host and text", "Feb 23 09:02:21 c\xffm\x00s x: \xfe\x00hi",
			"c\xffm\x00s", "x", "\xfe\x00hi", time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkHeader(t, tc.line, tc.host, tc.tag, tc.msg, tc.time)
		})
	}
}

func TestParseHeaderFailures(t *testing.T) {
	tests := []struct{ name, line, reason string }{
		{"empty", "", reasonNoTimestamp},
		{"no header", `"webbridge": INFO : [DEBUGGING] Stats 149, c:3477, d:3170`, reasonNoTimestamp},
		{"bad month", "Foo 23 09:02:21 cms1 x: hi", reasonBadTime},
		{"feb 30", "Feb 30 09:02:21 cms1 x: hi", reasonBadTime},
		{"day 0", "Feb  0 09:02:21 cms1 x: hi", reasonBadTime},
		{"hour 24", "Feb 23 24:02:21 cms1 x: hi", reasonBadTime},
		{"minute 60", "Feb 23 09:60:21 cms1 x: hi", reasonBadTime},
		{"iso month 13", "2024-13-06T09:34:45 cms01 x: hi", reasonBadTime},
		{"iso year 0001", "0001-01-01T00:00:00Z cms01 x: hi", reasonBadTime},
		{"iso bad zone", "2024-03-06T09:34:45+25:00 cms01 x: hi", reasonBadTime},
		{"iso apr 31", "2024-04-31T09:34:45 cms01 x: hi", reasonBadTime},
		{"truncated clock", "Feb 23 09:02", reasonNoTimestamp},
		{"dot without fraction", "Feb 23 09:02:21. cms1 x: hi", reasonNoTimestamp},
		{"glued host", "Feb 23 09:02:21cms1 x: hi", reasonNoTimestamp},
		{"bad pri", "<1a>Feb 23 09:02:21 cms1 x: hi", reasonNoTimestamp},
		{"no host", "Feb 23 09:02:21 webbridge: INFO : hi", reasonNoHost},
		{"no host after facility", "Feb 23 09:02:21 user.info host:server: INFO : hi", reasonNoHost},
		{"nothing after time", "Feb 23 09:02:21", reasonNoHost},
		{"no tag", "Feb 23 09:02:21 cms1 just text", reasonNoTag},
		{"tag without colon space", "Feb 23 09:02:21 cms1 host:server:INFO : hi", reasonNoTag},
		{"bad inner timestamp", "2016-06-07 03:18:14 relay Jun 31 10:18:20 cms1 x: hi", reasonBadTime},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := parseHeader([]byte(tc.line), time.UTC, ref, false)
			if h.reason != tc.reason {
				t.Errorf("reason = %q, want %q", h.reason, tc.reason)
			}
		})
	}
}

func TestYearInference(t *testing.T) {
	tests := []struct {
		name  string
		ref   time.Time
		lines []string
		want  []time.Time
	}{
		{
			name: "december to january",
			ref:  time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC),
			lines: []string{
				"Dec 31 23:59:59 cms1 x: a",
				"Jan  1 00:00:01 cms1 x: b",
				"Jan  1 08:00:00 cms1 x: c",
			},
			want: []time.Time{
				time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC),
				time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC),
				time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC),
			},
		},
		{
			name: "january back to december",
			ref:  time.Date(2025, 1, 1, 0, 0, 10, 0, time.UTC),
			lines: []string{
				"Dec 31 23:59:58 cms1 x: late line from last year",
				"Jan  1 00:00:11 cms1 x: b",
			},
			want: []time.Time{
				time.Date(2024, 12, 31, 23, 59, 58, 0, time.UTC),
				time.Date(2025, 1, 1, 0, 0, 11, 0, time.UTC),
			},
		},
		{
			name: "replay months across a year follows the lines",
			ref:  time.Date(2023, 9, 1, 0, 0, 0, 0, time.UTC),
			lines: []string{
				"Sep  2 00:00:00 cms1 x: a",
				"Nov 20 00:00:00 cms1 x: b",
				"Feb 10 00:00:00 cms1 x: c",
				"Jun  1 00:00:00 cms1 x: d",
				"Oct  1 00:00:00 cms1 x: e",
			},
			want: []time.Time{
				time.Date(2023, 9, 2, 0, 0, 0, 0, time.UTC),
				time.Date(2023, 11, 20, 0, 0, 0, 0, time.UTC),
				time.Date(2024, 2, 10, 0, 0, 0, 0, time.UTC),
				time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
				time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC),
			},
		},
		{
			name:  "feb 29 picks the leap year",
			ref:   time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC),
			lines: []string{"Feb 29 12:00:00 cms1 x: a"},
			want:  []time.Time{time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)},
		},
		{
			name:  "iso line moves the reference",
			ref:   time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC),
			lines: []string{"2024-12-31T23:00:00Z cms1 x: a", "Jan  1 01:00:00 cms1 x: b"},
			want: []time.Time{
				time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC),
				time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(time.UTC, tc.ref)
			for i, line := range tc.lines {
				got, ok := p.Timestamp([]byte(line))
				if !ok || !got.Equal(tc.want[i]) {
					t.Errorf("line %d %q: got %v, %v; want %v", i, line, got, ok, tc.want[i])
				}
			}
		})
	}
}

func TestYearInferenceNoLeapYearNearby(t *testing.T) {
	p := NewParser(time.UTC, time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC))
	if got, ok := p.Timestamp([]byte("Feb 29 12:00:00 cms1 x: a")); ok {
		t.Errorf("Feb 29 near 2022 = %v, want invalid", got)
	}
}

func TestZeroReference(t *testing.T) {
	p := NewParser(time.UTC, time.Time{})
	if got, ok := p.Timestamp([]byte("Feb 23 09:02:21 cms1 x: a")); ok {
		t.Errorf("year-less timestamp with zero reference = %v, want invalid", got)
	}
	if _, ok := p.Timestamp([]byte("2024-03-06T09:34:45 cms1 x: a")); !ok {
		t.Fatal("ISO timestamp rejected")
	}
	want := time.Date(2024, 3, 7, 1, 0, 0, 0, time.UTC)
	if got, ok := p.Timestamp([]byte("Mar  7 01:00:00 cms1 x: b")); !ok || !got.Equal(want) {
		t.Errorf("after ISO line: %v, %v; want %v", got, ok, want)
	}
}

func TestLocation(t *testing.T) {
	loc := time.FixedZone("UTC+7", 7*3600)
	p := NewParser(loc, ref)
	tests := []struct {
		line string
		want time.Time
	}{
		{"Jun  7 10:18:20 cms1 x: a", time.Date(2024, 6, 7, 3, 18, 20, 0, time.UTC)},
		{"2024-06-07T10:18:20 cms1 x: a", time.Date(2024, 6, 7, 3, 18, 20, 0, time.UTC)},
		{"2024-06-07T10:18:20Z cms1 x: a", time.Date(2024, 6, 7, 10, 18, 20, 0, time.UTC)},
	}
	for _, tc := range tests {
		got, ok := p.Timestamp([]byte(tc.line))
		if !ok || !got.Equal(tc.want) || got.Location() != loc {
			t.Errorf("%q: %v, %v; want %v in %v", tc.line, got, ok, tc.want, loc)
		}
	}
	if p := NewParser(nil, ref); p.loc != time.UTC {
		t.Errorf("nil location = %v, want UTC", p.loc)
	}
}

func TestTimestampWithoutTag(t *testing.T) {
	p := NewParser(time.UTC, ref)
	want := time.Date(2024, 2, 23, 9, 2, 21, 0, time.UTC)
	if got, ok := p.Timestamp([]byte("Feb 23 09:02:21 cms1 just text\r\n")); !ok || !got.Equal(want) {
		t.Errorf("got %v, %v; want %v", got, ok, want)
	}
	if got, ok := p.Timestamp([]byte("no timestamp here")); ok || !got.IsZero() {
		t.Errorf("no timestamp: got %v, %v", got, ok)
	}
}

func TestIsWebBridgeTag(t *testing.T) {
	tests := []struct {
		tag  string
		want bool
	}{
		{"webbridge", true},
		{`"webbridge"`, true},
		{"webbridge[812]", true},
		{`"webbridge"[812]`, true},
		{"webbridge2", false},
		{"webbridge3", false},
		{"WebBridge", false},
		{"webbridge[]", false},
		{"webbridge[x]", false},
		{`"webbridge`, false},
		{"host:server", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := isWebBridgeTag([]byte(tc.tag)); got != tc.want {
			t.Errorf("isWebBridgeTag(%q) = %v, want %v", tc.tag, got, tc.want)
		}
	}
}

func TestParserUntilInfersPastYear(t *testing.T) {
	latest := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	p := NewParserUntil(time.UTC, latest)
	ts, ok := p.Timestamp([]byte("Mar 18 09:55:02.101 user.info cms1 host:server:  INFO : x"))
	if !ok || ts.Year() != 2026 {
		t.Fatalf("first line of a file modified in November 2026: %v %v, want March 2026", ts, ok)
	}
	// The closest-year rule would have chosen March 2027 for a fresh parser.
	if ts2, _ := NewParser(time.UTC, latest).Timestamp([]byte("Mar 18 09:55:02 cms1 host:server: INFO : x")); ts2.Year() != 2027 {
		t.Fatalf("neighbour rule: %v", ts2)
	}
	// A line a few hours after the reference (clock skew) keeps the year.
	if ts3, _ := NewParserUntil(time.UTC, latest).Timestamp([]byte("Nov 26 18:00:00 cms1 host:server: INFO : x")); ts3.Year() != 2026 {
		t.Fatalf("skewed line: %v", ts3)
	}
}

// Package logline parses one Cisco Meeting Server syslog line into a Web Bridge
// stats sample, a Call Bridge stats sample, noise, or a malformed stats line.
//
// The parser is built for replaying months of logs: a noise line, which is
// about 99% of a real stream, is rejected by a marker scan without allocation
// and without parsing its header.
//
// # Fast path
//
// A line that contains neither "Stats " nor "STATS:" is Noise and is not
// looked at further. Only a line with a marker has its header parsed.
//
// # Header grammar
//
// SP is one or more spaces or tabs. A trailing "\n", "\r\n" or "\r" is
// removed first; a leading UTF-8 byte order mark and leading SP are skipped.
//
//	line      = group { SP group } SP tag [SP] [level] message
//	group     = [pri] timestamp [SP facsev] [SP host]
//	pri       = "<" 1*3DIGIT ">"
//	timestamp = bsd / iso
//	bsd       = Mon SP [D]D SP hh ":" mm ":" ss ["." 1*DIGIT]
//	iso       = YYYY "-" MM "-" DD ("T" / " ") hh ":" mm ":" ss ["." 1*DIGIT] [zone]
//	zone      = "Z" / ("+" / "-") hh [[":"] mm]
//	facsev    = facility "." severity      ; standard syslog names, any case
//	host      = 1*non-SP not ending in ":"
//	tag       = 1*non-SP ending in ":"     ; e.g. host:server: "webbridge": cli:
//	level     = 1*UPPER SP ":" (SP / end)  ; e.g. "INFO :", "ERROR   :"
//	          / known-level ":" (SP / end) ; e.g. "INFO:"
//
// Mon is an English month abbreviation in any case; the day may be padded
// with a space or a zero. Fields are range-checked (Feb 30, 24:00:00 and
// years before 1970 are bad timestamps; leap seconds are not accepted).
//
// Several groups occur when a receiver prepends its own header to the
// device's, as in
//
//	2016-06-07 03:18:14  User.Info  acanosrv03  Jun  7 10:18:20 acanosrv03 host:server:  INFO : ...
//
// The last group is the device's own and gives Line.Time and Line.Host;
// a group may omit the host when another group follows it.
//
// # Time
//
// An ISO timestamp with a zone is taken at that offset; one without, and
// every BSD timestamp, is in the parser's location (NewParser's loc). A BSD
// timestamp has no year: the parser takes the year (of the reference's year
// and the two around it) that puts the timestamp closest to its reference,
// so December to January and back both work, and then moves the reference
// to the timestamp. Inside one line an earlier group's timestamp is the
// reference for the next. All times are returned in the parser's location.
//
// # Web Bridge stats
//
// A Web Bridge 2 sample is a line whose tag is webbridge (optionally
// double-quoted, optionally with a "[pid]" suffix: webbridge:,
// "webbridge":, webbridge[812]:) and whose message starts with
//
//	("[DEBUGGING]" / "[DEBUG]") SP "Stats" SP active "," [SP] "c:" c "," [SP] "d:" d [SP] end
//
// with active, c and d unsigned decimals in [0, MaxValue]. Any other tag,
// such as webbridge3 (Web Bridge 3 is not affected by the leak), makes the
// line Noise. Anything after d other than spaces makes the line Malformed,
// so a change in the format is counted rather than half-read.
//
// # Call Bridge stats
//
// A Call Bridge sample is a line, under any tag (Cisco does not document
// it; the Call Bridge logs as host:server:), whose message starts with
//
//	"STATS:" [SP] object [ws] end
//
// where object is one JSON object (RFC 8259), read as encoding/json's token
// stream (so its syntax is checked in full, by the standard library) and
// nested at most 32 deep, and ws is JSON whitespace. Its top-level keys
//
//	"CMA"        "X/Y"   required; current X, peak Y
//	"callLegs"   "X/Y"
//	"callLegsPS" number  a rate, may be fractional
//	"sip"        object  with "std": "X/Y" and "peer": "X/Y"
//
// are decoded. Any other string of the form "X/Y" (each optionally signed)
// at any depth outside arrays is kept in CallBridge.Other under its dotted
// key path, such as "sip.tls" or "calls.active". Everything else, of any
// type, is skipped. HasSIP is set only when both sip.std and sip.peer are
// present; a lone one is kept in Other as "sip.std" or "sip.peer".
//
// All numbers must be in [0, MaxValue]. For the four known pairs the peak
// must not be below the current value: Cisco's peak is over a period that
// includes now, so a lower peak means the line cannot be trusted. For Other
// pairs, whose meaning is unknown, only the range is checked.
//
// # Anchoring, noise and malformed lines
//
// Only a message that starts with a stats form (after header, tag and
// level) is a sample. "Stats 5, c:1, d:1" or `STATS: {...}` inside some
// other message's text is Noise, and so is "STATS:" not followed by "{".
//
// A line is Malformed, with MalformedKind "webbridge" or "callbridge" and a
// Reason, when it has a stats form in the right place but a number is
// negative, too large, or not a number, a field is missing, the JSON is
// invalid or truncated, a key is repeated, a known key has the wrong type,
// CMA is missing, a peak is below its current value, or anything but
// spaces follows the stats text. The JSON is always scanned to its end,
// so invalid or truncated JSON is reported in preference to an error in
// what a value means; otherwise the first such error is. A line whose header does not parse (no or
// a bad timestamp, no host, no tag) is Malformed when a stats form directly
// follows "tag: LEVEL :" (a level is required here, since the header cannot
// say where the message starts); otherwise it is Noise. A Malformed line
// never carries a sample. Reasons come from a small fixed set and are safe
// as metric label values.
//
// Bytes are bytes: invalid UTF-8 and NUL are never an error in the header
// or in text that is skipped. Timestamps carrying their own year inside
// the message, RFC 5424 headers and multi-line messages are not supported.
package logline

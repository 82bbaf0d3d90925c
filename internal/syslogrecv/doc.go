// Package syslogrecv receives syslog from Cisco Meeting Server over UDP and
// TCP, so that leakwatch can read Web Bridge and Call Bridge statistics
// without a syslog server in between. Each accepted message is handed, PRI
// removed, to a handler that feeds the same line parser as log files.
//
// # Security default
//
// Only sources inside Config.AllowedSources or Config.Sources are served;
// empty lists serve nobody. The source address is checked before any byte is parsed:
// a UDP datagram from elsewhere is counted and dropped, a TCP connection
// from elsewhere is closed unread. IPv4-mapped IPv6 addresses (as a
// dual-stack socket reports IPv4 peers) are unmapped and IPv6 zones dropped
// before matching, and prefixes are normalized the same way, so
// 10.0.0.0/8 matches ::ffff:10.1.2.3. Rejections are counted by reason
// (see Reasons) and logged at most once per source per minute, with the
// number suppressed since; a summary every minute reports the counts
// suppressed and not yet logged. Both the per-source message counters and
// the log limiter track at most MaxTrackedSources addresses and count the
// rest as "other", so a flood of spoofed UDP sources cannot grow memory.
//
// There is no TLS (RFC 5425) and no authentication beyond the source
// address, which a UDP sender can forge: bind to a management network and
// allow only the CMS servers.
//
// # UDP
//
// One datagram is one message (as RFC 5426 and rsyslog have it). Trailing
// CR, LF and NUL bytes are removed; newlines inside a datagram are kept,
// so a relay that batches several lines in one datagram is not supported.
// A datagram longer than MaxMessageSize (plus up to three trailer bytes)
// is rejected as "too_large".
//
// # TCP framing (RFC 6587)
//
// Framing is detected for each frame from its first byte, as rsyslog does,
// so one connection may mix both kinds:
//
//   - A frame starting with '1'..'9' is octet-counted: "LEN SP MSG", MSG
//     being exactly LEN bytes. Trailing CR/LF/NUL inside MSG are removed.
//     If the digits are not followed by a space, or run past ten digits,
//     the frame is not octet-counted but a line that starts with them
//     (such as "2024-03-06T09:34:45 ..."), and is read as below.
//   - Any other frame is a line ended by LF or NUL; CR before the LF is
//     removed (CRLF). Empty lines and stray CR, LF, NUL between frames are
//     skipped.
//
// The limitation of this detection, shared with rsyslog, is that a
// newline-framed message without PRI that starts with digits and a space
// ("12 apples\n") is read as an octet count. Messages from CMS start with
// "<PRI>" and are unaffected.
//
// MaxMessageSize applies to the message with its PRI and without framing.
// A longer line is rejected as "too_large" and discarded up to its LF; a
// longer octet-counted frame is rejected and skipped by its length. The
// connection is kept in both cases. At end of stream an unterminated last
// line is accepted; a truncated octet-counted frame is rejected as
// "bad_frame". A connection's memory is its read buffer (at most 64 KiB,
// MaxMessageSize-sized by default) and a frame buffer of MaxMessageSize+1
// bytes.
//
// # Holding the connection table
//
// A sender must not be able to keep others out by holding connections:
//
//   - One address may hold MaxConnectionsPerSource connections (default 8);
//     more are closed unread ("source_connection_limit").
//   - When MaxConnections are open (default 64), a new connection from an
//     allowed address closes the longest-idle one to make room
//     ("connection_evicted", counted under the evicted one's source). Idle
//     means no frame completed: a connection that delivers is never the
//     one evicted while a silent or trickling one is open.
//   - A connection that completes no frame for IdleTimeout (default 30s)
//     is closed. Bytes of an unfinished message do not reset it, so one
//     byte every few seconds does not keep a connection.
//   - A message must be complete MessageTimeout (default 10s) after its
//     first byte; otherwise the connection is closed and the partial
//     message dropped ("message_timeout", also when IdleTimeout ends
//     inside a message).
//
// Closing an idle connection is safe for senders that reconnect, as
// rsyslog and syslog-ng do. A plain-TCP sender learns of the close only
// when its next write fails, so the first message after a long silence
// may be lost on the sender's side (the known weakness of RFC 6587
// transport); raise IdleTimeout above the sender's quietest interval if
// that matters more than the lockout.
//
// # Hostname bindings
//
// Config.Sources may bind networks to hostnames. The receiver does not
// parse hostnames; whoever parses the messages asks HostAllowed, which
// refuses a hostname that is bound to other networks, or any other
// hostname from a network bound to some, counting "host_not_allowed".
//
// # PRI and message formats
//
// A leading "<N>" with N in 0..191 is removed. A message that starts with
// '<' but has no valid PRI is rejected as "bad_pri" rather than passed on:
// CMS always sends a valid PRI, so this is a sender that is not speaking
// syslog, and a counter says so better than a parser failure would. A
// message without '<' is passed through unchanged (relays may strip the
// PRI). A message empty once PRI and trailer are removed is rejected as
// "empty". Facility and severity are not reported.
//
// RFC 5424 messages are passed through after the PRI, version field and
// structured header included ("1 2003-10-11T22:14:15.003Z host app - - -
// msg"); they are not converted to the BSD form the line parser reads, so
// a CMS configured for RFC 5424 output yields lines the parser may not
// understand.
//
// # Concurrency and shutdown
//
// Run reads UDP in one goroutine and each TCP connection in its own, and
// calls the handler from them under a lock: handler calls never overlap.
// A slow handler holds TCP senders back and lets the kernel drop UDP
// datagrams. When Run's context is done it closes the sockets and every
// open connection and returns once all its goroutines have finished.
package syslogrecv

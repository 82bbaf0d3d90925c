package syslogrecv

// Rejection reasons, used as keys of Stats.Rejected and as metric label
// values. The set is fixed so that a label cannot grow without bound.
const (
	// ReasonSourceNotAllowed: the sender's address is outside
	// AllowedSources. Counted once per UDP datagram and once per refused
	// TCP connection (no byte of a refused connection is read).
	ReasonSourceNotAllowed = "source_not_allowed"
	// ReasonTooLarge: the message is longer than MaxMessageSize.
	ReasonTooLarge = "too_large"
	// ReasonBadFrame: a TCP stream ended inside an octet-counted frame.
	ReasonBadFrame = "bad_frame"
	// ReasonBadPRI: the message starts with '<' but not with a valid
	// "<0>".."<191>" priority.
	ReasonBadPRI = "bad_pri"
	// ReasonEmpty: nothing is left once framing and PRI are removed.
	ReasonEmpty = "empty"
	// ReasonSourceConnectionLimit: a TCP connection arrived while its
	// address already had MaxConnectionsPerSource open; it was closed
	// unread.
	ReasonSourceConnectionLimit = "source_connection_limit"
	// ReasonConnectionEvicted: a TCP connection arrived while
	// MaxConnections were open, and the longest-idle one (counted under
	// its own source) was closed to make room.
	ReasonConnectionEvicted = "connection_evicted"
	// ReasonMessageTimeout: a TCP message was not complete MessageTimeout
	// after its first byte, or the connection went idle inside one; the
	// connection was closed and the partial message dropped.
	ReasonMessageTimeout = "message_timeout"
	// ReasonHostNotAllowed: a message's hostname is bound to other source
	// addresses, or its source may report only for other hostnames (see
	// Config.Sources). Counted by HostAllowed.
	ReasonHostNotAllowed = "host_not_allowed"
)

// Reasons returns every rejection reason, so that a metrics collector can
// export all of them from the start.
func Reasons() []string {
	return []string{
		ReasonSourceNotAllowed,
		ReasonTooLarge,
		ReasonBadFrame,
		ReasonBadPRI,
		ReasonEmpty,
		ReasonSourceConnectionLimit,
		ReasonConnectionEvicted,
		ReasonMessageTimeout,
		ReasonHostNotAllowed,
	}
}

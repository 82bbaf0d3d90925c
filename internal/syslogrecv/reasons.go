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
	// ReasonTooManyConnections: a TCP connection arrived while
	// MaxConnections were open; it was closed unread.
	ReasonTooManyConnections = "too_many_connections"
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
		ReasonTooManyConnections,
	}
}

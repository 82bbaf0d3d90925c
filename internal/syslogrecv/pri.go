package syslogrecv

// maxPRI is the largest valid PRI value: facility 23 (local7) * 8 +
// severity 7 (debug).
const maxPRI = 191

// stripPRI removes a leading "<N>" priority (N in 0..191, one to three
// digits) from msg. A message that does not start with '<' has no PRI and
// is returned unchanged; one that starts with '<' but has no valid PRI is
// malformed and ok is false.
func stripPRI(msg []byte) (rest []byte, ok bool) {
	if len(msg) == 0 || msg[0] != '<' {
		return msg, true
	}
	v := 0
	for i := 1; i < len(msg) && i <= 4; i++ {
		c := msg[i]
		switch {
		case c == '>' && i > 1:
			return msg[i+1:], v <= maxPRI
		case '0' <= c && c <= '9' && i <= 3:
			v = v*10 + int(c-'0')
		default:
			return nil, false
		}
	}
	return nil, false
}

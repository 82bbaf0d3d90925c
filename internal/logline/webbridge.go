package logline

import "bytes"

// webBridgePrefixes are the debug markers that open a Web Bridge stats message.
var webBridgePrefixes = [...][]byte{[]byte("[DEBUGGING]"), []byte("[DEBUG]")}

// webBridgeForm returns the offset of "Stats " in msg when msg starts with
// the Web Bridge stats form "[DEBUGGING] Stats " (or "[DEBUG]"), else -1.
func webBridgeForm(msg []byte) int {
	for _, pre := range webBridgePrefixes {
		if !bytes.HasPrefix(msg, pre) {
			continue
		}
		i := skipSpace(msg, len(pre))
		if i > len(pre) && bytes.HasPrefix(msg[i:], markWebBridge) {
			return i
		}
	}
	return -1
}

// parseWebBridge parses "Stats A, c:C, d:D" followed by nothing but spaces.
// It returns a reason when the text is malformed.
func parseWebBridge(s []byte, wb *WebBridge) string {
	i := skipSpace(s, len("Stats"))
	var reason string
	if wb.Active, i, reason = statNumber(s, i, "active"); reason != "" {
		return reason
	}
	if i >= len(s) || s[i] != ',' {
		return "missing c:"
	}
	i = skipSpace(s, i+1)
	if !bytes.HasPrefix(s[i:], []byte("c:")) {
		return "missing c:"
	}
	if wb.Connections, i, reason = statNumber(s, i+2, "c"); reason != "" {
		return reason
	}
	if i >= len(s) || s[i] != ',' {
		return "missing d:"
	}
	i = skipSpace(s, i+1)
	if !bytes.HasPrefix(s[i:], []byte("d:")) {
		return "missing d:"
	}
	if wb.Disconnections, i, reason = statNumber(s, i+2, "d"); reason != "" {
		return reason
	}
	if skipSpace(s, i) != len(s) {
		return "trailing data after d:"
	}
	return ""
}

// statNumber parses a decimal in [0, MaxValue] at s[i:] that must end at a
// ',' or a space or the end of s. It returns the value and the offset after
// it, or a reason naming field.
func statNumber(s []byte, i int, field string) (int64, int, string) {
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	v, j, tooBig := decimal(s, i)
	switch {
	case j == i || (j < len(s) && s[j] != ',' && !isSpace(s[j])):
		return 0, j, field + ": not a number"
	case neg:
		return 0, j, field + ": negative number"
	case tooBig:
		return 0, j, field + ": number too large"
	}
	return v, j, ""
}

// decimal reads the ASCII digits at s[i:]. It returns their value, the
// offset after them, and whether the value exceeds MaxValue (v is then
// meaningless).
func decimal[T []byte | string](s T, i int) (v int64, end int, tooBig bool) {
	for end = i; end < len(s) && isDigit(s[end]); end++ {
		if !tooBig {
			v = v*10 + int64(s[end]-'0')
			tooBig = v > MaxValue
		}
	}
	return v, end, tooBig
}

package logline

// Markers returns the byte strings of which every stats line, valid or
// malformed, contains at least one. A scanner over a large buffer may skip
// every line that contains none: Parse would call it Noise.
func Markers() [][]byte {
	return [][]byte{markWebBridge, markCallBridge}
}

package logline

// Markers returns the byte strings of which every stats line, valid or
// malformed, contains at least one. A scanner over a large buffer may skip
// every line that contains none: Parse would call it Noise. The slices are
// copies; changing them does not change the parser.
func Markers() [][]byte {
	return [][]byte{append([]byte(nil), markWebBridge...), append([]byte(nil), markCallBridge...)}
}

//go:build !race

package cli

// raceDetector is true under -race, which makes the replay of a month
// several times slower.
const raceDetector = false

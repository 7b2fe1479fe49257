//go:build race

package imapsource

func init() { raceDetector = true }

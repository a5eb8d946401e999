package sippeer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// A test writes the tone a caller plays and later measures which tones a
// recording holds. Here the "recording" is the tone file itself.
func ExampleBandEnergyDB() {
	dir, err := os.MkdirTemp("", "sippeer-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "caller.wav")
	// 3 s of 440 Hz at half scale, then 5 s of silence so that a baresip
	// playing it stays on the line.
	if err := sippeer.WriteToneWAV(path, 440, 3*time.Second, 0.5, sippeer.WithSilence(5*time.Second)); err != nil {
		panic(err)
	}
	caller, _ := sippeer.BandEnergyDB(path, 0, 1, 1, 390, 490)
	agent, _ := sippeer.BandEnergyDB(path, 0, 1, 1, 950, 1050)
	pitch, _ := sippeer.DominantFrequency(path, 0, 1, 1)
	fmt.Printf("440 Hz band: %.0f dB\n1000 Hz band below -40 dB: %v\npitch: %.0f Hz\n", caller, agent < -40, pitch)
	// Output:
	// 440 Hz band: -9 dB
	// 1000 Hz band below -40 dB: true
	// pitch: 440 Hz
}

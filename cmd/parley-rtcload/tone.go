package main

import (
	"math"
	"time"

	"github.com/zaf/g711"
)

// toneShare returns the share of a PCMU frame's energy that is at hz
// (Goertzel), and the frame's level in dB below full scale.
func toneShare(ulaw []byte, hz float64) (share, levelDB float64) {
	if len(ulaw) == 0 {
		return 0, math.Inf(-1)
	}
	coeff := 2 * math.Cos(2*math.Pi*hz/8000)
	var s1, s2, energy float64
	for _, b := range ulaw {
		x := float64(g711.DecodeUlawFrame(b)) / 32768
		energy += x * x
		s1, s2 = x+coeff*s1-s2, s1
	}
	if energy == 0 {
		return 0, math.Inf(-1)
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	n := float64(len(ulaw))
	return 2 * power / (n * energy), 10 * math.Log10(energy/n)
}

// Tone detection: a frame carries the tone when most of its energy is at
// the tone's frequency and it is loud enough; the tone has arrived with
// the first of toneRun such frames in a row (a stray frame of queue audio
// does not count).
const (
	toneMinShare = 0.6
	toneMinDB    = -40.0
	toneRun      = 3
)

// toneDetector finds when a tone starts in a stream of 20 ms frames.
type toneDetector struct {
	hz    float64
	run   int
	first time.Time // the run's first frame
	found time.Time // the tone's start, once found
}

// frame looks at one frame received at at and reports whether the tone
// has been found (by this frame or before).
func (d *toneDetector) frame(ulaw []byte, at time.Time) bool {
	if !d.found.IsZero() {
		return true
	}
	share, db := toneShare(ulaw, d.hz)
	if share < toneMinShare || db < toneMinDB {
		d.run = 0
		return false
	}
	if d.run == 0 {
		d.first = at
	}
	d.run++
	if d.run >= toneRun {
		d.found = d.first
		return true
	}
	return false
}

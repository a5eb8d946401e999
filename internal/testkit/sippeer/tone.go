package sippeer

import (
	"math"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// fadeTime is the raised-cosine ramp at both ends of a tone. Without it the
// step from silence to a sine (and back) is a click whose energy spreads
// over every band and blurs band-energy checks.
const fadeTime = 10 * time.Millisecond

// ToneOption changes how WriteToneWAV and WriteULawToneWAV build a tone.
type ToneOption func(*toneConfig)

type toneConfig struct {
	rate       int
	lead, tail time.Duration
}

// WithSilence appends d of silence after the tone. baresip hangs up when its
// aufile source reaches the end of the file, so a caller that must stay on
// the line longer than the tone needs this padding.
func WithSilence(d time.Duration) ToneOption { return func(c *toneConfig) { c.tail = d } }

// WithLeadingSilence puts d of silence before the tone.
func WithLeadingSilence(d time.Duration) ToneOption { return func(c *toneConfig) { c.lead = d } }

// WithSampleRate sets the sample rate; the default is 8000 Hz (G.711).
func WithSampleRate(hz int) ToneOption { return func(c *toneConfig) { c.rate = hz } }

// ToneAudio returns mono audio holding a sine of hz at amplitude (a fraction
// of full scale, in (0, 1]) for dur, shaped by opts.
func ToneAudio(hz float64, dur time.Duration, amplitude float64, opts ...ToneOption) (*Audio, error) {
	c := toneConfig{rate: 8000}
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.rate < 1000 || c.rate > 192000:
		return nil, cc.Errorf(cc.EINVALID, "tone sample rate %d Hz: use 1000 to 192000 (8000 for G.711)", c.rate)
	case !(hz > 0 && hz < float64(c.rate)/2):
		return nil, cc.Errorf(cc.EINVALID, "tone of %g Hz: use more than 0 and less than half the sample rate (%d Hz)", hz, c.rate/2)
	case dur <= 0 || dur > time.Hour:
		return nil, cc.Errorf(cc.EINVALID, "tone duration %s: use more than 0 and at most 1h", dur)
	case !(amplitude > 0 && amplitude <= 1):
		return nil, cc.Errorf(cc.EINVALID, "tone amplitude %g: use a fraction of full scale in (0, 1], such as 0.5", amplitude)
	case c.lead < 0 || c.tail < 0 || c.lead > time.Hour || c.tail > time.Hour:
		return nil, cc.Errorf(cc.EINVALID, "tone silence %s before and %s after: use 0 to 1h", c.lead, c.tail)
	}
	samples := func(d time.Duration) int { return int(math.Round(d.Seconds() * float64(c.rate))) }
	lead, n, tail := samples(c.lead), samples(dur), samples(c.tail)
	fade := min(samples(fadeTime), n/2)
	out := make([]float64, lead+n+tail)
	w := 2 * math.Pi * hz / float64(c.rate)
	for i := range n {
		g := amplitude
		if k := min(i, n-1-i); k < fade {
			g *= 0.5 - 0.5*math.Cos(math.Pi*float64(k)/float64(fade))
		}
		out[lead+i] = g * math.Sin(w*float64(i))
	}
	return &Audio{Rate: c.rate, Channels: [][]float64{out}}, nil
}

// WriteToneWAV writes a mono 16-bit PCM WAV file (8 kHz unless
// [WithSampleRate]) holding a sine of hz at amplitude (a fraction of full
// scale: 0.5 gives about -9 dB) for dur. It needs no sox. Use it for
// baresip's audio source and for diago's playback.
func WriteToneWAV(path string, hz float64, dur time.Duration, amplitude float64, opts ...ToneOption) error {
	return writeTone(path, PCM16, hz, dur, amplitude, opts)
}

// WriteULawToneWAV writes the same tone as WriteToneWAV as an 8-bit µ-law
// WAV (format tag 7), the input of SIPp's rtp_stream with payload type 0.
// SIPp streams the file bytes as they are, header included: the 58-byte
// header is heard as 7 ms of noise at the start, which is harmless.
func WriteULawToneWAV(path string, hz float64, dur time.Duration, amplitude float64, opts ...ToneOption) error {
	return writeTone(path, ULaw, hz, dur, amplitude, opts)
}

func writeTone(path string, enc Encoding, hz float64, dur time.Duration, amplitude float64, opts []ToneOption) error {
	a, err := ToneAudio(hz, dur, amplitude, opts...)
	if err != nil {
		return err
	}
	return WriteWAV(path, a, enc)
}

package sippeer

import (
	"fmt"
	"math"
	"math/cmplx"

	"github.com/parley-cc/parley/internal/cc"
)

// The analysis is Welch's method: the segment is cut into Hann-windowed
// frames overlapping by half, each frame's power spectrum is computed with
// an FFT, and the spectra are averaged. A frame is about 1/8 s (1024 samples
// at 8 kHz, 2048 at 16 kHz): bins of 7.8 Hz, and side lobes of a strong tone
// fall off fast enough that a 440 Hz tone reads below -60 dB in a
// 950-1050 Hz band.

// minSegment is the shortest segment, in samples, that is analysed.
const minSegment = 128

// BandEnergyDB returns the level of the energy between loHz and hiHz in one
// channel (0 is the first, the left one) of a WAV file, over durSec seconds
// from fromSec (durSec 0 means to the end; a segment that runs past the end
// is cut there). The level is in dB relative to full scale, on the scale of
// the "RMS lev dB" that `sox f.wav -n trim FROM DUR sinc LO-HI stats`
// prints: a sine of amplitude A inside the band reads 20·log10(A/√2), so a
// tone at half scale is -9 dB, and after a G.711 call typically -10 to
// -16 dB; a band with no tone reads below -40 dB (often far below). Silence
// is -Inf.
//
// The band is ideal: a tone inside it counts fully, one outside not at all.
// sox's sinc filter has a transition band of 5% of the Nyquist frequency
// (200 Hz at 8 kHz) centred on each edge, so where a tone lies within half
// of that from an edge sox reads it lower: by 0.6 dB for 1000 Hz in the
// recipe band 950-1050 Hz at 8 kHz, by 4 dB for a 100 Hz band at 16 kHz.
// Thresholds taken from sox readings therefore hold here too.
func BandEnergyDB(wavPath string, channel int, fromSec, durSec, loHz, hiHz float64) (float64, error) {
	a, err := ReadWAV(wavPath)
	if err != nil {
		return 0, err
	}
	return a.BandEnergyDB(channel, fromSec, durSec, loHz, hiHz)
}

// DominantFrequency returns the frequency in Hz of the strongest spectral
// peak above 20 Hz in one channel of a WAV file over a segment (as in
// [BandEnergyDB]), interpolated between FFT bins to within about 1 Hz for a
// steady tone. It returns 0 for a silent segment.
func DominantFrequency(wavPath string, channel int, fromSec, durSec float64) (float64, error) {
	a, err := ReadWAV(wavPath)
	if err != nil {
		return 0, err
	}
	return a.DominantFrequency(channel, fromSec, durSec)
}

// LevelDB returns the RMS level of one channel of a WAV file over a segment
// (as in [BandEnergyDB]) in dB relative to full scale: sox's "RMS lev dB"
// without a filter. Silence is -Inf.
func LevelDB(wavPath string, channel int, fromSec, durSec float64) (float64, error) {
	a, err := ReadWAV(wavPath)
	if err != nil {
		return 0, err
	}
	return a.LevelDB(channel, fromSec, durSec)
}

// BandEnergyDB is the package function BandEnergyDB on decoded audio.
func (a *Audio) BandEnergyDB(channel int, fromSec, durSec, loHz, hiHz float64) (float64, error) {
	if !(loHz >= 0 && hiHz > loHz && hiHz <= float64(a.Rate)/2) {
		return 0, cc.Errorf(cc.EINVALID, "band %g-%g Hz: give 0 <= low < high <= %d Hz (half the sample rate)", loHz, hiHz, a.Rate/2)
	}
	x, err := a.segment(channel, fromSec, durSec)
	if err != nil {
		return 0, err
	}
	psd, size := welch(x, a.Rate)
	var p float64
	for k, v := range psd {
		if f := float64(k) * float64(a.Rate) / float64(size); f >= loHz && f <= hiHz {
			p += v
		}
	}
	return powerDB(p), nil
}

// DominantFrequency is the package function DominantFrequency on decoded
// audio.
func (a *Audio) DominantFrequency(channel int, fromSec, durSec float64) (float64, error) {
	x, err := a.segment(channel, fromSec, durSec)
	if err != nil {
		return 0, err
	}
	psd, size := welch(x, a.Rate)
	binHz := float64(a.Rate) / float64(size)
	first := int(math.Ceil(20 / binHz))
	best := -1
	for k := max(first, 1); k < len(psd)-1; k++ {
		if psd[k] > 0 && (best < 0 || psd[k] > psd[best]) {
			best = k
		}
	}
	if best < 0 {
		return 0, nil
	}
	// Fit a parabola through the log power of the peak and its neighbours
	// (Gaussian interpolation, close to exact for a Hann window).
	l, c, r := math.Log(psd[best-1]+1e-300), math.Log(psd[best]), math.Log(psd[best+1]+1e-300)
	delta := 0.0
	if d := l - 2*c + r; d < 0 {
		delta = max(-0.5, min(0.5, 0.5*(l-r)/d))
	}
	return (float64(best) + delta) * binHz, nil
}

// LevelDB is the package function LevelDB on decoded audio.
func (a *Audio) LevelDB(channel int, fromSec, durSec float64) (float64, error) {
	x, err := a.segment(channel, fromSec, durSec)
	if err != nil {
		return 0, err
	}
	var p float64
	for _, v := range x {
		p += v * v
	}
	return powerDB(p / float64(len(x))), nil
}

func powerDB(p float64) float64 {
	if p <= 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(p)
}

// segment returns the samples of one channel from fromSec for durSec.
func (a *Audio) segment(channel int, fromSec, durSec float64) ([]float64, error) {
	if channel < 0 || channel >= len(a.Channels) {
		return nil, cc.Errorf(cc.EINVALID, "channel %d: the audio has %d channel(s), numbered from 0", channel, len(a.Channels))
	}
	if !(fromSec >= 0) || !(durSec >= 0) || math.IsInf(fromSec, 0) || math.IsInf(durSec, 0) {
		return nil, cc.Errorf(cc.EINVALID, "segment from %gs for %gs: give a start and a duration of 0 or more seconds", fromSec, durSec)
	}
	x := a.Channels[channel]
	start := int(math.Round(fromSec * float64(a.Rate)))
	end := len(x)
	if durSec > 0 {
		end = min(end, start+int(math.Round(durSec*float64(a.Rate))))
	}
	if end-start < minSegment {
		return nil, cc.Errorf(cc.EINVALID, "segment from %gs for %gs holds %d samples of a %s recording: analyse at least %d samples",
			fromSec, durSec, max(0, end-start), a.Duration(), minSegment)
	}
	return x[start:end], nil
}

// welch returns the averaged one-sided power spectrum of x, scaled so that
// the bins sum to the mean power of x, and the FFT size it was computed with
// (bin k is at k·rate/size Hz).
func welch(x []float64, rate int) (psd []float64, size int) {
	frame := min(nextPow2(rate/8), len(x))
	size = nextPow2(frame)
	win := make([]float64, frame)
	var wsum float64
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(frame))
		wsum += win[i] * win[i]
	}
	starts := []int{}
	step := frame / 2
	for s := 0; s+frame <= len(x); s += step {
		starts = append(starts, s)
	}
	if last := len(x) - frame; starts[len(starts)-1] != last {
		starts = append(starts, last) // cover the tail
	}
	psd = make([]float64, size/2+1)
	buf := make([]complex128, size)
	for _, s := range starts {
		for i := range buf {
			buf[i] = 0
		}
		for i, w := range win {
			buf[i] = complex(x[s+i]*w, 0)
		}
		fft(buf)
		for k := range psd {
			v := real(buf[k])*real(buf[k]) + imag(buf[k])*imag(buf[k])
			if k != 0 && k != size/2 {
				v *= 2 // the negative frequencies mirror the positive ones
			}
			psd[k] += v
		}
	}
	norm := 1 / (float64(size) * wsum * float64(len(starts)))
	for k := range psd {
		psd[k] *= norm
	}
	return psd, size
}

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// fft is an in-place iterative radix-2 FFT; len(x) must be a power of two.
func fft(x []complex128) {
	n := len(x)
	if n&(n-1) != 0 {
		panic(fmt.Sprintf("sippeer: fft of %d points", n))
	}
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j |= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		step := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			w := complex(1, 0)
			for k := range size / 2 {
				a, b := x[start+k], x[start+k+size/2]*w
				x[start+k], x[start+k+size/2] = a+b, a-b
				w *= step
			}
		}
	}
}

// Window is half a second of a recording, as SoundRuns classifies it.
type Window struct {
	Audio *Audio
	// From is where the window starts, in seconds.
	From float64
	// Level is the window's RMS level in dB (LevelDB).
	Level float64
}

// Band is the energy of hz±50 in the window, in dB (BandEnergyDB).
func (w Window) Band(hz float64) float64 {
	db, err := w.Audio.BandEnergyDB(0, w.From, 0.5, hz-50, hz+50)
	if err != nil {
		return -200
	}
	return db
}

// SoundRuns classifies each half second of the first channel of a WAV file
// and returns the classes in order, runs of one class shortened to one
// letter; a class lasting a single window, and '?', are left out as
// transitions. It reads a recording by content, not by clock time.
func SoundRuns(wavPath string, classify func(Window) byte) (string, error) {
	a, err := ReadWAV(wavPath)
	if err != nil {
		return "", err
	}
	var seq []byte
	for from := 0.0; from+0.5 <= a.Duration().Seconds(); from += 0.5 {
		lv, err := a.LevelDB(0, from, 0.5)
		if err != nil {
			return "", err
		}
		seq = append(seq, classify(Window{Audio: a, From: from, Level: lv}))
	}
	var out []byte
	for i := 0; i < len(seq); {
		j := i
		for j < len(seq) && seq[j] == seq[i] {
			j++
		}
		if seq[i] != '?' && j-i >= 2 && (len(out) == 0 || out[len(out)-1] != seq[i]) {
			out = append(out, seq[i])
		}
		i = j
	}
	return string(out), nil
}

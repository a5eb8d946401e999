package sippeer

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// mix returns the sum of tones at 8 kHz (or rate), one second each.
func mix(t *testing.T, rate int, dur time.Duration, tones map[float64]float64) []float64 {
	t.Helper()
	var out []float64
	for hz, amp := range tones {
		a, err := ToneAudio(hz, dur, amp, WithSampleRate(rate))
		if err != nil {
			t.Fatal(err)
		}
		if out == nil {
			out = make([]float64, len(a.Channels[0]))
		}
		for i, v := range a.Channels[0] {
			out[i] += v
		}
	}
	return out
}

func TestBandEnergyDB(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		a := &Audio{Rate: rate, Channels: [][]float64{mix(t, rate, 3*time.Second, map[float64]float64{440: 0.5, 1000: 0.1})}}
		for _, tc := range []struct {
			lo, hi, want, tol float64
		}{
			{400, 480, -9.03, 0.2},   // 20·log10(0.5/√2)
			{950, 1050, -23.01, 0.2}, // 20·log10(0.1/√2)
			{1900, 2100, math.Inf(-1), 0},
			{0, float64(rate) / 2, -8.86, 0.2}, // both tones: 10·log10(0.125+0.005)
		} {
			got, err := a.BandEnergyDB(0, 0.5, 2, tc.lo, tc.hi)
			if err != nil {
				t.Fatal(err)
			}
			if math.IsInf(tc.want, -1) {
				if got > -60 {
					t.Errorf("%d Hz: band %g-%g: %.1f dB, want below -60 (no tone there)", rate, tc.lo, tc.hi, got)
				}
				continue
			}
			if math.Abs(got-tc.want) > tc.tol {
				t.Errorf("%d Hz: band %g-%g: %.2f dB, want %.2f", rate, tc.lo, tc.hi, got, tc.want)
			}
		}
	}
}

func TestDominantFrequency(t *testing.T) {
	for _, tc := range []struct {
		rate int
		hz   float64
	}{{8000, 440}, {8000, 1000}, {8000, 2000}, {8000, 300}, {16000, 440}, {16000, 3150.5}} {
		a := &Audio{Rate: tc.rate, Channels: [][]float64{mix(t, tc.rate, 2*time.Second, map[float64]float64{tc.hz: 0.5, tc.hz * 1.7: 0.05})}}
		got, err := a.DominantFrequency(0, 0.2, 1.5)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-tc.hz) > 1 {
			t.Errorf("%d Hz rate: %.2f Hz, want %g", tc.rate, got, tc.hz)
		}
	}
	silent := &Audio{Rate: 8000, Channels: [][]float64{make([]float64, 8000)}}
	if f, err := silent.DominantFrequency(0, 0, 0); err != nil || f != 0 {
		t.Errorf("silence: %g, %v; want 0, nil", f, err)
	}
}

func TestAnalysisRejectsBadSegments(t *testing.T) {
	a := &Audio{Rate: 8000, Channels: [][]float64{make([]float64, 8000)}}
	for _, tc := range []struct {
		name              string
		ch                int
		from, dur, lo, hi float64
	}{
		{"channel", 1, 0, 1, 100, 200},
		{"negative channel", -1, 0, 1, 100, 200},
		{"past the end", 0, 1.5, 1, 100, 200},
		{"negative start", 0, -1, 1, 100, 200},
		{"nan duration", 0, 0, math.NaN(), 100, 200},
		{"too short", 0, 0, 0.001, 100, 200},
		{"band reversed", 0, 0, 1, 200, 100},
		{"band above nyquist", 0, 0, 1, 100, 5000},
	} {
		if _, err := a.BandEnergyDB(tc.ch, tc.from, tc.dur, tc.lo, tc.hi); !cc.IsCode(err, cc.EINVALID) {
			t.Errorf("%s: err = %v, want EINVALID", tc.name, err)
		}
	}
	if _, err := BandEnergyDB(filepath.Join(t.TempDir(), "missing.wav"), 0, 0, 1, 100, 200); err == nil {
		t.Error("missing file: no error")
	}
}

var soxRMS = regexp.MustCompile(`RMS lev dB\s+(\S+)`)

// soxBandDB runs `sox f.wav -n [remix N] trim FROM DUR sinc LO-HI stats` and
// returns the RMS level it prints.
func soxBandDB(t *testing.T, sox, path string, channel int, from, dur, lo, hi float64) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	args := []string{path, "-n", "remix", strconv.Itoa(channel + 1), "trim", f(from), f(dur), "sinc", f(lo) + "-" + f(hi), "stats"}
	out, err := exec.CommandContext(ctx, sox, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("sox %v: %v\n%s", args, err, out)
	}
	m := soxRMS.FindSubmatch(out)
	if m == nil {
		t.Fatalf("sox %v printed no RMS level:\n%s", args, out)
	}
	if string(m[1]) == "-inf" {
		return math.Inf(-1)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatalf("sox RMS level %q: %v", m[1], err)
	}
	return v
}

// TestBandEnergyMatchesSox checks the Go analysis against sox on the kinds
// of file the telephony tests meet: mono 8 kHz PCM and µ-law, and stereo
// 16 kHz with a different tone per channel. Where sox's filter passes the
// tone fully (the band reaches past the tone by more than half sox's
// transition band, 5% of the Nyquist frequency) both agree within 0.5 dB; in
// a narrow band such as the recipe's 950-1050 Hz, sox's filter attenuates
// the tone a little and the Go reading is the same or higher; where no tone
// is, both read below -40 dB.
func TestBandEnergyMatchesSox(t *testing.T) {
	sox := RequireTool(t, ToolSox)
	dir := t.TempDir()
	type file struct {
		name  string
		rate  int
		tones []map[float64]float64 // per channel: frequency -> amplitude
		enc   Encoding
	}
	files := []file{
		{"mono.wav", 8000, []map[float64]float64{{440: 0.5, 1000: 0.2}}, PCM16},
		{"mono-ulaw.wav", 8000, []map[float64]float64{{440: 0.5, 1000: 0.2}}, ULaw},
		{"stereo.wav", 16000, []map[float64]float64{{300: 0.3}, {2000: 0.6}}, PCM16},
	}
	check := func(name string, path string, ch int, lo, hi float64, verdict func(goDB, soxDB float64) bool) {
		t.Helper()
		got, err := BandEnergyDB(path, ch, 1, 2, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		want := soxBandDB(t, sox, path, ch, 1, 2, lo, hi)
		t.Logf("%s channel %d, %s band %g-%g Hz: Go %.2f dB, sox %.2f dB", filepath.Base(path), ch, name, lo, hi, got, want)
		if !verdict(got, want) {
			t.Errorf("%s channel %d, %s band %g-%g Hz: Go %.2f dB and sox %.2f dB disagree", filepath.Base(path), ch, name, lo, hi, got, want)
		}
	}
	for _, f := range files {
		a := &Audio{Rate: f.rate}
		for _, tones := range f.tones {
			a.Channels = append(a.Channels, mix(t, f.rate, 4*time.Second, tones))
		}
		path := filepath.Join(dir, f.name)
		if err := WriteWAV(path, a, f.enc); err != nil {
			t.Fatal(err)
		}
		halfTBW := float64(f.rate) / 2 * 0.05 / 2
		for ch, tones := range f.tones {
			for hz := range tones {
				check("wide", path, ch, hz-halfTBW-60, hz+halfTBW+60, func(g, s float64) bool { return math.Abs(g-s) <= 0.5 })
				check("narrow", path, ch, hz-50, hz+50, func(g, s float64) bool { return g > -20 && g >= s-0.5 })
			}
			// 3 kHz is far from every tone in these files.
			check("empty", path, ch, 2900, 3100, func(g, s float64) bool { return g < -40 && s < -40 })
		}
	}
}

package sippeer

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

func TestWriteToneWAVRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name      string
		rate      int
		lead, pad time.Duration
	}{
		{"8k", 8000, 0, 0},
		{"8k padded", 8000, 0, 1500 * time.Millisecond},
		{"16k lead and pad", 16000, 250 * time.Millisecond, 500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".wav")
			err := WriteToneWAV(path, 440, 2*time.Second, 0.5,
				WithSampleRate(tc.rate), WithLeadingSilence(tc.lead), WithSilence(tc.pad))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			le := binary.LittleEndian
			if got := le.Uint16(raw[20:]); got != wavPCM {
				t.Errorf("format tag %d, want 1 (PCM)", got)
			}
			if got := le.Uint16(raw[34:]); got != 16 {
				t.Errorf("bits per sample %d, want 16", got)
			}
			if got := le.Uint32(raw[4:]); int(got) != len(raw)-8 {
				t.Errorf("RIFF size %d, want %d", got, len(raw)-8)
			}
			a, err := ReadWAV(path)
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != tc.rate || len(a.Channels) != 1 {
				t.Fatalf("rate %d channels %d, want %d and 1", a.Rate, len(a.Channels), tc.rate)
			}
			want := 2*time.Second + tc.lead + tc.pad
			if d := a.Duration(); d != want {
				t.Errorf("duration %s, want %s", d, want)
			}
			// Peak amplitude is half scale (0.5 ± one 16-bit step).
			var peak float64
			for _, v := range a.Channels[0] {
				peak = max(peak, math.Abs(v))
			}
			if math.Abs(peak-0.5) > 1e-3 {
				t.Errorf("peak %g, want 0.5", peak)
			}
			tone := tc.lead.Seconds()
			if lvl, err := a.LevelDB(0, tone+0.5, 1); err != nil || math.Abs(lvl-(-9.03)) > 0.1 {
				t.Errorf("tone level %.2f dB (err %v), want -9.03 (a sine at half scale)", lvl, err)
			}
			if tc.lead > 0 {
				if lvl, _ := a.LevelDB(0, 0, tc.lead.Seconds()); !math.IsInf(lvl, -1) {
					t.Errorf("leading silence level %.1f dB, want -Inf", lvl)
				}
			}
			if tc.pad > 0 {
				if lvl, _ := a.LevelDB(0, tone+2, 0); !math.IsInf(lvl, -1) {
					t.Errorf("padding level %.1f dB, want -Inf", lvl)
				}
			}
		})
	}
}

func TestWriteULawToneWAV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ulaw.wav")
	if err := WriteULawToneWAV(path, 1000, 3*time.Second, 0.5); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if tag, bits := le.Uint16(raw[20:]), le.Uint16(raw[34:]); tag != wavULaw || bits != 8 {
		t.Fatalf("format tag %d with %d bits, want 7 (µ-law) with 8", tag, bits)
	}
	if i := bytes.Index(raw, []byte("data")); i < 0 || int(le.Uint32(raw[i+4:])) != 24000 {
		t.Fatalf("data chunk missing or not 24000 bytes (3 s at 8 kHz)")
	}
	a, err := ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := a.DominantFrequency(0, 0.5, 2); math.Abs(f-1000) > 2 {
		t.Errorf("dominant frequency %.1f Hz, want 1000", f)
	}
	// µ-law quantisation costs a little level but stays near -9 dB.
	if e, _ := a.BandEnergyDB(0, 0.5, 2, 950, 1050); math.Abs(e-(-9.03)) > 0.3 {
		t.Errorf("band energy %.2f dB, want about -9", e)
	}
}

func TestToneRejectsBadInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	for _, tc := range []struct {
		name string
		hz   float64
		dur  time.Duration
		amp  float64
		opts []ToneOption
	}{
		{"zero hz", 0, time.Second, 0.5, nil},
		{"above nyquist", 4000, time.Second, 0.5, nil},
		{"nan hz", math.NaN(), time.Second, 0.5, nil},
		{"no duration", 440, 0, 0.5, nil},
		{"amplitude 0", 440, time.Second, 0, nil},
		{"amplitude above 1", 440, time.Second, 1.5, nil},
		{"rate", 440, time.Second, 0.5, []ToneOption{WithSampleRate(100)}},
		{"negative pad", 440, time.Second, 0.5, []ToneOption{WithSilence(-time.Second)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteToneWAV(path, tc.hz, tc.dur, tc.amp, tc.opts...)
			if !cc.IsCode(err, cc.EINVALID) {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			if _, statErr := os.Stat(path); statErr == nil {
				t.Fatalf("a file was written for bad input")
			}
		})
	}
}

func TestEncodeWAVRejectsBadAudio(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    *Audio
		enc  Encoding
	}{
		{"no channels", &Audio{Rate: 8000}, PCM16},
		{"ragged", &Audio{Rate: 8000, Channels: [][]float64{{0, 0}, {0}}}, PCM16},
		{"rate", &Audio{Rate: 0, Channels: [][]float64{{0}}}, PCM16},
		{"encoding", &Audio{Rate: 8000, Channels: [][]float64{{0}}}, Encoding(9)},
	} {
		if _, err := EncodeWAV(tc.a, tc.enc); !cc.IsCode(err, cc.EINVALID) {
			t.Errorf("%s: err = %v, want EINVALID", tc.name, err)
		}
	}
}

func TestParseWAVStereoAndFormats(t *testing.T) {
	left, _ := ToneAudio(440, time.Second, 0.5)
	right, _ := ToneAudio(1000, time.Second, 0.25)
	stereo := &Audio{Rate: 8000, Channels: [][]float64{left.Channels[0], right.Channels[0]}}
	for _, enc := range []Encoding{PCM16, ULaw} {
		data, err := EncodeWAV(stereo, enc)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ParseWAV(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Channels) != 2 || a.Frames() != 8000 {
			t.Fatalf("enc %d: %d channels of %d frames, want 2 of 8000", enc, len(a.Channels), a.Frames())
		}
		for ch, want := range []float64{440, 1000} {
			if f, _ := a.DominantFrequency(ch, 0.1, 0.8); math.Abs(f-want) > 2 {
				t.Errorf("enc %d channel %d: %.1f Hz, want %g", enc, ch, f, want)
			}
		}
	}
}

// wavBytes builds a WAV file by hand with the given fmt fields and data.
func wavBytes(tag, nch uint16, rate uint32, bits uint16, data []byte, dataSize uint32) []byte {
	le := binary.LittleEndian
	align := nch * bits / 8
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	b = append(b, "LIST"...) // an unrelated chunk first, as some writers add
	b = le.AppendUint32(b, 3)
	b = append(b, "abc\x00"...)
	b = append(b, "fmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, tag)
	b = le.AppendUint16(b, nch)
	b = le.AppendUint32(b, rate)
	b = le.AppendUint32(b, rate*uint32(align))
	b = le.AppendUint16(b, align)
	b = le.AppendUint16(b, bits)
	b = append(b, "data"...)
	b = le.AppendUint32(b, dataSize)
	b = append(b, data...)
	le.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

func TestParseWAVSampleFormats(t *testing.T) {
	le := binary.LittleEndian
	f32 := le.AppendUint32(nil, math.Float32bits(0.25))
	f64 := le.AppendUint64(nil, math.Float64bits(-0.5))
	for _, tc := range []struct {
		name string
		tag  uint16
		bits uint16
		data []byte
		want float64
	}{
		{"pcm8", wavPCM, 8, []byte{192}, 0.5},
		{"pcm16", wavPCM, 16, le.AppendUint16(nil, uint16(0xC000)), -0.5},
		{"pcm24", wavPCM, 24, []byte{0, 0, 0x40}, 0.5},
		{"pcm32", wavPCM, 32, le.AppendUint32(nil, 0x20000000), 0.25},
		{"float32", wavFloat, 32, f32, 0.25},
		{"float64", wavFloat, 64, f64, -0.5},
		{"ulaw", wavULaw, 8, []byte{0xFF}, 0},
		{"alaw", wavALaw, 8, []byte{0xD5}, 0.000244},
	} {
		a, err := ParseWAV(wavBytes(tc.tag, 1, 8000, tc.bits, tc.data, uint32(len(tc.data))))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if a.Frames() != 1 || math.Abs(a.Channels[0][0]-tc.want) > 1e-3 {
			t.Errorf("%s: got %v, want one sample of %g", tc.name, a.Channels, tc.want)
		}
	}
}

func TestParseWAVUnfinishedHeader(t *testing.T) {
	// A writer killed before closing leaves data size 0 (or too large).
	data := make([]byte, 16000)
	for _, size := range []uint32{0, 1 << 30} {
		a, err := ParseWAV(wavBytes(wavPCM, 1, 8000, 16, data, size))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if a.Frames() != 8000 {
			t.Errorf("size %d: %d frames, want the 8000 present", size, a.Frames())
		}
	}
}

func TestParseWAVRejects(t *testing.T) {
	good := wavBytes(wavPCM, 1, 8000, 16, make([]byte, 4), 4)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not riff", []byte("RIFX\x00\x00\x00\x00WAVEfmt ")},
		{"no fmt", []byte("RIFF\x04\x00\x00\x00WAVE")},
		{"no data", good[:len(good)-12]},
		{"unsupported", wavBytes(2, 1, 8000, 4, []byte{0}, 1)},
		{"zero channels", wavBytes(wavPCM, 0, 8000, 16, nil, 0)},
		{"zero rate", wavBytes(wavPCM, 1, 0, 16, []byte{0, 0}, 2)},
	} {
		if _, err := ParseWAV(tc.data); !cc.IsCode(err, cc.EINVALID) {
			t.Errorf("%s: err = %v, want EINVALID", tc.name, err)
		}
	}
}

func FuzzParseWAV(f *testing.F) {
	tone, _ := ToneAudio(440, 50*time.Millisecond, 0.5)
	for _, enc := range []Encoding{PCM16, ULaw} {
		b, _ := EncodeWAV(tone, enc)
		f.Add(b)
	}
	f.Add(wavBytes(wavPCM, 2, 16000, 24, make([]byte, 12), 0))
	f.Add(wavBytes(wavFloat, 1, 8000, 64, make([]byte, 16), 16))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \x28\x00\x00\x00\xfe\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseWAV(data)
		if err != nil {
			if !cc.IsCode(err, cc.EINVALID) {
				t.Fatalf("error without EINVALID: %v", err)
			}
			return
		}
		for _, ch := range a.Channels {
			if len(ch) != a.Frames() {
				t.Fatalf("ragged channels")
			}
		}
	})
}

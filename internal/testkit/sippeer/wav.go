package sippeer

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/zaf/g711"
)

// Audio is decoded audio: one slice of samples per channel, each sample in
// [-1, 1] (full scale is 1).
type Audio struct {
	Rate     int
	Channels [][]float64
}

// Frames returns the number of samples per channel.
func (a *Audio) Frames() int {
	if len(a.Channels) == 0 {
		return 0
	}
	return len(a.Channels[0])
}

// Duration returns the length of the audio.
func (a *Audio) Duration() time.Duration {
	if a.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(a.Frames()) / float64(a.Rate) * float64(time.Second))
}

// Encoding is the sample format of a WAV file the kit writes.
type Encoding int

// Encodings. PCM16 is what baresip's aufile and diago's playback read; ULaw
// (8-bit G.711 µ-law, WAV format tag 7) is what SIPp's rtp_stream sends
// as PCMU without transcoding.
const (
	PCM16 Encoding = iota
	ULaw
)

// WAV format tags.
const (
	wavPCM        = 1
	wavFloat      = 3
	wavALaw       = 6
	wavULaw       = 7
	wavExtensible = 0xFFFE
)

// WriteWAV writes a as a WAV file. All channels must have the same length;
// samples are clipped to [-1, 1].
func WriteWAV(path string, a *Audio, enc Encoding) error {
	data, err := EncodeWAV(a, enc)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write wav: %w", err)
	}
	return nil
}

// EncodeWAV returns a as the bytes of a WAV file (see [WriteWAV]).
func EncodeWAV(a *Audio, enc Encoding) ([]byte, error) {
	if a.Rate < 1000 || a.Rate > 192000 {
		return nil, cc.Errorf(cc.EINVALID, "wav sample rate %d Hz: use 1000 to 192000 (8000 for G.711)", a.Rate)
	}
	nch := len(a.Channels)
	if nch < 1 || nch > 8 {
		return nil, cc.Errorf(cc.EINVALID, "wav with %d channels: use 1 to 8", nch)
	}
	frames := a.Frames()
	for i, ch := range a.Channels {
		if len(ch) != frames {
			return nil, cc.Errorf(cc.EINVALID, "wav channel %d has %d samples but channel 0 has %d: give every channel the same length", i, len(ch), frames)
		}
	}
	var tag, bits uint16
	switch enc {
	case PCM16:
		tag, bits = wavPCM, 16
	case ULaw:
		tag, bits = wavULaw, 8
	default:
		return nil, cc.Errorf(cc.EINVALID, "wav encoding %d: use PCM16 or ULaw", enc)
	}
	blockAlign := uint16(nch) * bits / 8
	dataLen := frames * int(blockAlign)
	le := binary.LittleEndian
	b := make([]byte, 0, 58+dataLen+1)
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, 0) // patched below
	b = append(b, "WAVE"...)
	b = append(b, "fmt "...)
	b = le.AppendUint32(b, 18)
	b = le.AppendUint16(b, tag)
	b = le.AppendUint16(b, uint16(nch))
	b = le.AppendUint32(b, uint32(a.Rate))
	b = le.AppendUint32(b, uint32(a.Rate)*uint32(blockAlign))
	b = le.AppendUint16(b, blockAlign)
	b = le.AppendUint16(b, bits)
	b = le.AppendUint16(b, 0) // cbSize
	if enc != PCM16 {
		// Non-PCM formats carry a fact chunk with the frame count.
		b = append(b, "fact"...)
		b = le.AppendUint32(b, 4)
		b = le.AppendUint32(b, uint32(frames))
	}
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(dataLen))
	for i := range frames {
		for _, ch := range a.Channels {
			s := toInt16(ch[i])
			if enc == ULaw {
				b = append(b, g711.EncodeUlawFrame(s))
			} else {
				b = le.AppendUint16(b, uint16(s))
			}
		}
	}
	if dataLen%2 == 1 {
		b = append(b, 0) // chunks are padded to an even length
	}
	le.PutUint32(b[4:], uint32(len(b)-8))
	return b, nil
}

func toInt16(v float64) int16 {
	v = math.Round(v * 32767)
	return int16(max(-32768, min(32767, v)))
}

// ReadWAV reads a WAV file: PCM of 8, 16, 24 or 32 bits, 32- or 64-bit
// float, A-law or µ-law, also in WAVE_FORMAT_EXTENSIBLE form, any number of
// channels.
func ReadWAV(path string) (*Audio, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read wav: %w", err)
	}
	a, err := ParseWAV(data)
	if err != nil {
		return nil, fmt.Errorf("read wav %s: %w", path, err)
	}
	return a, nil
}

// ParseWAV decodes the bytes of a WAV file (see [ReadWAV]). A data chunk
// whose size field is 0 or runs past the end, as left by a writer that was
// killed before it could finish the header, is read to the end of the file.
func ParseWAV(data []byte) (*Audio, error) {
	le := binary.LittleEndian
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, cc.Errorf(cc.EINVALID, "not a WAV file: it does not start with RIFF....WAVE")
	}
	var (
		haveFmt               bool
		tag, nch, align, bits uint16
		rate                  uint32
		pcm                   []byte
		haveData              bool
	)
	for off := 12; off+8 <= len(data) && !haveData; {
		id := string(data[off : off+4])
		size := int64(le.Uint32(data[off+4:]))
		body := off + 8
		switch id {
		case "fmt ":
			if size < 16 || int64(body)+size > int64(len(data)) {
				return nil, cc.Errorf(cc.EINVALID, "WAV fmt chunk is %d bytes: it needs at least 16 inside the file", size)
			}
			tag = le.Uint16(data[body:])
			nch = le.Uint16(data[body+2:])
			rate = le.Uint32(data[body+4:])
			align = le.Uint16(data[body+12:])
			bits = le.Uint16(data[body+14:])
			if tag == wavExtensible {
				if size < 40 {
					return nil, cc.Errorf(cc.EINVALID, "WAV extensible fmt chunk is %d bytes: it needs 40", size)
				}
				tag = le.Uint16(data[body+24:]) // first two bytes of the sub-format GUID
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, cc.Errorf(cc.EINVALID, "WAV data chunk comes before the fmt chunk")
			}
			end := int64(body) + size
			if size == 0 || end > int64(len(data)) {
				end = int64(len(data))
			}
			pcm = data[body:end]
			haveData = true
		}
		next := int64(body) + size + size%2
		if next > int64(len(data)) {
			break
		}
		off = int(next)
	}
	if !haveFmt {
		return nil, cc.Errorf(cc.EINVALID, "WAV file has no fmt chunk")
	}
	if !haveData {
		return nil, cc.Errorf(cc.EINVALID, "WAV file has no data chunk")
	}
	if nch < 1 || nch > 64 {
		return nil, cc.Errorf(cc.EINVALID, "WAV file has %d channels: 1 to 64 are supported", nch)
	}
	if rate < 1 || rate > 1_000_000 {
		return nil, cc.Errorf(cc.EINVALID, "WAV sample rate %d Hz is out of range", rate)
	}
	decode, width, err := sampleDecoder(tag, bits)
	if err != nil {
		return nil, err
	}
	if int(align) != width*int(nch) {
		return nil, cc.Errorf(cc.EINVALID, "WAV block align %d does not match %d channels of %d bits", align, nch, bits)
	}
	frames := len(pcm) / int(align)
	a := &Audio{Rate: int(rate), Channels: make([][]float64, nch)}
	for c := range a.Channels {
		a.Channels[c] = make([]float64, frames)
	}
	for i := range frames {
		for c := range int(nch) {
			p := i*int(align) + c*width
			a.Channels[c][i] = decode(pcm[p : p+width])
		}
	}
	return a, nil
}

// sampleDecoder returns a function decoding one sample of the format to
// [-1, 1], and the sample width in bytes.
func sampleDecoder(tag, bits uint16) (func([]byte) float64, int, error) {
	le := binary.LittleEndian
	switch {
	case tag == wavPCM && bits == 8:
		return func(b []byte) float64 { return (float64(b[0]) - 128) / 128 }, 1, nil
	case tag == wavPCM && bits == 16:
		return func(b []byte) float64 { return float64(int16(le.Uint16(b))) / 32768 }, 2, nil
	case tag == wavPCM && bits == 24:
		return func(b []byte) float64 {
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			return float64(v) / (1 << 23)
		}, 3, nil
	case tag == wavPCM && bits == 32:
		return func(b []byte) float64 { return float64(int32(le.Uint32(b))) / (1 << 31) }, 4, nil
	case tag == wavFloat && bits == 32:
		return func(b []byte) float64 { return float64(math.Float32frombits(le.Uint32(b))) }, 4, nil
	case tag == wavFloat && bits == 64:
		return func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) }, 8, nil
	case tag == wavULaw && bits == 8:
		return func(b []byte) float64 { return float64(g711.DecodeUlawFrame(b[0])) / 32768 }, 1, nil
	case tag == wavALaw && bits == 8:
		return func(b []byte) float64 { return float64(g711.DecodeAlawFrame(b[0])) / 32768 }, 1, nil
	}
	return nil, 0, cc.Errorf(cc.EINVALID, "WAV format tag %d with %d bits is not supported: use PCM (8/16/24/32 bits), float, A-law or µ-law", tag, bits)
}

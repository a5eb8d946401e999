package telephony

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/emiago/diago/audio"
)

//go:embed sounds/*.wav
var bundled embed.FS

// Sound names that are always present.
const (
	SoundAnnouncement = "announcement.wav"
	SoundHold         = "hold.wav"
	SoundClosed       = "closed.wav"
)

// Sounds are the WAV files the queue plays, kept in memory.
type Sounds struct {
	files map[string][]byte
}

// LoadSounds reads the bundled sounds and then every .wav in dir (which may
// be empty), so a file in dir with a bundled name replaces it. Every file
// must be 8 kHz mono 16-bit PCM: G.711 playback does not resample.
func LoadSounds(dir string) (*Sounds, error) {
	s := &Sounds{files: map[string][]byte{}}
	entries, err := bundled.ReadDir("sounds")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := bundled.ReadFile("sounds/" + e.Name())
		if err != nil {
			return nil, err
		}
		s.files[e.Name()] = b
	}
	if dir != "" {
		matches, err := filepath.Glob(filepath.Join(dir, "*.wav"))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				return nil, fmt.Errorf("read sound: %w", err)
			}
			s.files[filepath.Base(m)] = b
		}
	}
	for name, b := range s.files {
		if err := checkWAV(b); err != nil {
			return nil, fmt.Errorf("sound %s: %w (convert it with: sox in.wav -r 8000 -c 1 -b 16 %s)", name, err, name)
		}
	}
	return s, nil
}

func checkWAV(b []byte) error {
	r := audio.NewWavReader(bytes.NewReader(b))
	if err := r.ReadHeaders(); err != nil {
		return fmt.Errorf("not a WAV file: %w", err)
	}
	if r.SampleRate != 8000 || r.NumChannels != 1 || r.BitsPerSample != 16 {
		return fmt.Errorf("is %d Hz, %d channels, %d bits; need 8000 Hz mono 16-bit", r.SampleRate, r.NumChannels, r.BitsPerSample)
	}
	return nil
}

// Get returns a sound by file name, falling back to def when name is empty
// or unknown.
func (s *Sounds) Get(name, def string) []byte {
	if b, ok := s.files[name]; ok && name != "" {
		return b
	}
	return s.files[def]
}

// Has reports whether a sound exists.
func (s *Sounds) Has(name string) bool {
	_, ok := s.files[strings.TrimSpace(name)]
	return ok
}

package rtcclient

import (
	"math"
	"strings"
	"testing"

	"github.com/zaf/g711"
)

// TestOfferLikeChromium: the offer lists opus first and PCMU, PCMA and
// telephone-event/8000 on PT 126, with candidates.
func TestOfferLikeChromium(t *testing.T) {
	c, err := New(Options{ToneHz: 440})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sdp, err := c.Offer()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 110 126", "a=rtpmap:111 opus/48000/2", "a=rtpmap:0 PCMU/8000",
		"a=rtpmap:126 telephone-event/8000", "a=sendrecv", "a=candidate:"} {
		if !strings.Contains(sdp, want) {
			t.Errorf("the offer lacks %q:\n%s", want, sdp)
		}
	}
	if err := c.SendDTMF("1"); err == nil {
		t.Error("SendDTMF before the connection succeeded")
	}
	if err := c.SendDTMF("1x"); err == nil || !strings.Contains(err.Error(), "'x'") {
		t.Errorf("SendDTMF of x: %v, want an error naming it", err)
	}
}

// TestULawAudio: a PCMU-encoded tone decodes to its frequency and level.
func TestULawAudio(t *testing.T) {
	ulaw := make([]byte, 8000)
	for i := range ulaw {
		ulaw[i] = g711.EncodeUlawFrame(int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000)))
	}
	a := ULawAudio(ulaw)
	if f, err := a.DominantFrequency(0, 0, 0); err != nil || math.Abs(f-440) > 2 {
		t.Errorf("frequency %.1f (%v), want 440", f, err)
	}
	// amplitude 8000 of 32768: 20*log10(8000/32768/sqrt(2)) = -15.3 dB
	if db, err := a.LevelDB(0, 0, 0); err != nil || math.Abs(db+15.3) > 0.5 {
		t.Errorf("level %.1f dB (%v), want -15.3", db, err)
	}
}

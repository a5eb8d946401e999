package telephony

import (
	"strings"
	"testing"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
)

// remoteSDP is an audio offer from 127.0.0.1:6000 with the given m= formats
// and a= lines.
func remoteSDP(formats string, attrs ...string) []byte {
	lines := []string{
		"v=0",
		"o=user1 53655765 2353687637 IN IP4 127.0.0.1",
		"s=-",
		"c=IN IP4 127.0.0.1",
		"t=0 0",
		"m=audio 6000 RTP/AVP " + formats,
	}
	lines = append(lines, attrs...)
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

func TestNegotiatedDTMF(t *testing.T) {
	tests := []struct {
		name string
		sdp  []byte
		want bool
	}{
		// SIPp's and many gateways' offer: PCMU only, DTMF in band or by INFO.
		{"PCMU only", remoteSDP("0", "a=rtpmap:0 PCMU/8000", "a=ptime:20"), false},
		{"PCMA only", remoteSDP("8", "a=rtpmap:8 PCMA/8000"), false},
		{"PCMU and telephone-event", remoteSDP("0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"), true},
		{"telephone-event on another payload type", remoteSDP("8 96", "a=rtpmap:8 PCMA/8000", "a=rtpmap:96 telephone-event/8000"), true},
		// Only 8 kHz events go with G.711.
		{"telephone-event at 16 kHz", remoteSDP("0 97", "a=rtpmap:0 PCMU/8000", "a=rtpmap:97 telephone-event/16000"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := &media.MediaSession{Codecs: Codecs}
			if err := ms.RemoteSDP(tt.sdp, true); err != nil {
				t.Fatalf("RemoteSDP: %v", err)
			}
			var dm diago.DialogMedia
			dm.InitMediaSession(ms, nil, nil)
			if got := negotiatedDTMF(&dm); got != tt.want {
				t.Errorf("negotiatedDTMF = %v, want %v (common codecs %v)", got, tt.want, ms.CommonCodecs())
			}
		})
	}
	t.Run("no media session", func(t *testing.T) {
		if negotiatedDTMF(&diago.DialogMedia{}) {
			t.Error("negotiatedDTMF = true for a leg without media")
		}
	})
}

package softphone_test

import (
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/softphone"
)

// chromeOffer is the shape of Chromium 156's audio offer (trimmed).
const chromeOffer = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
	"a=msid-semantic: WMS\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n" +
	"a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\n" +
	"a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n" +
	"a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n" +
	"a=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n" +
	"a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n"

// FuzzValidateOffer: the offer check never panics, and what it accepts
// parses with one audio m-line offering PCMU; anything it refuses is
// invalid input.
func FuzzValidateOffer(f *testing.F) {
	f.Add(chromeOffer)
	f.Add(strings.Replace(chromeOffer, " 0 8 13", " 8 13", 1))
	f.Add(strings.Replace(chromeOffer, "m=audio", "m=video", 1))
	f.Add("v=0\r\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, offer string) {
		err := softphone.ValidateOffer(offer)
		if err != nil && cc.ErrorCode(err) != cc.EINVALID {
			t.Fatalf("%q: %v is not invalid input", offer, err)
		}
		if err == nil && (len(offer) > softphone.MaxOfferSize || !strings.Contains(offer, "m=audio")) {
			t.Fatalf("%q accepted", offer)
		}
	})
}

// TestChromeOffer: Chromium's offer is accepted.
func TestChromeOffer(t *testing.T) {
	if err := softphone.ValidateOffer(chromeOffer); err != nil {
		t.Fatal(err)
	}
}

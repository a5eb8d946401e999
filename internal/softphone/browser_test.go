package softphone_test

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-cc/parley/internal/softphone"
	"github.com/parley-cc/parley/internal/testkit/browser"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// chromiumPage offers the fake microphone (a 440 Hz WAV) to /offer, plays
// what comes back, and exposes the PeerConnection as window.pc.
const chromiumPage = `<!doctype html><meta charset="utf-8"><title>softphone</title><audio id="out" autoplay></audio>
<script>
(async () => {
  const mic = await navigator.mediaDevices.getUserMedia({audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
  const pc = new RTCPeerConnection();
  window.pc = pc;
  pc.ontrack = (e) => { document.getElementById('out').srcObject = e.streams[0] || new MediaStream([e.track]); };
  pc.addTrack(mic.getAudioTracks()[0], mic);
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === 'complete') return done();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && done());
    setTimeout(done, 3000);
  });
  const res = await fetch('/offer', {method: 'POST', body: pc.localDescription.sdp});
  const body = await res.text();
  if (!res.ok) throw new Error(body);
  window.answer = body;
  await pc.setRemoteDescription({type: 'answer', sdp: body});
})().catch((e) => { window.failure = String(e); console.error(e); });
window.level = async () => {
  let level = 0;
  (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') level = s.audioLevel || 0; });
  return level;
};
</script>`

// TestChromium: headless Chromium's real offer is answered with PCMU and
// telephone-event on its PT 126; its microphone's 440 Hz reaches
// Leg.Read, the hub's 1000 Hz plays in the page, insertDTMF's keys arrive
// once each, and closing the page's PeerConnection ends the leg.
func TestChromium(t *testing.T) {
	wav := filepath.Join(t.TempDir(), "mic.wav")
	if err := sippeer.WriteToneWAV(wav, 440, 30*time.Second, 0.5); err != nil {
		t.Fatal(err)
	}
	ctx := browser.New(t, browser.Options{FakeAudio: wav})
	h := newHub(t, softphone.Config{})
	k := softphone.Key{TenantID: "acme", UserID: "u1"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, chromiumPage)
		case "/offer":
			offer, _ := io.ReadAll(io.LimitReader(r.Body, softphone.MaxOfferSize+1))
			answer, err := h.Offer(r.Context(), k, "page", string(offer))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, answer)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	browser.Until(t, ctx, "the answer applied", `!!window.answer || !!window.failure`)
	if f := browser.Eval[string](t, ctx, `window.failure || ""`); f != "" {
		t.Fatalf("the page failed: %s", f)
	}
	answer := browser.Eval[string](t, ctx, `window.answer`)
	if !strings.Contains(answer, "a=rtpmap:0 PCMU/8000") || !strings.Contains(answer, "a=rtpmap:126 telephone-event/8000") || strings.Contains(answer, "opus") {
		t.Errorf("the answer to Chromium's offer:\n%s", answer)
	}
	l := wait(t, h, k)
	digits := make(chan rune, 16)
	l.OnDigit(func(d rune) { digits <- d })

	readULaw(t, l, 4000) // settle
	if f := frequency(t, readULaw(t, l, 8000)); math.Abs(f-440) > 10 {
		t.Errorf("Chromium's microphone at Leg.Read is %.0f Hz, want 440", f)
	}

	stop := make(chan struct{})
	defer close(stop)
	playTone(l, 1000, stop)
	if _, err := browser.WaitFor[bool](ctx, `window.level().then((v) => v > 0.05)`, within); err != nil {
		t.Errorf("the page hears nothing of the hub's tone: %v (level %v)", err, browser.Eval[float64](t, ctx, `window.level()`))
	}

	browser.Eval[bool](t, ctx, `(pc.getSenders()[0].dtmf.insertDTMF('12#', 100, 70), true)`)
	expectDigits(t, digits, "12#")

	browser.Eval[bool](t, ctx, `(pc.close(), true)`)
	select {
	case <-l.Done():
		t.Logf("the page closed its PeerConnection: %s", l.Reason())
	case <-time.After(within):
		t.Fatal("the leg outlived the page's PeerConnection")
	}
}

package softphone_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/softphone"
	"github.com/parley-cc/parley/internal/testkit/rtcclient"
)

// within is the generous bound of every "eventually" in these tests.
const within = 15 * time.Second

// newHub makes a hub closed at the end of the test.
func newHub(t testing.TB, cfg softphone.Config) *softphone.Hub {
	t.Helper()
	h, err := softphone.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// offer makes a client sending toneHz, offers it to the hub as k (owner)
// and returns the client and the hub's answer, not applied yet.
func offer(t testing.TB, h *softphone.Hub, k softphone.Key, owner string, toneHz float64) (*rtcclient.Client, string) {
	t.Helper()
	c, sdp := newClient(t, rtcclient.Options{ToneHz: toneHz})
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	answer, err := h.Offer(ctx, k, owner, sdp)
	if err != nil {
		t.Fatalf("offer: %v", err)
	}
	return c, answer
}

// newClient makes a client with opts, closed at the end of the
// test, and returns it with its offer.
func newClient(t testing.TB, opts rtcclient.Options) (*rtcclient.Client, string) {
	t.Helper()
	c, err := rtcclient.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	sdp, err := c.Offer()
	if err != nil {
		t.Fatal(err)
	}
	return c, sdp
}

// connect applies the answer and waits for the client's connection.
func connect(t testing.TB, c *rtcclient.Client, answer string) {
	t.Helper()
	if err := c.Answer(answer); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := c.Connected(ctx); err != nil {
		t.Fatal(err)
	}
}

// dial connects a client sending toneHz to the hub as k (owner) and
// returns it once the PeerConnection is connected.
func dial(t testing.TB, h *softphone.Hub, k softphone.Key, owner string, toneHz float64) *rtcclient.Client {
	t.Helper()
	c, answer := offer(t, h, k, owner, toneHz)
	connect(t, c, answer)
	return c
}

// wait returns k's live leg.
func wait(t testing.TB, h *softphone.Hub, k softphone.Key) *softphone.Leg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	l, err := h.Wait(ctx, k)
	if err != nil {
		t.Fatalf("wait for %v: %v", k, err)
	}
	return l
}

// readULaw reads n bytes (samples) of the browser's PCMU audio from the leg.
func readULaw(t *testing.T, l *softphone.Leg, n int) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 1500)
	for len(out) < n {
		m, err := l.Read(buf)
		if err != nil {
			t.Fatalf("read after %d samples: %v", len(out), err)
		}
		out = append(out, buf[:m]...)
	}
	return out
}

// frequency is the dominant frequency of PCMU audio.
func frequency(t *testing.T, ulaw []byte) float64 {
	t.Helper()
	f, err := rtcclient.ULawAudio(ulaw).DominantFrequency(0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// tone is 20 ms of a sine at hz, amplitude 8000, in PCMU, from sample at.
func tone(hz float64, at int) []byte {
	out := make([]byte, 160)
	for i := range out {
		out[i] = g711.EncodeUlawFrame(int16(8000 * math.Sin(2*math.Pi*hz*float64(at+i)/8000)))
	}
	return out
}

// expectDigits fails the test unless the next keys on digits are want.
func expectDigits(t *testing.T, digits <-chan rune, want string) {
	t.Helper()
	var got string
	for len(got) < len(want) {
		select {
		case d := <-digits:
			got += string(d)
		case <-time.After(within):
			t.Fatalf("digits %q, want %q", got, want)
		}
	}
	if got != want {
		t.Errorf("digits %q, want %q", got, want)
	}
}

// playTone writes hz to l every 20 ms until stop is closed or a write
// fails; the channel then gets nil or the error.
func playTone(l *softphone.Leg, hz float64, stop <-chan struct{}) <-chan error {
	wrote := make(chan error, 1)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				wrote <- nil
				return
			case <-tick.C:
			}
			if _, err := l.Write(tone(hz, i*160)); err != nil {
				wrote <- err
				return
			}
		}
	}()
	return wrote
}

// eventually fails the test unless ok becomes true within the bound.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAudioBothWaysAndDigits: a Chromium-like offer is answered with PCMU
// and telephone-event on the offer's PT 126; the leg goes live; the
// client's 440 Hz arrives at Leg.Read, the hub's 1000 Hz at the client,
// and DTMF (each event's first packet with duration 0) arrives once per
// key.
func TestAudioBothWaysAndDigits(t *testing.T) {
	h := newHub(t, softphone.Config{})
	var (
		mu      sync.Mutex
		changes []bool
	)
	h.OnChange(func(k softphone.Key, up bool) {
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, up)
	})
	k := softphone.Key{TenantID: "acme", UserID: "u1"}
	c, answer := offer(t, h, k, "socket-1", 440)
	// Only PCMU and telephone-event, on the offer's payload type.
	for _, want := range []string{"m=audio", "a=rtpmap:0 PCMU/8000", "a=rtpmap:126 telephone-event/8000", "a=candidate:"} {
		if !strings.Contains(answer, want) {
			t.Errorf("the answer lacks %q:\n%s", want, answer)
		}
	}
	for _, not := range []string{"opus", "PCMA", "a=rtpmap:110"} {
		if strings.Contains(answer, not) {
			t.Errorf("the answer offers %s:\n%s", not, answer)
		}
	}
	connect(t, c, answer)
	l := wait(t, h, k)
	if !h.AudioConnected("acme", "u1") || h.AudioConnected("acme", "u2") {
		t.Error("AudioConnected does not tell u1's live leg from u2's none")
	}
	digits := make(chan rune, 16)
	l.OnDigit(func(d rune) { digits <- d })

	// The browser's tone at Leg.Read.
	readULaw(t, l, 800) // settle
	in := readULaw(t, l, 8000)
	if f := frequency(t, in); math.Abs(f-440) > 5 {
		t.Errorf("the browser's audio at Leg.Read is %.0f Hz, want 440", f)
	}
	if db, err := rtcclient.ULawAudio(in).LevelDB(0, 0, 0); err != nil || db < -18 {
		t.Errorf("the browser's audio at Leg.Read is %.1f dB (%v), want about -15 (amplitude 8000)", db, err)
	}

	// The hub's tone at the client.
	stopWrite := make(chan struct{})
	wrote := playTone(l, 1000, stopWrite)
	eventually(t, "the client hears 1000 Hz", func() bool {
		a := c.Received().Audio
		return len(a) >= 4000 && math.Abs(frequency(t, a[len(a)-4000:])-1000) < 5
	})
	close(stopWrite)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}

	// DTMF: each key once.
	if err := c.SendDTMF("12#*"); err != nil {
		t.Fatal(err)
	}
	expectDigits(t, digits, "12#*")
	select {
	case d := <-digits:
		t.Errorf("extra digit %q (an end packet counted twice?)", d)
	case <-time.After(300 * time.Millisecond):
	}
	st := l.Stats()
	if st.PacketsIn == 0 || st.PacketsOut == 0 || st.OctetsOut != 160*st.PacketsOut || st.LastIn.IsZero() {
		t.Errorf("stats %+v", st)
	}
	if st.Lost != 0 {
		t.Logf("lost %d packets on loopback", st.Lost)
	}
	mu.Lock()
	if len(changes) != 1 || !changes[0] {
		t.Errorf("OnChange calls %v, want [true]", changes)
	}
	mu.Unlock()
}

// TestReplaceReleaseGrace: a second offer for the key replaces the first
// leg; a Release by another owner does nothing, by the owner it ends the
// leg; OnChange(false) follows the grace; Close ends everything.
func TestReplaceReleaseGrace(t *testing.T) {
	h := newHub(t, softphone.Config{Grace: 300 * time.Millisecond})
	changes := make(chan bool, 16)
	h.OnChange(func(k softphone.Key, up bool) { changes <- up })
	k := softphone.Key{TenantID: "acme", UserID: "u1"}

	dial(t, h, k, "socket-1", 440)
	first := wait(t, h, k)
	if up := <-changes; !up {
		t.Fatal("first change is not up")
	}
	dial(t, h, k, "socket-2", 440)
	select {
	case <-first.Done():
	case <-time.After(within):
		t.Fatal("the first leg outlived its replacement")
	}
	if r := first.Reason(); !strings.Contains(r, "replaced") {
		t.Errorf("first leg's reason %q, want replaced", r)
	}
	if _, err := first.Read(make([]byte, 160)); !errors.Is(err, io.EOF) {
		t.Errorf("read of a replaced leg: %v, want EOF", err)
	}
	if _, err := first.Write(make([]byte, 160)); !errors.Is(err, softphone.ErrLegEnded) {
		t.Errorf("write to a replaced leg: %v, want ErrLegEnded", err)
	}
	second := wait(t, h, k)
	if second == first || h.Legs() != 1 {
		t.Fatalf("legs %d after a replacement, want the second leg alone", h.Legs())
	}
	if up := <-changes; !up {
		t.Fatal("the second leg's change is not up")
	}

	// socket-1's late release must not end socket-2's leg.
	h.Release(k, "socket-1", "socket closed")
	select {
	case <-second.Done():
		t.Fatalf("another owner's release ended the leg: %s", second.Reason())
	case <-time.After(200 * time.Millisecond):
	}
	h.Release(k, "socket-2", "socket closed")
	select {
	case <-second.Done():
	case <-time.After(within):
		t.Fatal("the owner's release did not end the leg")
	}
	if second.Reason() != "socket closed" || h.Legs() != 0 || h.AudioConnected("acme", "u1") {
		t.Errorf("after release: reason %q, legs %d", second.Reason(), h.Legs())
	}
	select {
	case up := <-changes:
		if up {
			t.Fatal("change after the release is up")
		}
	case <-time.After(within):
		t.Fatal("no OnChange(false) after the grace")
	}

	// Close ends a live leg and refuses offers.
	dial(t, h, softphone.Key{TenantID: "acme", UserID: "u2"}, "socket-3", 440)
	third := wait(t, h, softphone.Key{TenantID: "acme", UserID: "u2"})
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-third.Done():
	default:
		t.Fatal("Close left a leg")
	}
	if _, err := h.Offer(context.Background(), k, "socket-4", "v=0\r\n"); err == nil {
		t.Error("a closed hub took an offer")
	}
}

// TestReconnectWithinGrace: a reload (the leg ends, a new one is live
// within the grace) reports no loss.
func TestReconnectWithinGrace(t *testing.T) {
	h := newHub(t, softphone.Config{Grace: 5 * time.Second})
	changes := make(chan bool, 16)
	h.OnChange(func(k softphone.Key, up bool) { changes <- up })
	k := softphone.Key{TenantID: "acme", UserID: "u1"}
	c := dial(t, h, k, "socket-1", 440)
	l := wait(t, h, k)
	<-changes
	_ = c.Close() // the tab reloads: its PeerConnection closes
	h.Release(k, "socket-1", "socket closed")
	<-l.Done()
	dial(t, h, k, "socket-2", 440)
	wait(t, h, k)
	if up := <-changes; !up {
		t.Fatal("a reload within the grace reported the audio lost")
	}
}

// TestOfferValidation: bad offers get EINVALID saying what is wrong.
func TestOfferValidation(t *testing.T) {
	h := newHub(t, softphone.Config{})
	const head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	for _, tc := range []struct {
		name, sdp, want string
	}{
		{"empty", "", "the offer is empty"},
		{"too big", head + strings.Repeat("a=x:"+strings.Repeat("y", 1000)+"\r\n", 70), "more than the 65536"},
		{"not SDP", "hello, world", "the offer is not SDP"},
		{"no audio", head + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n", "the offer has no audio m-line"},
		{"no PCMU", head + "m=audio 9 UDP/TLS/RTP/SAVPF 111 8\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:8 PCMA/8000\r\n", "the offer does not include PCMU (G.711 u-law): Parley does not transcode"},
		{"PT 0 mapped to something else", head + "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 opus/48000/2\r\n", "does not include PCMU"},
		{"two audio", head + "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n", "2 audio m-lines"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Offer(context.Background(), softphone.Key{TenantID: "acme", UserID: "u1"}, "s", tc.sdp)
			if cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(cc.ErrorMessage(err), tc.want) {
				t.Errorf("error %v (%s), want invalid with %q", err, cc.ErrorCode(err), tc.want)
			}
		})
	}
	if h.Legs() != 0 {
		t.Errorf("rejected offers left %d legs", h.Legs())
	}
}

// TestNoGoroutineLeak: legs and the hub leave no goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		h, err := softphone.New(softphone.Config{Grace: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		for i, u := range []string{"u1", "u2", "u1"} {
			k := softphone.Key{TenantID: "acme", UserID: u}
			c := dial(t, h, k, "s"+string(rune('0'+i)), 440)
			wait(t, h, k)
			defer c.Close()
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.Now().Add(within)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConfig: bad settings are refused with what to fix.
func TestConfig(t *testing.T) {
	for _, cfg := range []softphone.Config{
		{PortMin: 10000},
		{PortMin: 20000, PortMax: 10000},
		{Grace: -time.Second},
		{ICEServers: []softphone.ICEServer{{}}},
		{ICEServers: []softphone.ICEServer{{URLs: []string{"http://turn.example"}}}},
		{ICEServers: []softphone.ICEServer{{URLs: []string{"turn:127.0.0.1:3478"}}}},
		{PublicIPs: []string{"parley.example"}},
	} {
		if _, err := softphone.New(cfg); cc.ErrorCode(err) != cc.EINVALID {
			t.Errorf("New(%+v): %v, want invalid", cfg, err)
		}
	}
	h := newHub(t, softphone.Config{ICEServers: []softphone.ICEServer{{URLs: []string{"stun:127.0.0.1:3478"}},
		{URLs: []string{"turn:127.0.0.1:3478?transport=udp"}, Username: "u", Credential: "p"}}, PortMin: 40000, PortMax: 40100})
	if s := h.ICEServers(); len(s) != 2 || s[0].URLs[0] != "stun:127.0.0.1:3478" || s[1].Credential != "p" {
		t.Errorf("ICEServers %+v", s)
	}
}

// TestPublicIPs: the answer's IPv4 host candidates carry the public
// address, on ports of the range.
func TestPublicIPs(t *testing.T) {
	h := newHub(t, softphone.Config{PublicIPs: []string{"203.0.113.7"}, PortMin: 41000, PortMax: 41100})
	_, answer := offer(t, h, softphone.Key{TenantID: "acme", UserID: "u1"}, "s", 0)
	var hosts int
	for _, line := range strings.Split(answer, "\r\n") {
		f := strings.Fields(line)
		if strings.HasPrefix(line, "a=candidate:") && strings.Contains(line, " typ host") && !strings.Contains(f[4], ":") {
			hosts++ // IPv4 (an IPv4 public address does not replace IPv6 ones)
			if f[4] != "203.0.113.7" {
				t.Errorf("host candidate %q does not carry the public IP", line)
			}
			if port, _ := strconv.Atoi(f[5]); port < 41000 || port > 41100 {
				t.Errorf("host candidate %q is outside the port range", line)
			}
		}
	}
	if hosts == 0 {
		t.Errorf("no host candidate:\n%s", answer)
	}
}

// TestBrowserCloses: a reloaded tab closes its PeerConnection; the leg
// ends without a release (the signalling socket may outlive it).
func TestBrowserCloses(t *testing.T) {
	h := newHub(t, softphone.Config{})
	k := softphone.Key{TenantID: "acme", UserID: "u1"}
	c := dial(t, h, k, "socket-1", 440)
	l := wait(t, h, k)
	start := time.Now()
	_ = c.Close()
	select {
	case <-l.Done():
	case <-time.After(within):
		t.Fatal("the leg outlived the browser's PeerConnection")
	}
	t.Logf("ended after %s: %s", time.Since(start).Round(time.Millisecond), l.Reason())
	if h.Legs() != 0 {
		t.Errorf("legs %d after the browser closed", h.Legs())
	}
}

// TestCloseDuringOffers: offers racing Close either fail or end with the
// hub; nothing is left.
func TestCloseDuringOffers(t *testing.T) {
	h, err := softphone.New(softphone.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var offers []string
	for range 4 {
		_, sdp := newClient(t, rtcclient.Options{})
		offers = append(offers, sdp)
	}
	var wg sync.WaitGroup
	for i, sdp := range offers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = h.Offer(context.Background(), softphone.Key{TenantID: "acme", UserID: strconv.Itoa(i)}, "s", sdp)
		}()
	}
	time.Sleep(time.Duration(len(offers)) * time.Millisecond)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := h.Legs(); n != 0 {
		t.Errorf("%d legs after Close", n)
	}
}

// TestPayloadsPassUnchanged: PCMU is not transcoded: the client's payloads
// arrive at Leg.Read byte for byte, in order.
func TestPayloadsPassUnchanged(t *testing.T) {
	h := newHub(t, softphone.Config{})
	k := softphone.Key{TenantID: "acme", UserID: "u1"}
	var src bytes.Buffer
	for i := range 500 { // 10 s: frame i is 160 bytes of i%200 (0xFF is silence)
		src.Write(bytes.Repeat([]byte{byte(i % 200)}, 160))
	}
	c, sdp := newClient(t, rtcclient.Options{Source: &src})
	answer, err := h.Offer(context.Background(), k, "s", sdp)
	if err != nil {
		t.Fatal(err)
	}
	connect(t, c, answer)
	l := wait(t, h, k)
	buf := make([]byte, 1500)
	prev := -1
	for range 50 {
		n, err := l.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n != 160 || !bytes.Equal(buf[:n], bytes.Repeat(buf[:1], 160)) {
			t.Fatalf("payload of %d bytes is not one of the client's frames: % x", n, buf[:min(n, 16)])
		}
		// forward by 1 (or a few, when the three-packet buffer dropped some)
		if v, d := int(buf[0]), (int(buf[0])-prev+200)%200; prev >= 0 && (d == 0 || d > 50) {
			t.Errorf("frame %d after %d: out of order", v, prev)
		}
		prev = int(buf[0])
	}
}

// TestClientOnAudio: the client hands every PCMU payload the leg writes to
// Options.OnAudio as it arrives (the load tool times the audio with it).
func TestClientOnAudio(t *testing.T) {
	h := newHub(t, softphone.Config{})
	k := softphone.Key{TenantID: "acme", UserID: "u1"}
	got := make(chan []byte, 100)
	c, sdp := newClient(t, rtcclient.Options{OnAudio: func(p []byte) {
		select {
		case got <- bytes.Clone(p):
		default:
		}
	}})
	answer, err := h.Offer(context.Background(), k, "s", sdp)
	if err != nil {
		t.Fatal(err)
	}
	connect(t, c, answer)
	l := wait(t, h, k)
	stop := make(chan struct{})
	defer close(stop)
	playTone(l, 1000, stop)
	var audio []byte
	for len(audio) < 8000 {
		select {
		case p := <-got:
			audio = append(audio, p...)
		case <-time.After(within):
			t.Fatalf("OnAudio had %d samples after %s", len(audio), within)
		}
	}
	if f := frequency(t, audio); math.Abs(f-1000) > 5 {
		t.Errorf("OnAudio's audio is %.0f Hz, want the leg's 1000 Hz", f)
	}
}

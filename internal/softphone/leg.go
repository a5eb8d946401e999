package softphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/rfc4733"
)

// readBuffer is how many PCMU packets Read keeps (60 ms at 20 ms each).
const readBuffer = 3

// maxPayload is the largest payload Read buffers; longer ones are dropped
// (PCMU at 8000 Hz: 1500 bytes is 187 ms).
const maxPayload = 1500

// ErrLegEnded is returned by Write on a leg that has ended.
var ErrLegEnded = errors.New("the browser audio leg has ended")

// Leg is one browser PeerConnection's audio.
type Leg struct {
	h     *Hub
	key   Key
	owner string
	pc    *webrtc.PeerConnection
	out   *webrtc.TrackLocalStaticSample
	// ended is told the reason when the leg ends (OfferNotify); may be nil.
	ended func(reason string)

	endOnce sync.Once
	done    chan struct{}
	avail   chan struct{} // a packet was buffered (capacity 1)

	mu        sync.Mutex
	reason    string
	live      bool // guarded by h.mu, not mu
	connected bool
	track     bool
	dropTimer *time.Timer // ICE disconnected: ends the leg unless it recovers
	onDigit   func(rune)
	ring      [readBuffer][maxPayload]byte
	ringLen   [readBuffer]int
	head, n   int // the oldest buffered packet, the number buffered

	packetsIn, octetsIn, lost atomic.Uint64
	packetsOut, octetsOut     atomic.Uint64
	lastIn                    atomic.Int64 // unix nanoseconds
}

// LegStats counts a leg's RTP.
type LegStats struct {
	PacketsIn  uint64    // RTP packets from the browser (audio and events)
	OctetsIn   uint64    // their payload bytes
	Lost       uint64    // packets missing from the browser's sequence numbers
	PacketsOut uint64    // PCMU payloads written to the browser
	OctetsOut  uint64    // their bytes
	LastIn     time.Time // when the last packet arrived; zero before the first
}

// newLeg makes k's leg on pc and wires pc's callbacks to it.
func newLeg(h *Hub, k Key, owner string, pc *webrtc.PeerConnection) *Leg {
	l := &Leg{h: h, key: k, owner: owner, pc: pc, done: make(chan struct{}), avail: make(chan struct{}, 1)}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			l.mu.Lock()
			l.connected = true
			l.mu.Unlock()
			l.maybeLive()
		case webrtc.PeerConnectionStateFailed:
			go l.end("the browser's connection failed")
		case webrtc.PeerConnectionStateClosed:
			go l.end("the browser closed the connection")
		}
	})
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		l.mu.Lock()
		defer l.mu.Unlock()
		switch s {
		case webrtc.ICEConnectionStateDisconnected:
			if l.dropTimer == nil {
				l.dropTimer = time.AfterFunc(disconnectedTimeout, func() {
					l.end("the browser's network connection was lost")
				})
			}
		case webrtc.ICEConnectionStateConnected, webrtc.ICEConnectionStateCompleted:
			if l.dropTimer != nil {
				l.dropTimer.Stop()
				l.dropTimer = nil
			}
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		if t.Kind() != webrtc.RTPCodecTypeAudio {
			return
		}
		l.mu.Lock()
		first := !l.track
		l.track = true
		l.mu.Unlock()
		if !first {
			return // one audio m-line: a second track is not expected
		}
		pt, dtmf := eventPayloadType(r.GetParameters().Codecs)
		l.h.spawn(func() { l.readLoop(t, pt, dtmf) })
		l.h.spawn(func() { drainRTCP(r.Read) })
		l.maybeLive()
	})
	return l
}

// eventPayloadType returns the negotiated payload type of
// telephone-event/8000 (Chrome offers it on 126).
func eventPayloadType(codecs []webrtc.RTPCodecParameters) (uint8, bool) {
	for _, c := range codecs {
		if strings.EqualFold(c.MimeType, mimeTelephoneEvent) && c.ClockRate == 8000 {
			return uint8(c.PayloadType), true
		}
	}
	return 0, false
}

// answer applies the offer, adds the audio to the browser, and returns the
// answer once ICE gathering completes (or after gatherTimeout, with the
// candidates gathered so far).
func (l *Leg) answer(ctx context.Context, offer string) (string, error) {
	pc := l.pc
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", cc.Errorf(cc.EINVALID, "the offer cannot be applied: %v", err)
	}
	out, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, "audio", "parley")
	if err != nil {
		return "", fmt.Errorf("softphone answer: new track: %w", err)
	}
	sender, err := pc.AddTrack(out)
	if err != nil {
		return "", fmt.Errorf("softphone answer: add track: %w", err)
	}
	l.mu.Lock()
	l.out = out
	l.mu.Unlock()
	l.h.spawn(func() { drainRTCP(sender.Read) })
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", cc.Errorf(cc.EINVALID, "no answer to the offer: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("softphone answer: set local description: %w", err)
	}
	timer := time.NewTimer(gatherTimeout)
	defer timer.Stop()
	select {
	case <-gathered:
	case <-timer.C:
		l.h.log.Warn("ICE gathering incomplete: answering with the candidates gathered so far", "key", l.key.String(), "after", gatherTimeout)
	case <-ctx.Done():
		return "", fmt.Errorf("softphone answer: %w", ctx.Err())
	case <-l.done:
		return "", cc.Errorf(cc.ECONFLICT, "the audio leg ended before it was answered: %s", l.Reason())
	}
	desc := pc.LocalDescription()
	if desc == nil || !strings.Contains(desc.SDP, "a=candidate:") {
		return "", cc.Errorf(cc.EUNAVAILABLE, "the server found no ICE candidate within %s: check its network interfaces and the WebRTC port range", gatherTimeout)
	}
	return desc.SDP, nil
}

// drainRTCP reads the browser's RTCP for a sender or receiver until the
// leg closes: the interceptors see it as it is read (round trip times,
// sender reports for the receiver reports), and unread RTCP would pile up
// in pion's buffers for as long as the leg lives.
func drainRTCP(read func([]byte) (int, interceptor.Attributes, error)) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := read(buf); err != nil {
			return
		}
	}
}

// maybeLive reports the leg live once it is connected and has the
// browser's audio.
func (l *Leg) maybeLive() {
	l.mu.Lock()
	ok := l.connected && l.track
	l.mu.Unlock()
	if ok {
		select {
		case <-l.done:
		default:
			l.h.legLive(l)
		}
	}
}

// readLoop reads the browser's RTP until the leg ends: PCMU into the read
// buffer, telephone-event (on payload type pt, when dtmf) to OnDigit.
func (l *Leg) readLoop(t *webrtc.TrackRemote, pt uint8, dtmf bool) {
	var (
		buf    = make([]byte, maxPayload+100)
		pkt    rtp.Packet
		events rfc4733.Reader
		gaps   Gaps
		errs   int
	)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			if errors.Is(err, io.EOF) || errs > 50 {
				l.end("the browser closed the connection")
				return
			}
			errs++ // a packet of a payload type not negotiated, for one
			continue
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		errs = 0
		l.packetsIn.Add(1)
		l.octetsIn.Add(uint64(len(pkt.Payload)))
		l.lastIn.Store(time.Now().UnixNano())
		gaps.Packet(pkt.SequenceNumber)
		l.lost.Store(gaps.Lost())
		switch {
		case pkt.PayloadType == 0:
			l.buffer(pkt.Payload)
		case dtmf && pkt.PayloadType == pt:
			if d, ok := events.Packet(pkt.Timestamp, pkt.Marker, pkt.Payload); ok {
				l.mu.Lock()
				f := l.onDigit
				l.mu.Unlock()
				if f != nil {
					f(d)
				}
			}
		}
	}
}

// buffer keeps one PCMU payload for Read, dropping the oldest when full.
func (l *Leg) buffer(p []byte) {
	if len(p) == 0 || len(p) > maxPayload {
		return
	}
	l.mu.Lock()
	if l.n == readBuffer {
		l.head = (l.head + 1) % readBuffer
		l.n--
	}
	i := (l.head + l.n) % readBuffer
	l.ringLen[i] = copy(l.ring[i][:], p)
	l.n++
	l.mu.Unlock()
	select {
	case l.avail <- struct{}{}:
	default:
	}
}

// Read returns the next PCMU audio payload from the browser, waiting for
// one; io.EOF once the leg has ended. It buffers at most three packets
// (the oldest is dropped), so a reader that attaches late hears no stale
// audio. b shorter than the payload gets io.ErrShortBuffer and the
// payload is dropped.
func (l *Leg) Read(b []byte) (int, error) {
	for {
		select {
		case <-l.done:
			return 0, io.EOF
		default:
		}
		l.mu.Lock()
		if l.n > 0 {
			i := l.head
			l.head = (l.head + 1) % readBuffer
			l.n--
			size := l.ringLen[i]
			n := copy(b, l.ring[i][:size])
			l.mu.Unlock()
			if n < size {
				return n, io.ErrShortBuffer
			}
			return n, nil
		}
		l.mu.Unlock()
		select {
		case <-l.done:
			return 0, io.EOF
		case <-l.avail:
		}
	}
}

// Write sends one PCMU payload to the browser; its duration is len(b)/8
// milliseconds. After the leg has ended it returns an error wrapping
// ErrLegEnded. Before the leg is connected the payload is dropped.
func (l *Leg) Write(b []byte) (int, error) {
	select {
	case <-l.done:
		return 0, fmt.Errorf("write to %s's browser: %w (%s)", l.key, ErrLegEnded, l.Reason())
	default:
	}
	l.mu.Lock()
	out := l.out
	l.mu.Unlock()
	if out == nil {
		return 0, fmt.Errorf("write to %s's browser: the leg is not answered yet", l.key)
	}
	if err := out.WriteSample(media.Sample{Data: b, Duration: time.Duration(len(b)) * time.Millisecond / 8}); err != nil {
		return 0, fmt.Errorf("write to %s's browser: %w", l.key, err)
	}
	l.packetsOut.Add(1)
	l.octetsOut.Add(uint64(len(b)))
	return len(b), nil
}

// OnDigit sets the function called with each RFC 4733 key the browser
// sends (once per key press, at its end). It is called from the leg's
// reading goroutine: it should not block.
func (l *Leg) OnDigit(f func(rune)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onDigit = f
}

// Key returns the agent the leg belongs to.
func (l *Leg) Key() Key { return l.key }

// Done is closed when the leg ends.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Reason says why the leg ended; "" while it lives.
func (l *Leg) Reason() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reason
}

// Stats returns the leg's RTP counters.
func (l *Leg) Stats() LegStats {
	s := LegStats{
		PacketsIn: l.packetsIn.Load(), OctetsIn: l.octetsIn.Load(), Lost: l.lost.Load(),
		PacketsOut: l.packetsOut.Load(), OctetsOut: l.octetsOut.Load(),
	}
	if ns := l.lastIn.Load(); ns != 0 {
		s.LastIn = time.Unix(0, ns)
	}
	return s
}

// end ends the leg once: it records the reason, wakes readers, leaves the
// hub and closes the PeerConnection. It does not wait for the close.
func (l *Leg) end(reason string) {
	l.endOnce.Do(func() {
		l.mu.Lock()
		l.reason = reason
		if l.dropTimer != nil {
			l.dropTimer.Stop()
			l.dropTimer = nil
		}
		l.mu.Unlock()
		close(l.done)
		l.h.legEnded(l)
		l.h.log.Info("browser audio ended", "key", l.key.String(), "owner", l.owner, "reason", reason)
		if l.ended != nil {
			go l.ended(reason)
		}
		closePC := func() {
			if err := l.pc.Close(); err != nil {
				l.h.log.Debug("close the browser's peer connection", "key", l.key.String(), "error", err)
			}
		}
		if !l.h.spawn(closePC) {
			closePC() // an offer that raced Close: it is ending here, not in a pion callback
		}
	})
}

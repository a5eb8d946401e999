// Package rtcclient is a Go WebRTC peer (pion) that offers audio the way
// Chromium does, for the softphone's tests and the load tool: its offer
// lists opus/111 first, then PCMU/0, PCMA/8 and telephone-event/8000 on
// PT 126 (so the server must pick PCMU). Once connected it sends a sine
// tone (or Options.Source's bytes) as 20 ms PCMU packets, sends DTMF as
// RFC 4733 events on PT 126 (three end packets, the first packet with
// duration 0 as some gateways do), and records what it receives: packet
// counts, sequence gaps and the audio, which ULawAudio hands to sippeer's
// analysis.
package rtcclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/transport/v4"
	"github.com/pion/webrtc/v4"
	"github.com/zaf/g711"

	"github.com/parley-cc/parley/internal/rfc4733"
	"github.com/parley-cc/parley/internal/softphone"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// DTMFPayloadType is the payload type Chromium offers telephone-event/8000 on.
const DTMFPayloadType = 126

// keepAudio is how much received audio Received returns (the newest).
const keepAudio = 10 * 8000

// Options configures a Client.
type Options struct {
	ICEServers []webrtc.ICEServer // STUN/TURN for the client's side; none = host candidates
	ToneHz     float64            // the sine sent once connected (amplitude 8000); 0 sends silence
	Source     io.Reader          // PCMU bytes to send instead, 160 a packet; silence once it ends
	Log        *slog.Logger
	Net        transport.Net // a virtual network (pion's vnet) for tests; nil is the host's
	// OnAudio, when set, is called with every received PCMU payload as it
	// arrives (on the receiving goroutine; the bytes are valid only during
	// the call), for a caller that times the audio, such as the load tool.
	OnAudio func(payload []byte)
}

// Stats is what a Client received.
type Stats struct {
	Packets uint64 // RTP packets received (audio and events)
	Lost    uint64 // gaps in their sequence numbers
	Audio   []byte // the newest received PCMU audio, up to 10 s (ULawAudio decodes it)
	Sent    uint64 // RTP packets sent (audio and events)
}

// Client is one offering peer.
type Client struct {
	opts  Options
	pc    *webrtc.PeerConnection
	track *rawTrack
	log   *slog.Logger

	connected chan struct{} // the PeerConnection connected
	failed    chan struct{} // it failed or closed
	stop      chan struct{} // Close was called
	wg        sync.WaitGroup
	dtmf      chan dtmfRequest
	connOnce  sync.Once
	failOnce  sync.Once
	closeOnce sync.Once

	mu      sync.Mutex
	packets uint64
	lost    uint64
	sent    uint64
	audio   []byte
}

// dtmfRequest asks the sender to key in digits.
type dtmfRequest struct {
	digits string
	done   chan struct{}
}

// New makes a client with a PeerConnection whose media engine lists the
// codecs in Chromium's order.
func New(opts Options) (*Client, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	me := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: 0},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000, Channels: 1}, PayloadType: 8},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 48000, Channels: 1}, PayloadType: 110},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, Channels: 1}, PayloadType: DTMFPayloadType},
	} {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("rtcclient: register %s: %w", c.MimeType, err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("rtcclient: RTCP reports: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	if opts.Net != nil {
		se.SetNet(opts.Net)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled) // no multicast on a virtual network
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: opts.ICEServers})
	if err != nil {
		return nil, fmt.Errorf("rtcclient: new peer connection: %w", err)
	}
	c := &Client{
		opts: opts, pc: pc, log: opts.Log, track: &rawTrack{bound: make(chan struct{})},
		connected: make(chan struct{}), failed: make(chan struct{}), stop: make(chan struct{}),
		dtmf: make(chan dtmfRequest),
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			c.connOnce.Do(func() { close(c.connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			c.failOnce.Do(func() { close(c.failed) })
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		c.wg.Add(2)
		go c.receive(t)
		go c.drainRTCP(r.Read)
	})
	sender, err := pc.AddTrack(c.track)
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("rtcclient: add track: %w", err)
	}
	c.wg.Add(1)
	go c.drainRTCP(sender.Read)
	c.wg.Add(1)
	go c.send()
	return c, nil
}

// Offer creates the offer, waits for ICE gathering (up to 5 s) and returns
// the SDP with its candidates.
func (c *Client) Offer() (string, error) {
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("rtcclient: create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(offer); err != nil {
		return "", fmt.Errorf("rtcclient: set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		return "", errors.New("rtcclient: ICE gathering did not complete within 5 s")
	}
	return c.pc.LocalDescription().SDP, nil
}

// Answer applies the server's answer.
func (c *Client) Answer(sdp string) error {
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("rtcclient: set remote description: %w", err)
	}
	return nil
}

// Connected waits until the PeerConnection is connected (the tone starts
// then), fails, or ctx ends.
func (c *Client) Connected(ctx context.Context) error {
	select {
	case <-c.connected:
		return nil
	case <-c.failed:
		return errors.New("rtcclient: the peer connection failed or closed")
	case <-ctx.Done():
		return fmt.Errorf("rtcclient: wait for the connection: %w", ctx.Err())
	}
}

// Failed is closed when the PeerConnection fails or closes.
func (c *Client) Failed() <-chan struct{} { return c.failed }

// SendDTMF keys in digits ('0'-'9', '*', '#', 'A'-'D') as RFC 4733 events
// on PT 126, 100 ms each with 60 ms of audio between, and returns once
// they are sent. The first packet of each event has duration 0 and the end
// is sent three times.
func (c *Client) SendDTMF(digits string) error {
	for _, d := range digits {
		if _, ok := rfc4733.Code(d); !ok {
			return fmt.Errorf("rtcclient: %q is not a DTMF key", d)
		}
	}
	select {
	case <-c.connected:
	default:
		return errors.New("rtcclient: not connected")
	}
	r := dtmfRequest{digits: digits, done: make(chan struct{})}
	select {
	case c.dtmf <- r:
	case <-c.stop:
		return errors.New("rtcclient: closed")
	}
	select {
	case <-r.done:
		return nil
	case <-c.stop:
		return errors.New("rtcclient: closed")
	}
}

// Received returns what the client received so far.
func (c *Client) Received() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Packets: c.packets, Lost: c.lost, Sent: c.sent, Audio: append([]byte(nil), c.audio...)}
}

// Close closes the PeerConnection and waits for the client's goroutines.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.stop)
		err = c.pc.Close()
		c.wg.Wait()
	})
	return err
}

// receive reads the server's RTP: counts it and keeps the PCMU audio.
func (c *Client) receive(t *webrtc.TrackRemote) {
	defer c.wg.Done()
	buf := make([]byte, 1600)
	var (
		pkt  rtp.Packet
		gaps softphone.Gaps
		errs int
	)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			select {
			case <-c.stop:
				return
			case <-c.failed:
				return
			default:
			}
			if errors.Is(err, io.EOF) || errs > 50 {
				return
			}
			errs++
			continue
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		errs = 0
		gaps.Packet(pkt.SequenceNumber)
		c.mu.Lock()
		c.packets++
		c.lost = gaps.Lost()
		if pkt.PayloadType == 0 {
			c.audio = append(c.audio, pkt.Payload...)
			if over := len(c.audio) - keepAudio; over > 0 {
				c.audio = append(c.audio[:0], c.audio[over:]...)
			}
		}
		c.mu.Unlock()
		if pkt.PayloadType == 0 && c.opts.OnAudio != nil {
			c.opts.OnAudio(pkt.Payload)
		}
	}
}

// drainRTCP reads RTCP until the connection closes, so that the
// interceptors see it and pion's buffers do not fill.
func (c *Client) drainRTCP(read func([]byte) (int, interceptor.Attributes, error)) {
	defer c.wg.Done()
	buf := make([]byte, 1500)
	for {
		if _, _, err := read(buf); err != nil {
			return
		}
	}
}

// send paces 20 ms packets once connected: the tone, or DTMF events when
// asked.
func (c *Client) send() {
	defer c.wg.Done()
	select {
	case <-c.connected:
	case <-c.failed:
		return
	case <-c.stop:
		return
	}
	select {
	case <-c.track.bound:
	case <-c.stop:
		return
	}
	var (
		seq   uint16
		ts    uint32
		phase float64
		frame = make([]byte, 160)
		step  = 2 * math.Pi * c.opts.ToneHz / 8000
	)
	write := func(pt uint8, marker bool, timestamp uint32, payload []byte) {
		h := rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: timestamp, Marker: marker, SSRC: c.track.ssrc}
		seq++
		if _, err := c.track.writer.WriteRTP(&h, payload); err != nil {
			c.log.Debug("rtcclient: write", "error", err)
			return
		}
		c.mu.Lock()
		c.sent++
		c.mu.Unlock()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	wait := func() bool {
		select {
		case <-tick.C:
			return true
		case <-c.stop:
			return false
		}
	}
	srcEnded := false
	audio := func() {
		if src := c.opts.Source; src != nil {
			n := 0
			if !srcEnded {
				var err error
				n, err = io.ReadFull(src, frame)
				srcEnded = err != nil
			}
			for i := n; i < len(frame); i++ {
				frame[i] = 0xFF // silence in u-law
			}
		} else {
			for i := range frame {
				frame[i] = g711.EncodeUlawFrame(int16(8000 * math.Sin(phase)))
				phase += step
			}
			phase = math.Mod(phase, 2*math.Pi)
		}
		write(0, false, ts, frame)
		ts += 160
	}
	for {
		select {
		case <-c.stop:
			return
		case r := <-c.dtmf:
			for _, d := range r.digits {
				code, _ := rfc4733.Code(d)
				start := ts
				// 100 ms: durations 0, 160 ... 640, then three ends at 800.
				for i := 0; i < 5; i++ {
					write(DTMFPayloadType, i == 0, start, rfc4733.Payload(code, false, uint16(160*i)))
					if !wait() {
						return
					}
				}
				for i := 0; i < 3; i++ {
					write(DTMFPayloadType, false, start, rfc4733.Payload(code, true, 800))
					if !wait() {
						return
					}
				}
				ts += 800 + 320 // the event's time, and the end packets'
				for i := 0; i < 3; i++ {
					audio()
					if !wait() {
						return
					}
				}
			}
			close(r.done)
		case <-tick.C:
			audio()
		}
	}
}

// rawTrack is a local audio track whose packets the client writes itself,
// so that audio (PT 0) and events (PT 126) share one SSRC and sequence,
// as a browser's do. pion's static tracks rewrite the payload type.
type rawTrack struct {
	bound  chan struct{}
	once   sync.Once
	ssrc   uint32
	writer webrtc.TrackLocalWriter
}

// Bind picks PCMU from the negotiated codecs.
func (t *rawTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, webrtc.MimeTypePCMU) {
			t.once.Do(func() {
				t.ssrc, t.writer = uint32(ctx.SSRC()), ctx.WriteStream()
				close(t.bound)
			})
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, errors.New("rtcclient: the answer did not accept PCMU")
}

// Unbind does nothing: the client writes until it closes.
func (t *rawTrack) Unbind(webrtc.TrackLocalContext) error { return nil }

// ID is the track's id.
func (t *rawTrack) ID() string { return "audio" }

// RID is empty: no simulcast.
func (t *rawTrack) RID() string { return "" }

// StreamID is the media stream's id.
func (t *rawTrack) StreamID() string { return "rtcclient" }

// Kind is audio.
func (t *rawTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// ULawAudio decodes PCMU bytes (8000 Hz, one byte a sample) for
// sippeer's analysis: DominantFrequency, BandEnergyDB, LevelDB.
func ULawAudio(ulaw []byte) *sippeer.Audio {
	x := make([]float64, len(ulaw))
	for i, b := range ulaw {
		x[i] = float64(g711.DecodeUlawFrame(b)) / 32768
	}
	return &sippeer.Audio{Rate: 8000, Channels: [][]float64{x}}
}

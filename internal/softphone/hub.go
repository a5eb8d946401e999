package softphone

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/stun/v3"
	"github.com/pion/transport/v4"
	"github.com/pion/webrtc/v4"

	"github.com/parley-cc/parley/internal/cc"
)

// MaxOfferSize is the largest SDP offer Offer accepts. Chrome's offers are
// a few KiB; the event WebSocket's frames are limited to the same size.
const MaxOfferSize = 64 << 10

// gatherTimeout bounds the wait for ICE gathering before an answer.
const gatherTimeout = 5 * time.Second

// disconnectedTimeout is how long ICE may stay disconnected before the leg
// ends: a network blip shorter than this keeps it.
const disconnectedTimeout = 3 * time.Second

// DefaultGrace is Config.Grace when it is zero.
const DefaultGrace = 10 * time.Second

// ICEServer is a STUN or TURN server, in the shape of the browser's
// RTCIceServer (the panel gets the same list from Hub.ICEServers).
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// validate checks the URLs (stun:, stuns:, turn:, turns:) and that a
// TURN server has its credentials.
func (s ICEServer) validate() error {
	if len(s.URLs) == 0 {
		return cc.Errorf(cc.EINVALID, "an ICE server has no URLs: give stun:host:port or turn:host:port")
	}
	for _, raw := range s.URLs {
		u, err := stun.ParseURI(raw)
		if err != nil {
			return cc.Errorf(cc.EINVALID, "the ICE server URL %q: %v (use stun:host:port, turn:host:port?transport=udp or turns:host:port)", raw, err)
		}
		if (u.Scheme == stun.SchemeTypeTURN || u.Scheme == stun.SchemeTypeTURNS) && (s.Username == "" || s.Credential == "") {
			return cc.Errorf(cc.EINVALID, "the TURN server %q needs a username and a credential", raw)
		}
	}
	return nil
}

// Config configures a Hub.
type Config struct {
	ICEServers       []ICEServer   // STUN/TURN; none = host candidates only
	PublicIPs        []string      // NAT 1:1 addresses announced as host candidates (server behind NAT)
	PortMin, PortMax uint16        // UDP port range for ICE; 0,0 = ephemeral
	Grace            time.Duration // a lost leg's grace before OnChange(k,false); default 10s
	Log              *slog.Logger
}

// Key names the agent a leg belongs to.
type Key struct{ TenantID, UserID string }

// String returns "tenant/user", for logs.
func (k Key) String() string { return k.TenantID + "/" + k.UserID }

// Hub answers the browsers' offers and keeps one leg per agent.
type Hub struct {
	cfg Config
	api *webrtc.API
	log *slog.Logger
	wg  sync.WaitGroup // leg goroutines and the notifier (see spawn)

	mu       sync.Mutex
	closed   bool
	waiting  bool // Close waits for wg: no more goroutines start
	legs     map[Key]*Leg
	up       map[Key]bool        // OnChange(k, true) was the last report
	grace    map[Key]*graceTimer // pending OnChange(k, false)
	changed  chan struct{}       // closed and replaced when a leg goes live or ends
	onChange func(Key, bool)
	notes    []note        // OnChange calls not made yet, in order
	wake     chan struct{} // the notifier has notes
	stop     chan struct{} // the notifier ends
}

// graceTimer is a pending OnChange(k, false); the map entry is compared
// by pointer, so a timer that fired as it was stopped does nothing.
type graceTimer struct{ t *time.Timer }

// note is one OnChange call.
type note struct {
	k  Key
	up bool
}

// New makes a hub: one WebRTC API with only PCMU and telephone-event/8000,
// RTCP sender and receiver reports, UDP over IPv4 and IPv6 including
// loopback candidates (a browser on 127.0.0.1). It does no I/O.
func New(cfg Config) (*Hub, error) { return newHub(cfg, nil) }

// newHub is New on network n (pion's virtual network in tests); nil is the
// host's.
func newHub(cfg Config, n transport.Net) (*Hub, error) {
	if cfg.Grace == 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Grace < 0 {
		return nil, cc.Errorf(cc.EINVALID, "the softphone grace %s is negative", cfg.Grace)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if (cfg.PortMin == 0) != (cfg.PortMax == 0) || cfg.PortMin > cfg.PortMax {
		return nil, cc.Errorf(cc.EINVALID, "the WebRTC port range %d-%d is not a range: give both ends, the first no higher than the second (or neither)", cfg.PortMin, cfg.PortMax)
	}
	for _, ip := range cfg.PublicIPs {
		if net.ParseIP(ip) == nil {
			return nil, cc.Errorf(cc.EINVALID, "the WebRTC public IP %q is not an IP address (give the address browsers reach the server at, such as 203.0.113.7)", ip)
		}
	}
	for _, s := range cfg.ICEServers {
		if err := s.validate(); err != nil {
			return nil, err
		}
	}

	me := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: 0},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: 8000, Channels: 1}, PayloadType: 101},
	} {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("register %s: %w", c.MimeType, err)
		}
	}
	// Audio needs RTCP reports (round trip, loss at the browser); NACK,
	// TWCC and simulcast are for video and would cost CPU per packet.
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("configure RTCP reports: %w", err)
	}

	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	se.SetIncludeLoopbackCandidate(true)
	// ICE reports disconnected after 2 s without traffic (the browser
	// sends audio every 20 ms); the leg ends 3 s later unless it recovers.
	se.SetICETimeouts(2*time.Second, 30*time.Second, time.Second)
	if n != nil {
		se.SetNet(n)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled) // no multicast on a virtual network
	}
	if len(cfg.PublicIPs) > 0 {
		// NAT 1:1: the public addresses replace the private ones in the
		// host candidates (what SetNAT1To1IPs did before pion deprecated it).
		rule := webrtc.ICEAddressRewriteRule{External: cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost}
		if err := se.SetICEAddressRewriteRules(rule); err != nil {
			return nil, cc.Errorf(cc.EINVALID, "the WebRTC public IPs %v: %v", cfg.PublicIPs, err)
		}
	}
	if cfg.PortMin != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, cc.Errorf(cc.EINVALID, "the WebRTC port range %d-%d: %v", cfg.PortMin, cfg.PortMax, err)
		}
	}
	h := &Hub{
		cfg:     cfg,
		api:     webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)),
		log:     cfg.Log,
		legs:    map[Key]*Leg{},
		up:      map[Key]bool{},
		grace:   map[Key]*graceTimer{},
		changed: make(chan struct{}),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	h.wg.Add(1)
	go h.notifier()
	return h, nil
}

// mimeTelephoneEvent is RFC 4733's media type.
const mimeTelephoneEvent = "audio/telephone-event"

// ICEServers returns the STUN/TURN servers the panel configures its
// RTCPeerConnection with.
func (h *Hub) ICEServers() []ICEServer {
	out := make([]ICEServer, len(h.cfg.ICEServers))
	for i, s := range h.cfg.ICEServers {
		out[i] = ICEServer{URLs: append([]string(nil), s.URLs...), Username: s.Username, Credential: s.Credential}
	}
	return out
}

// OnChange sets the function called when k's audio goes live (true) and
// when it has been gone for the grace (false). Calls come one at a time, in
// order, from one goroutine; f may call the hub.
func (h *Hub) OnChange(f func(k Key, connected bool)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onChange = f
}

// Offer answers a browser's SDP offer for user k. owner identifies the
// signalling socket. It validates the SDP (at most 64 KiB, one audio
// m-line offering PCMU; cc.EINVALID saying what is wrong), closes k's
// previous leg (reason "replaced by another panel"), answers with only
// PCMU and telephone-event, without trickle ICE (it waits up to 5 s for
// gathering), and returns the answer SDP.
func (h *Hub) Offer(ctx context.Context, k Key, owner, offer string) (string, error) {
	return h.OfferNotify(ctx, k, owner, offer, nil)
}

// OfferNotify is Offer, and calls ended (when not nil) once the leg it
// makes ends, with the reason: the panel is told that its audio is gone
// (replaced by another panel, failed), so it can offer again or stop.
func (h *Hub) OfferNotify(ctx context.Context, k Key, owner, offer string, ended func(reason string)) (string, error) {
	if err := validateOffer(offer); err != nil {
		return "", err
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return "", cc.Errorf(cc.EUNAVAILABLE, "the server is shutting down: no new browser audio")
	}
	old := h.legs[k]
	h.mu.Unlock()
	if old != nil {
		if old.owner == owner {
			old.end("replaced by the panel's new offer")
		} else {
			old.end("replaced by another panel")
		}
	}

	pc, err := h.api.NewPeerConnection(webrtc.Configuration{ICEServers: h.webrtcICEServers()})
	if err != nil {
		return "", fmt.Errorf("softphone offer: new peer connection: %w", err)
	}
	l := newLeg(h, k, owner, pc)
	l.ended = ended
	h.mu.Lock()
	if h.closed || h.legs[k] != nil {
		// The hub closed, or another offer for k won the race: this one
		// would replace a leg newer than the one it replaced.
		closed := h.closed
		h.mu.Unlock()
		_ = pc.Close()
		if closed {
			return "", cc.Errorf(cc.EUNAVAILABLE, "the server is shutting down: no new browser audio")
		}
		return "", cc.Errorf(cc.ECONFLICT, "another offer for %s arrived at the same time", k)
	}
	h.legs[k] = l
	h.mu.Unlock()

	answer, err := l.answer(ctx, offer)
	if err != nil {
		l.end("the answer failed")
		return "", err
	}
	h.log.Info("browser audio offered", "key", k.String(), "owner", owner)
	return answer, nil
}

// webrtcICEServers returns the configured servers in pion's type.
func (h *Hub) webrtcICEServers() []webrtc.ICEServer {
	out := make([]webrtc.ICEServer, len(h.cfg.ICEServers))
	for i, s := range h.cfg.ICEServers {
		out[i] = webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential}
	}
	return out
}

// validateOffer checks what Offer accepts: a parsable SDP of at most
// MaxOfferSize with exactly one audio m-line, which offers PCMU.
func validateOffer(offer string) error {
	if strings.TrimSpace(offer) == "" {
		return cc.Errorf(cc.EINVALID, "the offer is empty: send the SDP of the panel's RTCPeerConnection offer")
	}
	if len(offer) > MaxOfferSize {
		return cc.Errorf(cc.EINVALID, "the offer is %d bytes, more than the %d a browser's audio offer needs", len(offer), MaxOfferSize)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return cc.Errorf(cc.EINVALID, "the offer is not SDP: %v", err)
	}
	var audio []*sdp.MediaDescription
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media == "audio" {
			audio = append(audio, m)
		}
	}
	switch len(audio) {
	case 0:
		return cc.Errorf(cc.EINVALID, "the offer has no audio m-line: add the microphone track before creating the offer")
	case 1:
	default:
		return cc.Errorf(cc.EINVALID, "the offer has %d audio m-lines: the softphone takes one audio track", len(audio))
	}
	if !offersPCMU(audio[0]) {
		return cc.Errorf(cc.EINVALID, "the offer does not include PCMU (G.711 u-law): Parley does not transcode; allow PCMU in the browser's codecs")
	}
	return nil
}

// offersPCMU reports whether m lists PCMU/8000: by an rtpmap, or as the
// static payload type 0 without one (RFC 3551).
func offersPCMU(m *sdp.MediaDescription) bool {
	mapped := map[string]bool{}
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, enc, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		mapped[pt] = true
		if strings.HasPrefix(strings.ToUpper(enc), "PCMU/8000") && contains(m.MediaName.Formats, pt) {
			return true
		}
	}
	return contains(m.MediaName.Formats, "0") && !mapped["0"]
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Release ends k's leg with reason if owner offered it: the owner's
// signalling socket ended or the panel dropped its audio. Another owner's
// leg is left alone (a newer panel replaced the one releasing).
func (h *Hub) Release(k Key, owner, reason string) {
	h.mu.Lock()
	l := h.legs[k]
	h.mu.Unlock()
	if l != nil && l.owner == owner {
		if reason == "" {
			reason = "released by the panel"
		}
		l.end(reason)
	}
}

// Wait returns k's live leg (ICE and DTLS connected, the browser's audio
// arrived), waiting for one until ctx ends. It returns cc.EUNAVAILABLE when
// the hub closes.
func (h *Hub) Wait(ctx context.Context, k Key) (*Leg, error) {
	for {
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			return nil, cc.Errorf(cc.EUNAVAILABLE, "the server is shutting down: no browser audio")
		}
		if l := h.legs[k]; l != nil && l.live {
			h.mu.Unlock()
			return l, nil
		}
		ch := h.changed
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %s's browser audio: %w", k, ctx.Err())
		case <-ch:
		}
	}
}

var _ cc.BrowserAudio = (*Hub)(nil)

// AudioConnected reports whether the user's panel has a live leg. It
// implements cc.BrowserAudio.
func (h *Hub) AudioConnected(tenantID, userID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.legs[Key{tenantID, userID}]
	return l != nil && l.live
}

// Legs returns the number of legs, live or still connecting.
func (h *Hub) Legs() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.legs)
}

// Close ends every leg ("the server is shutting down"), waits for their
// goroutines and refuses further offers. Pending OnChange(k, false) calls
// are not made.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	legs := make([]*Leg, 0, len(h.legs))
	for _, l := range h.legs {
		legs = append(legs, l)
	}
	for k, g := range h.grace {
		g.t.Stop()
		delete(h.grace, k)
	}
	h.signalLocked()
	h.mu.Unlock()
	for _, l := range legs {
		l.end("the server is shutting down")
	}
	close(h.stop)
	h.mu.Lock()
	h.waiting = true
	h.mu.Unlock()
	h.wg.Wait()
	return nil
}

// spawn runs f in a goroutine that Close waits for, and reports false
// (running nothing) once Close has started waiting: a leg's goroutine
// that starts that late would only find its PeerConnection closed.
func (h *Hub) spawn(f func()) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiting {
		return false
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		f()
	}()
	return true
}

// signalLocked wakes the waiters. h.mu is held.
func (h *Hub) signalLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// notifyLocked queues an OnChange call. h.mu is held.
func (h *Hub) notifyLocked(k Key, up bool) {
	h.notes = append(h.notes, note{k, up})
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// notifier makes the OnChange calls one at a time, in order.
func (h *Hub) notifier() {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			return
		case <-h.wake:
		}
		for {
			h.mu.Lock()
			if len(h.notes) == 0 {
				h.mu.Unlock()
				break
			}
			n, f := h.notes[0], h.onChange
			h.notes = h.notes[1:]
			h.mu.Unlock()
			if f != nil {
				f(n.k, n.up)
			}
		}
	}
}

// legLive records that l went live.
func (h *Hub) legLive(l *Leg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.legs[l.key] != l || l.live {
		return
	}
	l.live = true
	if g := h.grace[l.key]; g != nil {
		g.t.Stop()
		delete(h.grace, l.key)
	}
	h.up[l.key] = true
	h.notifyLocked(l.key, true)
	h.signalLocked()
	h.log.Info("browser audio connected", "key", l.key.String(), "owner", l.owner)
}

// legEnded removes l and, when its key had reported audio, starts the
// grace after which OnChange(k, false) fires.
func (h *Hub) legEnded(l *Leg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.legs[l.key] != l {
		return
	}
	delete(h.legs, l.key)
	h.signalLocked()
	if h.closed || !h.up[l.key] || h.grace[l.key] != nil {
		return
	}
	k, g := l.key, &graceTimer{}
	h.grace[k] = g
	g.t = time.AfterFunc(h.cfg.Grace, func() { h.graceEnded(k, g) })
}

// graceEnded reports k's audio gone unless a new leg went live meanwhile.
func (h *Hub) graceEnded(k Key, g *graceTimer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.grace[k] != g {
		return // stopped: a new leg went live, or the hub closed
	}
	delete(h.grace, k)
	if l := h.legs[k]; l != nil && l.live {
		return
	}
	delete(h.up, k)
	h.notifyLocked(k, false)
	h.log.Info("browser audio lost", "key", k.String(), "grace", h.cfg.Grace)
}

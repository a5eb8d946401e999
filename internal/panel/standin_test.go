package panel_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/zaf/g711"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/panel"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// standIn is a stand-in for Parley's server side of the browser softphone:
// it serves the panel and the few REST routes the panel calls, and the
// events WebSocket, where it answers softphone.offer with pion (PCMU and
// telephone-event only, as internal/softphone does), plays a 1000 Hz tone
// to the browser and records what the browser sends (audio, RFC 4733
// digits).
type standIn struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	state    string // the agent's presence state
	reason   string
	offerID  string // the interaction offered, if any
	seq      int64
	sockets  map[*websocket.Conn]bool
	offers   int // softphone.offer frames received
	releases int // softphone.release frames received
	legs     []*standLeg
	posted   []string // digits sent through POST .../dtmf
	enabled  bool     // the hello's softphone.enabled
}

// standLeg is one answered PeerConnection.
type standLeg struct {
	pc *webrtc.PeerConnection

	mu        sync.Mutex
	samples   []float64 // the browser's audio, decoded, 8 kHz
	digits    []rune    // RFC 4733 events with the end bit, once each
	seen      map[uint32]bool
	connected bool
	closed    bool
}

const agentID = "usr_1"

func newStandIn(t *testing.T, crmOrigin string) *standIn {
	s := &standIn{t: t, state: "not_ready", reason: "Break", sockets: map[*websocket.Conn]bool{}, enabled: true}
	ts := tenants{{ID: "ten_1", Slug: "acme", DisplayName: "Acme", Kind: cc.KindUnifiedLoginUC, Region: "US", CRMOrigins: []string{crmOrigin}}}
	mux := http.NewServeMux()
	mux.Handle("/cti/", panel.New(panel.Options{Tenants: ts}))
	mux.HandleFunc("POST /api/v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 201, map[string]any{"token": "tok", "user": s.user()})
	})
	mux.HandleFunc("DELETE /api/v1/sessions/current", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /api/v1/me", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"user": s.user(), "tenant": map[string]any{"id": "ten_1", "slug": "acme", "display_name": "Acme"},
			"presence": s.presence(), "not_ready_reasons": []string{"Break"}, "dispositions": []string{"Done"}, "log_cap_bytes": 4000})
	})
	mux.HandleFunc("GET /api/v1/queues", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []any{}) })
	mux.HandleFunc("GET /api/v1/agents", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []any{}) })
	mux.HandleFunc("GET /api/v1/interactions", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []any{}) })
	mux.HandleFunc("GET /api/v1/interactions/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, s.interaction(r.PathValue("id")))
	})
	mux.HandleFunc("POST /api/v1/interactions/{id}/dtmf", func(w http.ResponseWriter, r *http.Request) {
		var b struct{ Digits string }
		_ = json.NewDecoder(r.Body).Decode(&b)
		s.mu.Lock()
		s.posted = append(s.posted, b.Digits)
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{})
	})
	mux.HandleFunc("PUT /api/v1/me/state", func(w http.ResponseWriter, r *http.Request) {
		var b struct{ State, Reason string }
		_ = json.NewDecoder(r.Body).Decode(&b)
		s.mu.Lock()
		browserAgent := s.enabled
		s.mu.Unlock()
		if b.State == "available" && browserAgent && !s.audioConnected() {
			writeJSON(w, 409, map[string]any{"error": map[string]any{"code": "conflict",
				"message": "agent takes calls in the browser panel and its audio is not connected: open the panel and allow the microphone"}})
			return
		}
		s.mu.Lock()
		s.state, s.reason = b.State, b.Reason
		s.mu.Unlock()
		writeJSON(w, 200, s.presence())
	})
	mux.HandleFunc("POST /api/v1/events/ticket", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 201, map[string]any{"ticket": "tkt"})
	})
	mux.HandleFunc("GET /api/v1/events", s.events)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		s.srv.Close()
		s.mu.Lock()
		legs := s.legs
		s.mu.Unlock()
		for _, l := range legs {
			_ = l.pc.Close()
		}
	})
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *standIn) user() map[string]any {
	return map[string]any{"id": agentID, "username": "agent", "display_name": "Agent One"}
}

func (s *standIn) presence() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := map[string]any{"user_id": agentID, "username": "agent", "state": s.state, "reason": s.reason, "since": time.Now().UTC().Format(time.RFC3339)}
	if s.offerID != "" {
		p["interaction_id"] = s.offerID
	}
	return p
}

func (s *standIn) interaction(id string) map[string]any {
	return map[string]any{"id": id, "agent_id": agentID, "state": "offered", "direction": "inbound", "queue_name": "Support",
		"customer": map[string]any{"number": "+15551230000", "display": "+1 555 123 0000"}, "matches": []any{},
		"created_at": time.Now().UTC().Format(time.RFC3339)}
}

// audioConnected reports whether the newest leg is connected.
func (s *standIn) audioConnected() bool {
	l := s.lastLeg()
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.connected && !l.closed
}

func (s *standIn) lastLeg() *standLeg {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.legs) == 0 {
		return nil
	}
	return s.legs[len(s.legs)-1]
}

// offer shows an incoming call to the agent (an agent.state event).
func (s *standIn) offer(id string) {
	s.mu.Lock()
	s.state, s.reason, s.offerID = "offered", "", id
	s.mu.Unlock()
	s.publish("agent.state", map[string]any{"presence": s.presence()})
}

// publish sends an event frame (with a seq) to every socket.
func (s *standIn) publish(typ string, data any) {
	s.mu.Lock()
	s.seq++
	b, _ := json.Marshal(map[string]any{"type": typ, "seq": s.seq, "at": time.Now().UTC(), "data": data})
	var socks []*websocket.Conn
	for c := range s.sockets {
		socks = append(socks, c)
	}
	s.mu.Unlock()
	for _, c := range socks {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.Write(ctx, websocket.MessageText, b)
		cancel()
	}
}

// control sends a control frame (no seq) to every socket.
func (s *standIn) control(frame map[string]any) {
	b, _ := json.Marshal(frame)
	s.mu.Lock()
	var socks []*websocket.Conn
	for c := range s.sockets {
		socks = append(socks, c)
	}
	s.mu.Unlock()
	for _, c := range socks {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.Write(ctx, websocket.MessageText, b)
		cancel()
	}
}

// closeLeg ends the newest leg as the hub does, telling the panel why.
func (s *standIn) closeLeg(reason string) {
	if l := s.lastLeg(); l != nil {
		_ = l.pc.Close()
	}
	s.control(map[string]any{"type": "softphone.closed", "data": map[string]any{"reason": reason}})
}

// dropSockets closes every event socket, as a restart or a network blip does.
func (s *standIn) dropSockets() {
	s.mu.Lock()
	var socks []*websocket.Conn
	for c := range s.sockets {
		socks = append(socks, c)
	}
	s.mu.Unlock()
	for _, c := range socks {
		_ = c.Close(websocket.StatusGoingAway, "server shutting down")
	}
}

// events serves the events WebSocket: a hello, then control frames.
func (s *standIn) events(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	c.SetReadLimit(64 << 10)
	ctx := r.Context()
	s.mu.Lock()
	s.sockets[c] = true
	enabled := s.enabled
	s.mu.Unlock()
	var mine *standLeg
	defer func() {
		s.mu.Lock()
		delete(s.sockets, c)
		s.mu.Unlock()
		if mine != nil {
			_ = mine.pc.Close()
		}
	}()
	endpoint := "browser"
	if !enabled {
		endpoint = "sip"
	}
	hello, _ := json.Marshal(map[string]any{"type": "hello", "seq": 0, "at": time.Now().UTC(), "data": map[string]any{
		"version": "1", "presence": s.presence(), "queues": []any{},
		"softphone": map[string]any{"enabled": enabled, "endpoint": endpoint, "ice_servers": []any{}},
	}})
	var wmu sync.Mutex
	write := func(b []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = c.Write(wctx, websocket.MessageText, b)
	}
	write(hello)
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		var f struct{ Type, ID, SDP string }
		if err := json.Unmarshal(b, &f); err != nil {
			s.t.Errorf("stand-in: the panel sent a frame that is not JSON: %q", b)
			continue
		}
		switch f.Type {
		case "softphone.offer":
			s.mu.Lock()
			s.offers++
			s.mu.Unlock()
			if mine != nil {
				_ = mine.pc.Close()
			}
			answer, leg, err := s.answer(f.SDP)
			if err != nil {
				out, _ := json.Marshal(map[string]any{"type": "softphone.error", "id": f.ID, "error": map[string]any{"code": "invalid", "message": err.Error()}})
				write(out)
				continue
			}
			mine = leg
			out, _ := json.Marshal(map[string]any{"type": "softphone.answer", "id": f.ID, "sdp": answer})
			write(out)
		case "softphone.release":
			s.mu.Lock()
			s.releases++
			s.mu.Unlock()
			if mine != nil {
				_ = mine.pc.Close()
				mine = nil
			}
		default:
			s.t.Errorf("stand-in: unexpected frame %s", b)
		}
	}
}

// answer answers a browser's offer with a pion PeerConnection that knows
// only PCMU and telephone-event, non-trickle.
func (s *standIn) answer(offer string) (string, *standLeg, error) {
	m := &webrtc.MediaEngine{}
	pcmu := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: pcmu, PayloadType: 0}, webrtc.RTPCodecTypeAudio); err != nil {
		return "", nil, err
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, SDPFmtpLine: "0-16"}, PayloadType: 126}, webrtc.RTPCodecTypeAudio); err != nil {
		return "", nil, err
	}
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", nil, err
	}
	leg := &standLeg{pc: pc, seen: map[uint32]bool{}}
	track, err := webrtc.NewTrackLocalStaticSample(pcmu, "audio", "parley")
	if err != nil {
		return "", nil, err
	}
	if _, err := pc.AddTrack(track); err != nil {
		return "", nil, err
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			leg.mu.Lock()
			switch {
			case p.PayloadType == 0:
				for _, b := range p.Payload {
					leg.samples = append(leg.samples, float64(g711.DecodeUlawFrame(b))/32768)
				}
			case len(p.Payload) >= 4 && p.Payload[1]&0x80 != 0 && !leg.seen[p.Timestamp]:
				leg.seen[p.Timestamp] = true
				leg.digits = append(leg.digits, rune("0123456789*#ABCD"[min(int(p.Payload[0]), 15)]))
			}
			leg.mu.Unlock()
		}
	})
	done := make(chan struct{})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		leg.mu.Lock()
		defer leg.mu.Unlock()
		switch st {
		case webrtc.PeerConnectionStateConnected:
			if !leg.connected {
				leg.connected = true
				go playTone(track, done)
			}
		case webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateDisconnected:
			if !leg.closed {
				leg.closed = true
				close(done)
			}
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		_ = pc.Close()
		return "", nil, err
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		_ = pc.Close()
		return "", nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		_ = pc.Close()
		return "", nil, err
	}
	<-gathered
	s.mu.Lock()
	s.legs = append(s.legs, leg)
	s.mu.Unlock()
	return pc.LocalDescription().SDP, leg, nil
}

// playTone sends a 1000 Hz tone (amplitude 8000) in 20 ms PCMU packets until done.
func playTone(track *webrtc.TrackLocalStaticSample, done <-chan struct{}) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	n := 0
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		b := make([]byte, 160)
		for i := range b {
			b[i] = g711.EncodeUlawFrame(int16(8000 * math.Sin(2*math.Pi*1000*float64(n)/8000)))
			n++
		}
		_ = track.WriteSample(media.Sample{Data: b, Duration: 20 * time.Millisecond})
	}
}

// received returns the leg's audio as a sippeer.Audio for analysis.
func (l *standLeg) received() *sippeer.Audio {
	l.mu.Lock()
	defer l.mu.Unlock()
	return &sippeer.Audio{Rate: 8000, Channels: [][]float64{append([]float64(nil), l.samples...)}}
}

func (l *standLeg) gotDigits() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.digits)
}

func (l *standLeg) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

func (s *standIn) counts() (offers, legs, releases int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offers, len(s.legs), s.releases
}

// eventually polls cond until it holds, failing the test after 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("stand-in: gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/coder/websocket"

	"github.com/parley-cc/parley/internal/cc"
)

// Softphone answers the panel's browser audio: the WebRTC offers that come
// over the events WebSocket (internal/softphone's hub, adapted).
type Softphone interface {
	// Offer answers a browser's SDP offer for the principal's user; owner
	// names the socket it came on. EINVALID for a bad offer.
	// ended is called once when the leg ends for a reason the panel must
	// hear of (another panel of the same user took the audio over).
	Offer(ctx context.Context, p *cc.Principal, owner, sdp string, ended func(reason string)) (answer string, err error)
	// Release ends the user's audio leg if owner made it.
	Release(p *cc.Principal, owner, reason string)
	// ICEServers are the STUN/TURN servers the panel should use.
	ICEServers() []ICEServer
}

// ICEServer is one STUN or TURN server as RTCPeerConnection takes it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// softphoneView is the hello frame's "softphone": whether this user talks
// through the panel and how the panel connects its audio.
type softphoneView struct {
	Enabled    bool        `json:"enabled"`
	Endpoint   string      `json:"endpoint"`
	ICEServers []ICEServer `json:"ice_servers"`
}

func (s *Server) softphoneView(p *cc.Principal) *softphoneView {
	if !p.User.IsAgent() {
		return nil
	}
	v := &softphoneView{Endpoint: string(p.User.EndpointKind()), ICEServers: []ICEServer{}}
	if s.softphone != nil {
		v.Enabled = p.User.EndpointKind() == cc.EndpointBrowser
		if ice := s.softphone.ICEServers(); ice != nil {
			v.ICEServers = ice
		}
	}
	return v
}

// maxClientMessage bounds a message from the panel (an SDP offer).
const maxClientMessage = 64 << 10

// clientMessage is what the panel may send on the events socket.
type clientMessage struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	SDP  string `json:"sdp"`
}

// controlFrame is a reply to a client message. It has no seq: it is not an
// event and is never replayed.
type controlFrame struct {
	Type  string          `json:"type"`
	ID    string          `json:"id,omitempty"`
	SDP   string          `json:"sdp,omitempty"`
	Error *errorDetail    `json:"error,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// errNotSoftphone ends a socket whose client sent something other than a
// softphone message.
var errNotSoftphone = errors.New("not a softphone message")

// maxPendingReplies bounds the softphone messages of one socket waiting to
// be answered.
const maxPendingReplies = 4

// replyQueue runs a socket's softphone work one job at a time, in order.
type replyQueue struct {
	jobs chan func()
	done chan struct{}
}

func newReplyQueue() *replyQueue {
	q := &replyQueue{jobs: make(chan func(), maxPendingReplies), done: make(chan struct{})}
	go func() {
		defer close(q.done)
		for job := range q.jobs {
			job()
		}
	}()
	return q
}

// add queues job; false when the queue is full.
func (q *replyQueue) add(job func()) bool {
	select {
	case q.jobs <- job:
		return true
	default:
		return false
	}
}

// close stops taking jobs and waits for the queued ones (their context has
// ended with the socket, so they finish quickly).
func (q *replyQueue) close() {
	close(q.jobs)
	<-q.done
}

// handleClient handles one message from the panel. Offers are answered in
// the background, in order (gathering candidates takes a moment), so that
// the socket keeps reading pings. An error means the message is not one
// the socket takes: the socket then closes (client_message).
//
// ctx ends with the socket; writes use gone (see readClient).
func (s *Server) handleClient(ctx, gone context.Context, c *websocket.Conn, p *cc.Principal, owner string, q *replyQueue, typ websocket.MessageType, b []byte) error {
	var m clientMessage
	if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil {
		return errNotSoftphone
	}
	reply := func(f controlFrame, err error) {
		if err != nil {
			d := newErrorDetail(err)
			f = controlFrame{Type: "softphone.error", ID: m.ID, Error: &d}
			s.log.InfoContext(ctx, "softphone message refused", "user", p.User.ID, "type", m.Type, "err", err)
		}
		if err := s.writeControl(gone, c, f); err != nil {
			s.log.DebugContext(ctx, "softphone reply not sent", "user", p.User.ID, "err", err)
		}
	}
	switch m.Type {
	case "softphone.offer", "softphone.release":
	default:
		return errNotSoftphone
	}
	var refuse error
	switch {
	case !p.User.IsAgent():
		refuse = cc.Errorf(cc.EFORBIDDEN, "%s is not an agent: only agents talk through the panel", p.User.Username)
	case s.softphone == nil:
		refuse = cc.Errorf(cc.ECONFLICT, "this server has no browser softphone")
	case p.User.EndpointKind() != cc.EndpointBrowser:
		refuse = cc.Errorf(cc.ECONFLICT, "%s takes calls on the %s endpoint, not in the browser: an administrator changes it with parley admin user set --endpoint browser", p.User.Username, p.User.EndpointKind())
	case len(m.ID) > 64:
		refuse = cc.Errorf(cc.EINVALID, "%s: id is longer than 64 bytes", m.Type)
	}
	if refuse != nil {
		if m.Type == "softphone.offer" {
			reply(controlFrame{}, refuse)
		}
		return nil
	}
	job := func() { s.softphone.Release(p, owner, "released by the panel") }
	if m.Type == "softphone.offer" {
		job = func() {
			answer, err := s.softphone.Offer(ctx, p, owner, m.SDP, func(reason string) {
				data, _ := json.Marshal(map[string]string{"reason": reason})
				if err := s.writeControl(gone, c, controlFrame{Type: "softphone.closed", ID: m.ID, Data: data}); err != nil {
					s.log.DebugContext(ctx, "softphone.closed not sent", "user", p.User.ID, "err", err)
				}
			})
			if err == nil && ctx.Err() != nil {
				// the socket closed while the offer was answered: its
				// Release came first, so the new leg is released here
				s.softphone.Release(p, owner, "the panel's connection closed")
			}
			reply(controlFrame{Type: "softphone.answer", ID: m.ID, SDP: answer}, err)
		}
	}
	if !q.add(job) {
		reply(controlFrame{}, cc.Errorf(cc.ERATELIMIT, "%s: the panel sent more than %d softphone messages before the first was answered: wait for the answer", m.Type, maxPendingReplies))
	}
	return nil
}

// writeControl writes a control frame.
func (s *Server) writeControl(ctx context.Context, c *websocket.Conn, f controlFrame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode control frame: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.writeTimeout)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("write control frame: %w", err)
	}
	return nil
}

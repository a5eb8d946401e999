package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// replayPage is how many stored events one replay query fetches.
const replayPage = 500

// eventView is one WebSocket frame, and one entry of an interaction's
// history.
type eventView struct {
	Type          string          `json:"type"`
	Seq           int64           `json:"seq"`
	At            time.Time       `json:"at"`
	InteractionID string          `json:"interaction_id,omitempty"`
	UserID        string          `json:"user_id,omitempty"`
	QueueID       string          `json:"queue_id,omitempty"`
	Data          json.RawMessage `json:"data,omitempty"`
}

func newEventView(e *cc.Event) eventView {
	v := eventView{
		Type:          string(e.Type),
		Seq:           e.Seq,
		At:            utc(e.At),
		InteractionID: e.InteractionID,
		UserID:        e.UserID,
		QueueID:       e.QueueID,
	}
	if len(e.Data) > 0 && json.Valid(e.Data) {
		v.Data = e.Data
	}
	return v
}

func newEventViews(events []*cc.Event) []eventView {
	out := make([]eventView, 0, len(events))
	for _, e := range events {
		out = append(out, newEventView(e))
	}
	return out
}

// helloData is the data of the first frame of a WebSocket: a snapshot to
// draw from before the events that follow.
type helloData struct {
	Version  string              `json:"version"`
	Presence *view.Presence      `json:"presence"`
	Queues   []*view.QueueStatus `json:"queues"`
	// Softphone is set for agents: whether they talk through the panel.
	Softphone *softphoneView `json:"softphone,omitempty"`
}

// ticketView is the body of POST /api/v1/events/ticket.
type ticketView struct {
	Ticket    string    `json:"ticket"`
	ExpiresAt time.Time `json:"expires_at"`
}

// eventTicket handles POST /api/v1/events/ticket.
func (s *Server) eventTicket(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	tok, exp, err := s.tickets.issue(p)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, ticketView{Ticket: tok, ExpiresAt: exp.UTC()})
	return nil
}

// events handles GET /api/v1/events?ticket=...[&after=SEQ]: it upgrades to a
// WebSocket and streams the hello frame, the stored events after SEQ and
// then live events.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	tok := q.Get("ticket")
	if err := checkTicket(tok); err != nil {
		return err
	}
	after, replay, err := parseSeq("after", q.Get("after"))
	if err != nil {
		return err
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return cc.Errorf(cc.EINVALID, "this route is a WebSocket: connect with a WebSocket client (Connection: Upgrade, Upgrade: websocket)")
	}
	p, err := s.tickets.redeem(tok)
	if err != nil {
		return err
	}
	if p.Session != nil {
		// Signed out since the ticket was issued (by an administrator, or
		// on another node)?
		if _, err := s.svc.SessionState(r.Context(), p); err != nil {
			return fmt.Errorf("check session: %w", err)
		}
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		// Accept has written the response (bad handshake or foreign origin).
		s.log.InfoContext(r.Context(), "websocket refused", "user", p.User.ID, "err", err)
		return nil
	}
	s.serveSocket(r.Context(), c, p, after, replay)
	return nil
}

// headerHasToken reports whether a comma-separated header holds token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// closeReason says why Parley closes a WebSocket.
type closeReason struct {
	code   websocket.StatusCode
	text   string // sent to the client; at most 123 bytes
	metric string
}

func (c *closeReason) Error() string { return c.text }

// Reasons to close. A client that sees one reconnects with a new ticket and
// after= the seq of the last event it got.
var (
	closeShutdown  = &closeReason{websocket.StatusGoingAway, "server shutting down", "shutdown"} // the text gets after=<last seq>
	closeSignedOut = &closeReason{websocket.StatusPolicyViolation, "signed out", "signed_out"}
	closeExpired   = &closeReason{websocket.StatusPolicyViolation, "session expired: sign in again", "expired"}
	// closeSignedOutEverywhere: DELETE /api/v1/me/sessions, in any tab or
	// browser of the user.
	closeSignedOutEverywhere = &closeReason{websocket.StatusPolicyViolation, "signed out everywhere: sign in again", "signed_out_everywhere"}
	// closeSessionEnded: the session ended elsewhere (an administrator's
	// sign-out, another Parley node, a CRM that refused the grant).
	closeSessionEnded = &closeReason{websocket.StatusPolicyViolation, "signed out: the session ended, sign in again", "session_ended"}
	// closeClientMessage: the socket only sends; requests go to the REST API.
	closeClientMessage = &closeReason{websocket.StatusPolicyViolation, "this socket takes only softphone messages: use the REST API", "client_message"}
	// Reasons without a code end the connection without a close handshake:
	// the client left, or does not answer.
	closePeerGone    = &closeReason{metric: "client"}
	closePingTimeout = &closeReason{metric: "ping_timeout"}
	closeWriteFailed = &closeReason{metric: "write_failed"}
)

func closeFellBehind(last int64) *closeReason {
	return &closeReason{websocket.StatusTryAgainLater, fmt.Sprintf("fell behind: reconnect with after=%d", last), "fell_behind"}
}

func closeFailed(what string, last int64) *closeReason {
	return &closeReason{websocket.StatusInternalError, fmt.Sprintf("%s failed: reconnect with after=%d", what, last), "error"}
}

// socket is one open WebSocket, as the socket set sees it.
type socket struct {
	sessionID        string
	tenantID, userID string
	cancel           context.CancelCauseFunc
}

// stop ends the socket with reason.
func (k *socket) stop(reason *closeReason) { k.cancel(reason) }

// serveSocket runs one WebSocket until it ends, then closes it with the
// reason. It ends when the client leaves, the request context ends (server
// shutdown through http.Server.BaseContext), the Server is closed, the
// session signs out, or the client falls behind.
func (s *Server) serveSocket(ctx context.Context, c *websocket.Conn, p *cc.Principal, after int64, replay bool) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	k := &socket{sessionID: sessionKey(p), tenantID: p.Tenant.ID, userID: p.User.ID, cancel: cancel}
	if !s.sockets.add(k) {
		c.Close(closeShutdown.code, closeShutdown.text)
		return
	}
	defer s.sockets.remove(k)
	s.metrics.sockets.Inc()
	defer s.metrics.sockets.Dec()
	owner := cc.NewID("sock")
	if s.softphone != nil {
		// the socket's audio leg ends with it (the panel reloads, closes
		// or loses its network; it offers again when it is back)
		defer s.softphone.Release(p, owner, "the panel's connection closed")
	}
	reason, last := s.stream(ctx, c, p, owner, after, replay)
	s.metrics.socketCloses.WithLabelValues(reason.metric).Inc()
	if reason.code == 0 {
		c.CloseNow()
		return
	}
	text := reason.text
	if reason == closeShutdown {
		text = fmt.Sprintf("server shutting down: reconnect with after=%d", last)
	}
	s.log.DebugContext(ctx, "websocket closed", "user", p.User.ID, "reason", text)
	c.Close(reason.code, text)
}

// stream writes the hello frame, the replay and live events until the
// socket must close, and returns why and the seq of the last stored event
// it sent.
func (s *Server) stream(ctx context.Context, c *websocket.Conn, p *cc.Principal, owner string, after int64, replay bool) (_ *closeReason, last int64) {
	live, unsubscribe := s.svc.Subscribe(p)
	defer unsubscribe()
	// Softphone messages are answered one at a time, in the order they
	// came: a newer offer must replace an older one, never the reverse.
	// Their context ends with the stream, before their queue is waited for.
	replies := newReplyQueue()
	jctx, jcancel := context.WithCancel(ctx)
	defer func() {
		jcancel()
		replies.close()
	}()
	handle := func(gone context.Context, typ websocket.MessageType, b []byte) error {
		return s.handleClient(jctx, gone, c, p, owner, replies, typ, b)
	}
	rctx, sent := readClient(ctx, c, handle)
	// wctx ends with ctx, rctx or sent: it bounds the waits and the service
	// calls. Writes and pings use rctx alone: the library closes the
	// connection when their context ends, and on shutdown the socket must
	// stay open for its close frame.
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	context.AfterFunc(rctx, stop)
	context.AfterFunc(sent, stop)
	ended := func() *closeReason { return endReason(ctx, rctx, sent) }
	last = after

	hello, err := s.hello(wctx, p)
	if err != nil {
		if r := ended(); r != nil {
			return r, last
		}
		s.log.ErrorContext(ctx, "websocket snapshot", "user", p.User.ID, "err", err)
		return closeFailed("snapshot", last), last
	}
	if err := s.writeFrame(rctx, c, hello); err != nil {
		return s.writeFailed(ended(), err), last
	}
	for replay {
		events, err := s.svc.Events(wctx, p, last, replayPage)
		if err != nil {
			if r := ended(); r != nil {
				return r, last
			}
			s.log.ErrorContext(ctx, "websocket replay", "user", p.User.ID, "after", last, "err", err)
			return closeFailed("replay", last), last
		}
		for _, e := range events {
			if err := s.writeFrame(rctx, c, newEventView(e)); err != nil {
				return s.writeFailed(ended(), err), last
			}
			last = max(last, e.Seq)
		}
		replay = len(events) == replayPage
	}

	ping := time.NewTicker(s.pingInterval)
	defer ping.Stop()
	// The socket lives no longer than the session that opened it: at its
	// expiry, and at each ping, the session is read again; a refresh moves
	// the expiry on, a sign-out elsewhere ends the socket.
	var expired <-chan time.Time
	var expiry *time.Timer
	var until time.Time // the expiry the timer is set for
	if p.Session != nil && !p.Session.ExpiresAt.IsZero() {
		until = p.Session.ExpiresAt
		expiry = time.NewTimer(until.Sub(s.clock()))
		defer expiry.Stop()
		expired = expiry.C
	}
	// recheck reads the session; atExpiry says the timer set for until
	// fired, so the session ended unless a refresh moved its expiry on.
	recheck := func(atExpiry bool) *closeReason {
		if expiry == nil {
			return nil
		}
		se, err := s.svc.SessionState(wctx, p)
		switch {
		case cc.IsCode(err, cc.EUNAUTHORIZED):
			if atExpiry {
				return closeExpired
			}
			return closeSessionEnded
		case err != nil:
			if r := ended(); r != nil {
				return r
			}
			// The store is busy: keep the socket, check at the next ping.
			s.log.WarnContext(ctx, "websocket session check", "user", p.User.ID, "err", err)
			if atExpiry {
				expiry.Reset(s.pingInterval)
			}
			return nil
		}
		if !se.ExpiresAt.After(until) {
			if atExpiry {
				return closeExpired
			}
			return nil
		}
		until = se.ExpiresAt
		expiry.Reset(until.Sub(s.clock()))
		return nil
	}
	for {
		select {
		case <-wctx.Done():
			return ended(), last
		case <-expired:
			if r := recheck(true); r != nil {
				return r, last
			}
		case e, ok := <-live:
			if !ok {
				return closeFellBehind(last), last
			}
			if e.Seq > 0 && e.Seq <= last {
				continue // already sent by the replay
			}
			if err := s.writeFrame(rctx, c, newEventView(e)); err != nil {
				return s.writeFailed(ended(), err), last
			}
			last = max(last, e.Seq)
		case <-ping.C:
			pctx, cancel := context.WithTimeout(rctx, s.writeTimeout)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				if r := ended(); r != nil {
					return r, last
				}
				s.log.InfoContext(ctx, "websocket ping unanswered", "user", p.User.ID, "err", err)
				return closePingTimeout, last
			}
			if r := recheck(false); r != nil {
				return r, last
			}
		}
	}
}

// readClient reads from the client. gone ends when the client leaves (the
// connection fails or closes); sent ends when the client sends a message
// the socket does not take: handle (which may be nil: the socket takes none)
// gets each message and returns an error for those. Reading keeps pings and
// the close handshake working. Neither context ends with ctx, and a message
// does not end gone, because the library closes the connection when the
// context of a write in flight ends, and the socket must stay open for its
// close frame. (Conn.CloseRead is not used: after a data message it holds
// the connection for its 15 s close timeout.) handle is called from the
// reading goroutine, after gone and sent exist.
func readClient(ctx context.Context, c *websocket.Conn, handle func(gone context.Context, typ websocket.MessageType, b []byte) error) (gone, sent context.Context) {
	c.SetReadLimit(1024)
	if handle != nil {
		c.SetReadLimit(maxClientMessage)
	}
	base := context.WithoutCancel(ctx)
	gone, leave := context.WithCancel(base)
	sent, send := context.WithCancel(base)
	go func() {
		for {
			typ, b, err := c.Read(gone)
			if err != nil {
				leave()
				return
			}
			if handle == nil || handle(gone, typ, b) != nil {
				send()
				return
			}
		}
	}()
	return gone, sent
}

// hello builds the first frame.
func (s *Server) hello(ctx context.Context, p *cc.Principal) (eventView, error) {
	pr, err := s.svc.Presence(ctx, p)
	if err != nil {
		return eventView{}, fmt.Errorf("presence: %w", err)
	}
	qs, err := s.svc.QueueStatus(ctx, p)
	if err != nil {
		return eventView{}, fmt.Errorf("queue status: %w", err)
	}
	data, err := json.Marshal(helloData{Version: s.version, Presence: presenceView(p, pr), Queues: queueViews(qs), Softphone: s.softphoneView(p)})
	if err != nil {
		return eventView{}, fmt.Errorf("encode hello: %w", err)
	}
	return eventView{Type: "hello", At: s.clock().UTC(), UserID: p.User.ID, Data: data}, nil
}

// writeFrame writes one frame, giving up after the write timeout.
func (s *Server) writeFrame(ctx context.Context, c *websocket.Conn, v eventView) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode frame: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.writeTimeout)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// endReason returns why a socket's contexts ended, or nil while they have
// not: the cause given to the socket, shutdown when the request context
// ended, or what the client did (sent a message, left).
func endReason(ctx, gone, sent context.Context) *closeReason {
	var r *closeReason
	switch {
	case errors.As(context.Cause(ctx), &r):
		return r
	case ctx.Err() != nil:
		return closeShutdown
	case sent.Err() != nil:
		return closeClientMessage
	case gone.Err() != nil:
		return closePeerGone
	}
	return nil
}

// writeFailed returns why a write failed: ended, when the socket ended,
// or the client did not take the frame in time.
func (s *Server) writeFailed(ended *closeReason, err error) *closeReason {
	if ended != nil {
		return ended
	}
	s.log.Info("websocket write failed", "err", err)
	return closeWriteFailed
}

// utc returns t in UTC, leaving the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/httpapi/apitest"
	"github.com/parley-cc/parley/internal/view"
)

// safety bounds every wait on a socket; no test asserts on time.
const safety = 10 * time.Second

// wsEnv is a test env served on a real loopback listener.
type wsEnv struct {
	*testEnv
	ts *httptest.Server
}

func newWSEnv(t *testing.T, base context.Context) *wsEnv {
	t.Helper()
	e := newTestEnv(t)
	ts := httptest.NewUnstartedServer(e.srv.Handler())
	if base != nil {
		ts.Config.BaseContext = func(net.Listener) context.Context { return base }
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return &wsEnv{testEnv: e, ts: ts}
}

// ticket asks for a WebSocket ticket with a bearer token.
func (e *wsEnv) ticket(t *testing.T, token string) string {
	t.Helper()
	res := e.kit.Do(t, apitest.Scenario{Method: "POST", URL: "/api/v1/events/ticket", Token: token, WantStatus: 201})
	var v ticketView
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Ticket
}

// dial opens /api/v1/events with a raw query.
func (e *wsEnv) dial(t *testing.T, query string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	c, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.ts.URL, "http")+"/api/v1/events?"+query, opts)
	if c != nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, res, err
}

// connect opens the socket with a new ticket and reads the hello frame.
func (e *wsEnv) connect(t *testing.T, token, query string) (*websocket.Conn, eventView) {
	t.Helper()
	q := "ticket=" + e.ticket(t, token)
	if query != "" {
		q += "&" + query
	}
	c, _, err := e.dial(t, q, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	hello := e.read(t, c)
	if hello.Type != "hello" {
		t.Fatalf("first frame is %q, want hello", hello.Type)
	}
	var data helloData
	if err := json.Unmarshal(hello.Data, &data); err != nil {
		t.Fatal(err)
	}
	if err := e.spec.CheckSchema("HelloData", hello.Data); err != nil {
		t.Errorf("hello data does not match the API document: %v", err)
	}
	return c, hello
}

// read reads one frame and checks it against the documented EventFrame.
func (e *wsEnv) read(t *testing.T, c *websocket.Conn) eventView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("frame type %v, want text", typ)
	}
	if err := e.spec.CheckSchema("EventFrame", b); err != nil {
		t.Errorf("frame %s does not match the API document: %v", b, err)
	}
	var v eventView
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// readClose reads until the socket closes and returns the close error.
func readClose(t *testing.T, c *websocket.Conn) websocket.CloseError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err == nil {
			t.Logf("frame before close: %s", b)
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("read: %v, want a close frame", err)
		}
		return ce
	}
}

func TestWebSocketHelloReplayLive(t *testing.T) {
	e := newWSEnv(t, nil)
	alice := e.svc.newSession("acme", "alice", time.Hour)
	// seq 4: alice's state change; seq 1-3 are the fixture's.
	e.kit.Do(t, apitest.Scenario{Method: "PUT", URL: "/api/v1/me/state", Token: alice, Body: `{"state":"available"}`, WantStatus: 200})

	c, hello := e.connect(t, alice, "after=1")
	var data helloData
	json.Unmarshal(hello.Data, &data)
	if data.Presence.State != cc.StateAvailable || len(data.Queues) != 1 || data.Queues[0].ID != "que_sales" || data.Version != "1.2.3" {
		t.Errorf("hello data = %+v", data)
	}

	// Replay: alice's events after seq 1, not bob's (seq 3).
	for _, want := range []struct {
		seq int64
		typ cc.EventType
	}{{2, cc.EventInteractionConnected}, {4, cc.EventAgentState}} {
		f := e.read(t, c)
		if f.Seq != want.seq || f.Type != string(want.typ) {
			t.Errorf("replayed frame = seq %d %s, want seq %d %s", f.Seq, f.Type, want.seq, want.typ)
		}
	}

	// Live: an event already replayed is not sent twice; new ones are.
	e.svc.Redeliver(2)
	ended := e.svc.Publish(e.svc.InteractionEvent("int_alice1", cc.EventInteractionEnded, e.clock.Now(), "customer", ""), "int_alice1", "usr_alice")
	f := e.read(t, c)
	var payload view.InteractionEvent
	if err := json.Unmarshal(f.Data, &payload); err != nil {
		t.Fatal(err)
	}
	if f.Seq != ended.Seq || f.Type != string(cc.EventInteractionEnded) || f.InteractionID != "int_alice1" ||
		payload.Reason != "customer" || payload.Interaction == nil || payload.Interaction.ID != "int_alice1" || payload.Interaction.QueueName != "Sales" {
		t.Errorf("live frame = %+v with data %s, want seq %d interaction.ended of int_alice1 by the customer", f, f.Data, ended.Seq)
	}
	if !f.At.Equal(e.clock.Now()) {
		t.Errorf("live frame at %s, want %s", f.At, e.clock.Now())
	}
	// Not visible to alice: bob's interaction. Then a queue status (not stored).
	e.svc.Publish(e.svc.InteractionEvent("int_bob1", cc.EventInteractionEnded, e.clock.Now(), "agent", ""), "int_bob1", "usr_bob")
	status := view.QueueStatusEvent{Queue: view.NewQueueStatus(&cc.QueueStatus{QueueID: "que_sales", Name: "Sales", Waiting: 3})}
	e.svc.Publish(cc.NewEvent("ten_acme", cc.EventQueueStatus, e.clock.Now(), status), "", "")
	f = e.read(t, c)
	if f.Type != string(cc.EventQueueStatus) || f.Seq != 0 || !strings.Contains(string(f.Data), `"waiting":3`) {
		t.Errorf("frame = %+v with data %s, want the queue status", f, f.Data)
	}
}

func TestWebSocketWithoutAfterSendsOnlyLive(t *testing.T) {
	e := newWSEnv(t, nil)
	alice := e.svc.newSession("acme", "alice", time.Hour)
	c, _ := e.connect(t, alice, "")
	ev := e.svc.Publish(e.svc.InteractionEvent("int_alice1", cc.EventInteractionWrapped, e.clock.Now(), "alice", ""), "int_alice1", "usr_alice")
	if f := e.read(t, c); f.Seq != ev.Seq {
		t.Errorf("first frame after hello has seq %d, want the live event's %d (no replay without after)", f.Seq, ev.Seq)
	}
}

func TestWebSocketTickets(t *testing.T) {
	e := newWSEnv(t, nil)
	alice := e.svc.newSession("acme", "alice", time.Hour)

	t.Run("no ticket", func(t *testing.T) {
		_, res, err := e.dial(t, "", nil)
		if err == nil || res == nil || res.StatusCode != 401 {
			t.Fatalf("dial without ticket: res %v, err %v; want 401", res, err)
		}
	})
	t.Run("bearer header is not a ticket", func(t *testing.T) {
		_, res, err := e.dial(t, "", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + alice}}})
		if err == nil || res.StatusCode != 401 {
			t.Fatalf("dial with a bearer token: res %v, err %v; want 401", res, err)
		}
	})
	t.Run("single use", func(t *testing.T) {
		tk := e.ticket(t, alice)
		if _, _, err := e.dial(t, "ticket="+tk, nil); err != nil {
			t.Fatalf("first use: %v", err)
		}
		_, res, err := e.dial(t, "ticket="+tk, nil)
		if err == nil || res.StatusCode != 401 {
			t.Fatalf("second use: res %v, err %v; want 401", res, err)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		tk := e.ticket(t, alice)
		e.clock.Advance(ticketTTL)
		_, res, err := e.dial(t, "ticket="+tk, nil)
		if err == nil || res.StatusCode != 401 {
			t.Fatalf("expired ticket: res %v, err %v; want 401", res, err)
		}
	})
	t.Run("just before expiry", func(t *testing.T) {
		tk := e.ticket(t, alice)
		e.clock.Advance(ticketTTL - time.Second)
		if _, _, err := e.dial(t, "ticket="+tk, nil); err != nil {
			t.Fatalf("ticket within its 30 s: %v", err)
		}
	})
	t.Run("foreign origin", func(t *testing.T) {
		tk := e.ticket(t, alice)
		_, res, err := e.dial(t, "ticket="+tk, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
		if err == nil || res.StatusCode != 403 {
			t.Fatalf("foreign origin: res %v, err %v; want 403", res, err)
		}
	})
	t.Run("sign-out drops tickets", func(t *testing.T) {
		bob := e.svc.newSession("acme", "bob", time.Hour)
		tk := e.ticket(t, bob)
		e.kit.Do(t, apitest.Scenario{Method: "DELETE", URL: "/api/v1/sessions/current", Token: bob, WantStatus: 204})
		_, res, err := e.dial(t, "ticket="+tk, nil)
		if err == nil || res.StatusCode != 401 {
			t.Fatalf("ticket after sign-out: res %v, err %v; want 401", res, err)
		}
	})
}

func TestWebSocketFellBehind(t *testing.T) {
	e := newWSEnv(t, nil)
	alice := e.svc.newSession("acme", "alice", time.Hour)
	c, _ := e.connect(t, alice, "after=0")
	last := int64(0)
	for range 2 { // seq 1 and 2 are alice's
		last = e.read(t, c).Seq
	}
	e.svc.DropSubscribers() // the bus gives up on a subscriber that fell behind
	ce := readClose(t, c)
	if ce.Code != websocket.StatusTryAgainLater || ce.Reason != "fell behind: reconnect with after=2" || last != 2 {
		t.Fatalf("close = %d %q (last seq %d), want 1013 \"fell behind: reconnect with after=2\"", ce.Code, ce.Reason, last)
	}
	if got := counterValue(t, e.srv.metrics.socketCloses.WithLabelValues("fell_behind")); got != 1 {
		t.Errorf("fell_behind closes = %v, want 1", got)
	}

	// The client reconnects where it left off and misses nothing.
	missed := e.svc.Publish(e.svc.InteractionEvent("int_alice1", cc.EventInteractionEnded, e.clock.Now(), "customer", ""), "int_alice1", "usr_alice")
	c2, _ := e.connect(t, alice, "after=2")
	if f := e.read(t, c2); f.Seq != missed.Seq {
		t.Errorf("after reconnect got seq %d, want %d", f.Seq, missed.Seq)
	}
}

func TestWebSocketClosesOnServerClose(t *testing.T) {
	e := newWSEnv(t, nil)
	alice := e.svc.newSession("acme", "alice", time.Hour)
	c, _ := e.connect(t, alice, "after=0")
	e.read(t, c)
	e.read(t, c) // seq 1 and 2
	closed := make(chan struct{})
	go func() { e.srv.Close(); close(closed) }()
	if ce := readClose(t, c); ce.Code != websocket.StatusGoingAway || ce.Reason != "server shutting down: reconnect with after=2" {
		t.Fatalf("close = %d %q, want 1001 \"server shutting down: reconnect with after=2\"", ce.Code, ce.Reason)
	}
	<-closed // Close returns once the sockets are closed
	if n := e.svc.Subscribers(); n != 0 {
		t.Errorf("%d subscriptions left after close", n)
	}
	// After Close, new sockets are refused the same way.
	c2, _, err := e.dial(t, "ticket="+e.ticket(t, alice), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ce := readClose(t, c2); ce.Code != websocket.StatusGoingAway {
		t.Fatalf("close of a socket opened after Close = %d %q, want 1001", ce.Code, ce.Reason)
	}
}

func TestWebSocketClosesWithBaseContext(t *testing.T) {
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newWSEnv(t, base)
	alice := e.svc.newSession("acme", "alice", time.Hour)
	c, _ := e.connect(t, alice, "")
	cancel()
	if ce := readClose(t, c); ce.Code != websocket.StatusGoingAway || !strings.Contains(ce.Reason, "server shutting down") {
		t.Fatalf("close = %d %q, want 1001 server shutting down", ce.Code, ce.Reason)
	}
}

func TestWebSocketClosesOnSignOut(t *testing.T) {
	e := newWSEnv(t, nil)
	alice := e.svc.newSession("acme", "alice", time.Hour)
	other := e.svc.newSession("acme", "alice", time.Hour) // alice on a second device
	c, _ := e.connect(t, alice, "")
	c2, _ := e.connect(t, other, "")
	e.kit.Do(t, apitest.Scenario{Method: "DELETE", URL: "/api/v1/sessions/current", Token: alice, WantStatus: 204})
	if ce := readClose(t, c); ce.Code != websocket.StatusPolicyViolation || ce.Reason != "signed out" {
		t.Fatalf("close = %d %q, want 1008 signed out", ce.Code, ce.Reason)
	}
	// The other session's socket stays open.
	ev := e.svc.Publish(e.svc.InteractionEvent("int_alice1", cc.EventInteractionLinked, e.clock.Now(), "linked by alice", ""), "int_alice1", "usr_alice")
	if f := e.read(t, c2); f.Seq != ev.Seq {
		t.Errorf("other session got seq %d, want %d", f.Seq, ev.Seq)
	}
}

func TestWebSocketClosesWhenTheSessionExpires(t *testing.T) {
	e := newWSEnv(t, nil)
	alice := e.svc.newSession("acme", "alice", 300*time.Millisecond)
	c, _ := e.connect(t, alice, "")
	if ce := readClose(t, c); ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "session expired") {
		t.Fatalf("close = %d %q, want 1008 session expired", ce.Code, ce.Reason)
	}
}

func TestWebSocketClientMessageCloses(t *testing.T) {
	e := newWSEnv(t, nil)
	alice := e.svc.newSession("acme", "alice", time.Hour)
	c, _ := e.connect(t, alice, "")
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"hi"}`)); err != nil {
		t.Fatal(err)
	}
	if ce := readClose(t, c); ce.Code != websocket.StatusPolicyViolation {
		t.Fatalf("close = %d %q, want 1008", ce.Code, ce.Reason)
	}
}

func TestWebSocketPings(t *testing.T) {
	e := newWSEnv(t, nil)
	e.srv.pingInterval = 5 * time.Millisecond
	alice := e.svc.newSession("acme", "alice", time.Hour)
	pinged := make(chan struct{}, 1)
	c, _, err := e.dial(t, "ticket="+e.ticket(t, alice), &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool {
			select {
			case pinged <- struct{}{}:
			default:
			}
			return true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Reading drives the ping handler.
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	select {
	case <-pinged:
	case <-time.After(safety):
		t.Fatal("no ping from the server")
	}
}

func TestWebSocketUnansweredPingCloses(t *testing.T) {
	e := newWSEnv(t, nil)
	e.srv.pingInterval = 5 * time.Millisecond
	e.srv.writeTimeout = 50 * time.Millisecond
	alice := e.svc.newSession("acme", "alice", time.Hour)
	c, _, err := e.dial(t, "ticket="+e.ticket(t, alice), &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool { return false }, // never pong
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the server kept a socket that does not answer pings")
			}
			break
		}
	}
	if got := counterValue(t, e.srv.metrics.socketCloses.WithLabelValues("ping_timeout")); got != 1 {
		t.Errorf("ping_timeout closes = %v, want 1", got)
	}
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// fakeSoftphone answers offers with a fixed SDP and records releases.
type fakeSoftphone struct {
	mu       sync.Mutex
	offers   []string // owner per offer
	released chan string
	ended    func(string)
}

func (f *fakeSoftphone) Offer(_ context.Context, p *cc.Principal, owner, sdp string, ended func(string)) (string, error) {
	if !strings.HasPrefix(sdp, "v=0") {
		return "", cc.Errorf(cc.EINVALID, "the offer is not SDP")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offers = append(f.offers, owner)
	f.ended = ended
	return "v=0 answer for " + p.User.Username, nil
}

func (f *fakeSoftphone) Release(_ *cc.Principal, owner, _ string) { f.released <- owner }

func (f *fakeSoftphone) ICEServers() []ICEServer {
	return []ICEServer{{URLs: []string{"turn:turn.example.org:3478"}, Username: "u", Credential: "c"}}
}

// readControl reads one softphone frame and checks it against the document.
func (e *wsEnv) readControl(t *testing.T, c *websocket.Conn) controlFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if err := e.spec.CheckSchema("SoftphoneFrame", b); err != nil {
		t.Errorf("frame %s does not match the API document: %v", b, err)
	}
	if strings.Contains(string(b), `"seq"`) {
		t.Errorf("control frame %s has a seq", b)
	}
	var f controlFrame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestWebSocketSoftphoneSignalling: an agent's offer is answered on the
// socket, a bad one gets softphone.error with what is wrong, the leg is
// released with the socket, and softphone.closed reaches the panel.
func TestWebSocketSoftphoneSignalling(t *testing.T) {
	e := newWSEnv(t, nil)
	sp := &fakeSoftphone{released: make(chan string, 4)}
	e.srv.softphone = sp
	alice := e.svc.newSession("acme", "alice", time.Hour)
	c, hello := e.connect(t, alice, "")
	var data helloData
	if err := json.Unmarshal(hello.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.Softphone == nil || !data.Softphone.Enabled || len(data.Softphone.ICEServers) != 1 || data.Softphone.ICEServers[0].Credential != "c" {
		t.Fatalf("hello softphone = %+v", data.Softphone)
	}
	send := func(m string) {
		ctx, cancel := context.WithTimeout(context.Background(), safety)
		defer cancel()
		if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	send(`{"type":"softphone.offer","id":"o1","sdp":"v=0 offer"}`)
	if f := e.readControl(t, c); f.Type != "softphone.answer" || f.ID != "o1" || f.SDP != "v=0 answer for alice" {
		t.Fatalf("answer = %+v", f)
	}
	send(`{"type":"softphone.offer","id":"o2","sdp":"hello"}`)
	if f := e.readControl(t, c); f.Type != "softphone.error" || f.ID != "o2" || f.Error == nil || f.Error.Code != cc.EINVALID || !strings.Contains(f.Error.Message, "not SDP") {
		t.Fatalf("error frame = %+v", f)
	}
	sp.mu.Lock()
	ended := sp.ended
	sp.mu.Unlock()
	ended("replaced by another panel")
	if f := e.readControl(t, c); f.Type != "softphone.closed" || !strings.Contains(string(f.Data), "replaced by another panel") {
		t.Fatalf("closed frame = %+v", f)
	}
	send(`{"type":"softphone.release"}`)
	if owner := <-sp.released; owner != sp.offers[0] {
		t.Fatalf("released %q, want the socket's owner %q", owner, sp.offers[0])
	}
	c.Close(websocket.StatusNormalClosure, "bye")
	select {
	case owner := <-sp.released:
		if owner != sp.offers[0] {
			t.Fatalf("released %q on close, want %q", owner, sp.offers[0])
		}
	case <-time.After(safety):
		t.Fatal("the socket closed but its leg was not released")
	}
}

// TestWebSocketSoftphoneOfferTooBig: a message over 64 KiB ends the socket.
func TestWebSocketSoftphoneOfferTooBig(t *testing.T) {
	e := newWSEnv(t, nil)
	e.srv.softphone = &fakeSoftphone{released: make(chan string, 4)}
	alice := e.svc.newSession("acme", "alice", time.Hour)
	c, _ := e.connect(t, alice, "")
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	big := `{"type":"softphone.offer","id":"x","sdp":"v=0` + strings.Repeat("a", maxClientMessage) + `"}`
	_ = c.Write(ctx, websocket.MessageText, []byte(big))
	if ce := readClose(t, c); ce.Code != websocket.StatusMessageTooBig {
		t.Fatalf("close = %d %q, want 1009", ce.Code, ce.Reason)
	}
}

// TestWebSocketSoftphoneOrderAndRoles: offers on one socket are answered in
// the order they came; a supervisor's offer is refused as not an agent's.
func TestWebSocketSoftphoneOrderAndRoles(t *testing.T) {
	e := newWSEnv(t, nil)
	sp := &fakeSoftphone{released: make(chan string, 8)}
	e.srv.softphone = sp
	alice := e.svc.newSession("acme", "alice", time.Hour)
	c, _ := e.connect(t, alice, "")
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	for _, id := range []string{"a1", "a2", "a3"} {
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"softphone.offer","id":"`+id+`","sdp":"v=0"}`)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"a1", "a2", "a3"} {
		if f := e.readControl(t, c); f.Type != "softphone.answer" || f.ID != id {
			t.Fatalf("got %+v, want the answer to %s (in order)", f, id)
		}
	}
	sue := e.svc.newSession("acme", "sue", time.Hour)
	s, hello := e.connect(t, sue, "")
	var data helloData
	if err := json.Unmarshal(hello.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.Softphone != nil {
		t.Errorf("a supervisor's hello has a softphone: %+v", data.Softphone)
	}
	if err := s.Write(ctx, websocket.MessageText, []byte(`{"type":"softphone.offer","id":"s1","sdp":"v=0"}`)); err != nil {
		t.Fatal(err)
	}
	if f := e.readControl(t, s); f.Type != "softphone.error" || f.Error == nil || f.Error.Code != cc.EFORBIDDEN || !strings.Contains(f.Error.Message, "not an agent") {
		t.Fatalf("a supervisor's offer: %+v, want forbidden: not an agent", f)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-cc/parley/internal/testkit/loadkit"
	"github.com/parley-cc/parley/internal/testkit/rtcclient"
)

// agentToneHz is what every agent's browser leg sends; callerToneHz what
// every caller sends.
const (
	agentToneHz  = 440
	callerToneHz = 1000
)

// signInsPerSource is how many agents sign in from one loopback address:
// Parley allows 30 sign-in attempts a minute from one client address, so
// the agents come from 127.0.1.1, 127.0.1.2... as the panels of a contact
// center come from many machines.
const signInsPerSource = 25

// sourceAddr is the loopback address agent i signs in and talks from.
func sourceAddr(i int) net.IP { return net.IPv4(127, 0, 1, byte(1+i/signInsPerSource)) }

// agent is one signed-in browser agent: its session, its events socket
// and its softphone leg (a Go WebRTC client sending agentToneHz).
type agent struct {
	i        int
	name     string
	base     string // Parley's HTTP base URL
	http     *http.Client
	token    string
	userID   string
	ws       *websocket.Conn
	rtc      *rtcclient.Client
	answers  chan controlFrame
	calls    *callBook
	readDone chan struct{}

	mu        sync.Mutex
	state     string // presence state, from the socket's agent.state frames
	accepting string // the interaction being accepted
	hear      toneDetector
	hearCall  *call // the call whose customer tone is awaited
	acceptErr error
}

// controlFrame is a frame of the events socket: an event or a softphone
// reply.
type controlFrame struct {
	Type  string          `json:"type"`
	ID    string          `json:"id"`
	SDP   string          `json:"sdp"`
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func newAgent(i int, base string, calls *callBook) *agent {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: sourceAddr(i)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}
	return &agent{
		i: i, name: loadkit.AgentName(i), base: base, http: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		answers: make(chan controlFrame, 1), calls: calls, readDone: make(chan struct{}), hear: toneDetector{hz: callerToneHz},
	}
}

// api sends one request with the agent's token and decodes a JSON reply
// into out (may be nil). A status other than 2xx is an error that quotes
// Parley's message.
func (a *agent) api(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		return &apiError{Status: res.StatusCode, Msg: fmt.Sprintf("%s %s: %s: %s", method, path, res.Status, strings.TrimSpace(string(b)))}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode the reply: %w", method, path, err)
		}
	}
	return nil
}

// apiError is a reply other than 2xx.
type apiError struct {
	Status int
	Msg    string
}

func (e *apiError) Error() string { return e.Msg }

// signIn signs the agent in and opens its events socket, as the panel
// does.
func (a *agent) signIn(ctx context.Context, tenant, password string) error {
	var s struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := a.api(ctx, http.MethodPost, "/api/v1/sessions", map[string]string{"tenant": tenant, "username": a.name, "password": password}, &s); err != nil {
		return err
	}
	a.token, a.userID = s.Token, s.User.ID
	var t struct {
		Ticket string `json:"ticket"`
	}
	if err := a.api(ctx, http.MethodPost, "/api/v1/events/ticket", map[string]string{}, &t); err != nil {
		return err
	}
	u := strings.Replace(a.base, "http", "ws", 1) + "/api/v1/events?ticket=" + url.QueryEscape(t.Ticket)
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: a.http})
	if err != nil {
		return fmt.Errorf("open the events socket: %w", err)
	}
	ws.SetReadLimit(4 << 20)
	a.ws = ws
	go a.read()
	return nil
}

// connectAudio connects the agent's audio as the panel does (offer ->
// softphone.offer -> softphone.answer -> connected) and makes it
// available.
func (a *agent) connectAudio(ctx context.Context) error {
	ws := a.ws
	rtc, err := rtcclient.New(rtcclient.Options{ToneHz: agentToneHz, OnAudio: a.onAudio})
	if err != nil {
		return err
	}
	a.rtc = rtc
	offer, err := rtc.Offer()
	if err != nil {
		return err
	}
	msg, _ := json.Marshal(map[string]string{"type": "softphone.offer", "id": "load-1", "sdp": offer})
	if err := ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return fmt.Errorf("send softphone.offer: %w", err)
	}
	var f controlFrame
	select {
	case f = <-a.answers:
	case <-a.readDone:
		return errors.New("the events socket closed before the softphone answer")
	case <-ctx.Done():
		return fmt.Errorf("wait for the softphone answer: %w", ctx.Err())
	}
	if f.Type == "softphone.error" {
		return fmt.Errorf("softphone.offer refused: %s", f.Error.Message)
	}
	if err := rtc.Answer(f.SDP); err != nil {
		return err
	}
	if err := rtc.Connected(ctx); err != nil {
		return err
	}
	// The server's side of the leg is live a moment after the client's:
	// until then going available is refused (409).
	for try := 0; ; try++ {
		err := a.api(ctx, http.MethodPut, "/api/v1/me/state", map[string]string{"state": "available"}, nil)
		var ae *apiError
		if err == nil || !errors.As(err, &ae) || ae.Status != http.StatusConflict || try >= 50 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// read reads the events socket until it closes: softphone replies go to
// signIn, offers to this agent are accepted, presence is recorded.
func (a *agent) read() {
	defer close(a.readDone)
	ctx := context.Background()
	for {
		_, b, err := a.ws.Read(ctx)
		if err != nil {
			return
		}
		var f controlFrame
		if json.Unmarshal(b, &f) != nil {
			continue
		}
		switch f.Type {
		case "softphone.answer", "softphone.error":
			select {
			case a.answers <- f:
			default:
			}
		case "agent.state":
			var d struct {
				Presence struct {
					UserID string `json:"user_id"`
					State  string `json:"state"`
				} `json:"presence"`
			}
			if json.Unmarshal(f.Data, &d) == nil && d.Presence.UserID == a.userID {
				a.mu.Lock()
				a.state = d.Presence.State
				a.mu.Unlock()
			}
		case "interaction.offered":
			var d struct {
				Interaction struct {
					ID       string `json:"id"`
					AgentID  string `json:"agent_id"`
					Customer struct {
						Number string `json:"number"`
					} `json:"customer"`
				} `json:"interaction"`
			}
			if json.Unmarshal(f.Data, &d) == nil && d.Interaction.AgentID == a.userID {
				go a.accept(d.Interaction.ID, d.Interaction.Customer.Number)
			}
		}
	}
}

// accept accepts an offered interaction: the accept time is taken just
// before the request, and from then the agent listens for the caller's
// tone.
func (a *agent) accept(id, number string) {
	c := a.calls.byNumber(number)
	a.mu.Lock()
	if a.accepting == id {
		a.mu.Unlock()
		return
	}
	a.accepting = id
	a.hear = toneDetector{hz: callerToneHz}
	a.hearCall = c
	a.mu.Unlock()
	if c != nil {
		c.accepted(time.Now(), a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.api(ctx, http.MethodPost, "/api/v1/interactions/"+url.PathEscape(id)+"/accept", map[string]string{}, nil); err != nil && c != nil {
		c.fail(fmt.Errorf("%s could not accept: %w", a.name, err))
	}
}

// onAudio times the first caller tone after an accept.
func (a *agent) onAudio(payload []byte) {
	now := time.Now()
	a.mu.Lock()
	c := a.hearCall
	if c == nil || !a.hear.frame(payload, now) {
		a.mu.Unlock()
		return
	}
	at := a.hear.found
	a.hearCall = nil
	a.mu.Unlock()
	c.agentHeard(at)
}

// presence returns the agent's last known state.
func (a *agent) presence() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// signOut ends the session (which closes the socket and so the leg) and
// closes the WebRTC client.
func (a *agent) signOut(ctx context.Context) {
	if a.token != "" {
		_ = a.api(ctx, http.MethodDelete, "/api/v1/sessions/current", nil, nil)
		a.token = ""
	}
	if a.ws != nil {
		_ = a.ws.Close(websocket.StatusNormalClosure, "load test over")
		a.ws = nil
	}
	if a.rtc != nil {
		_ = a.rtc.Close()
		a.rtc = nil
	}
	a.http.CloseIdleConnections()
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/config"
	"github.com/parley-cc/parley/internal/devcrm"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// testEnv is a whole Parley on loopback for end-to-end tests: devcrm on its
// own port, the demo tenant seeded by the demo's own code, the server built
// as Main with free ports and a temp data dir.
type testEnv struct {
	t       *testing.T
	ctx     context.Context
	dir     string
	crmAddr string
	crm     *devcrm.Server
	m       *Main
	info    *demoFile
	sipPort int
	sipAddr string
	// httpAddr is Parley's HTTP listener, fixed for the test so that its
	// public URL (single sign-on's callback) is known before it starts and
	// stays the same across restartParley.
	httpAddr string
	http     string
	logs     *syncBuffer
	// browserAgents are the demo agents left in the browser panel; every
	// other demo agent takes calls on a SIP phone (see withBrowserAgents).
	browserAgents []string
	// configure changes Parley's configuration before each start.
	configure []func(*config.Config)
}

// envOption changes how startEnv sets Parley up.
type envOption func(*testEnv)

// withConfig changes Parley's configuration (as its config file would)
// before it starts, and again before each restart.
func withConfig(fn func(*config.Config)) envOption {
	return func(e *testEnv) { e.configure = append(e.configure, fn) }
}

// withBrowserAgents keeps the named demo agents on the browser endpoint
// the demo gives alice. Without it every demo agent with a SIP login takes
// calls on a SIP phone, as the tests that drive agents with SIP phones need.
func withBrowserAgents(names ...string) envOption {
	return func(e *testEnv) { e.browserAgents = append(e.browserAgents, names...) }
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	e := &testEnv{t: t, ctx: context.Background(), dir: t.TempDir(), logs: &syncBuffer{}}
	for _, o := range opts {
		o(e)
	}
	e.crmAddr = fmt.Sprintf("127.0.0.1:%d", sippeer.FreePort(t))
	e.sipPort = sippeer.FreePort(t)
	e.sipAddr = fmt.Sprintf("127.0.0.1:%d", e.sipPort)
	e.httpAddr = fmt.Sprintf("127.0.0.1:%d", sippeer.FreePort(t))
	e.startCRM()
	e.startParley()
	t.Cleanup(func() {
		if e.m != nil {
			e.m.Close()
		}
		if e.crm != nil {
			e.crm.Close()
		}
		if t.Failed() {
			t.Logf("parley log:\n%s", tail(e.logs.String(), 200))
		}
	})
	return e
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

func (e *testEnv) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (e *testEnv) startCRM() {
	e.t.Helper()
	crm, err := devcrm.New(devcrm.Config{Addr: e.crmAddr, DBPath: filepath.Join(e.dir, "devcrm.db"), Logger: e.logger().With("component", "devcrm"), EnableTestHooks: true})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := crm.Start(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.crm = crm
}

func (e *testEnv) stopCRM() {
	e.crm.Close()
	e.crm = nil
}

func (e *testEnv) startParley() {
	e.t.Helper()
	m := NewMain()
	if err := m.configure("", e.dir, e.httpAddr, e.sipAddr); err != nil {
		e.t.Fatal(err)
	}
	m.Config.SIP.RTPPorts = ""
	for _, fn := range e.configure {
		fn(&m.Config)
	}
	m.Logger = e.logger()
	info, err := seedDemo(e.ctx, m, e.crm)
	if err != nil {
		e.t.Fatalf("seed: %v", err)
	}
	e.setEndpoints(info)
	if err := writeDemoFile(filepath.Join(e.dir, "demo.json"), info); err != nil {
		e.t.Fatal(err)
	}
	if err := m.Run(e.ctx); err != nil {
		e.t.Fatalf("run: %v", err)
	}
	// As the demo: devcrm's call center frames this Parley's panel, and
	// alice and bob get devcrm sign-ins with the softphone.
	if info.CRMUsers, err = seedDemoCRMUsers(e.ctx, m.HTTPURL(), e.crm, info.tenants, info.prev); err != nil {
		m.Close()
		e.t.Fatalf("seed devcrm's call center: %v", err)
	}
	e.m, e.info, e.http = m, info, m.HTTPURL()
}

// setEndpoints puts the demo agents with a SIP login on their SIP phones,
// but those in e.browserAgents in the browser panel, with the admin command
// a reader of the README runs, and records the choice in info.
func (e *testEnv) setEndpoints(info *demoFile) {
	e.t.Helper()
	for i, u := range info.Users {
		if u.Role != string(cc.RoleAgent) || u.SIPUsername == "" {
			continue
		}
		endpoint := cc.EndpointSIP
		if slices.Contains(e.browserAgents, u.Username) {
			endpoint = cc.EndpointBrowser
		}
		var out, errOut bytes.Buffer
		args := []string{"--data", e.dir, "user", "set", "--tenant", info.Tenant, "--username", u.Username, "--endpoint", string(endpoint)}
		if err := runAdmin(e.ctx, args, &out, &errOut); err != nil {
			e.t.Fatalf("parley admin %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
		}
		info.Users[i].Endpoint = string(endpoint)
	}
}

// restartParley stops the server (as a crash would leave it: no drain)
// and starts a new one on the same data.
func (e *testEnv) restartParley() {
	e.t.Helper()
	e.m.Close()
	e.m = nil
	e.startParley()
}

func (e *testEnv) user(name string) demoUser {
	for _, u := range e.info.Users {
		if u.Username == name {
			return u
		}
	}
	e.t.Fatalf("no demo user %s", name)
	return demoUser{}
}

// api calls the REST API and decodes a JSON answer into out (if not nil).
func (e *testEnv) api(method, path, token string, body any, out any) int {
	e.t.Helper()
	status, b := e.apiBody(method, path, token, body)
	if out != nil && status < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	if status >= 300 && out != nil {
		e.t.Logf("%s %s: %d %s", method, path, status, b)
	}
	return status
}

func (e *testEnv) signIn(name string) string {
	e.t.Helper()
	var out struct{ Token string }
	if st := e.api("POST", "/api/v1/sessions", "", map[string]string{"tenant": "acme", "username": name, "password": e.user(name).Password}, &out); st != 201 {
		e.t.Fatalf("sign in %s: status %d", name, st)
	}
	return out.Token
}

func (e *testEnv) setState(token, state, reason string) {
	e.t.Helper()
	body := map[string]string{"state": state}
	if reason != "" {
		body["reason"] = reason
	}
	var out map[string]any
	if st := e.api("PUT", "/api/v1/me/state", token, body, &out); st != 200 {
		e.t.Fatalf("set state %s: status %d", state, st)
	}
}

// apiInteraction is the part of an interaction the tests read.
type apiInteraction struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Outcome  string `json:"outcome"`
	AgentID  string `json:"agent_id"`
	Offers   int    `json:"offers"`
	Wait     int    `json:"wait_seconds"`
	Talk     int    `json:"talk_seconds"`
	Customer struct {
		Number   string `json:"number"`
		Withheld bool   `json:"withheld"`
	} `json:"customer"`
	Matches []struct {
		Type, ID, Name string
	} `json:"matches"`
	Log struct {
		Status, Ref, Error string
	} `json:"log"`
	History []struct {
		Type string `json:"type"`
	} `json:"history"`
}

func (e *testEnv) interactions(token string) []apiInteraction {
	e.t.Helper()
	var out []apiInteraction
	if st := e.api("GET", "/api/v1/interactions", token, nil, &out); st != 200 {
		e.t.Fatalf("list interactions: %d", st)
	}
	return out
}

func (e *testEnv) interaction(token, id string) apiInteraction {
	e.t.Helper()
	var out apiInteraction
	if st := e.api("GET", "/api/v1/interactions/"+id, token, nil, &out); st != 200 {
		e.t.Fatalf("get interaction %s: %d", id, st)
	}
	return out
}

// crmQuery runs SOQL against devcrm with the demo's client credentials.
func (e *testEnv) crmQuery(soql string) []map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.crm.URL()+"/services/data/v62.0/query?q="+url.QueryEscape(soql), nil)
	req.Header.Set("Authorization", "Bearer "+e.crmToken())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Records []map[string]any `json:"records"`
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		e.t.Fatalf("devcrm query: %d %s", res.StatusCode, b)
	}
	json.Unmarshal(b, &out)
	return out.Records
}

// eventStream collects the frames of an events WebSocket.
type eventStream struct {
	mu     sync.Mutex
	frames []eventFrame
	conn   *websocket.Conn
}

type eventFrame struct {
	Type          string          `json:"type"`
	Seq           int64           `json:"seq"`
	InteractionID string          `json:"interaction_id"`
	UserID        string          `json:"user_id"`
	Data          json.RawMessage `json:"data"`
}

func (e *testEnv) events(token string) *eventStream {
	e.t.Helper()
	var tk struct{ Ticket string }
	if st := e.api("POST", "/api/v1/events/ticket", token, nil, &tk); st != 201 {
		e.t.Fatalf("ticket: %d", st)
	}
	ws := "ws" + strings.TrimPrefix(e.http, "http") + "/api/v1/events?ticket=" + url.QueryEscape(tk.Ticket)
	conn, _, err := websocket.Dial(e.ctx, ws, nil)
	if err != nil {
		e.t.Fatalf("events: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	s := &eventStream{conn: conn}
	go func() {
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var f eventFrame
			if json.Unmarshal(b, &f) == nil {
				s.mu.Lock()
				s.frames = append(s.frames, f)
				s.mu.Unlock()
			}
		}
	}()
	e.t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	return s
}

// wait returns the first frame of the type that pred accepts.
func (s *eventStream) wait(t *testing.T, typ string, pred func(eventFrame) bool) eventFrame {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for _, f := range s.frames {
			if f.Type == typ && (pred == nil || pred(f)) {
				s.mu.Unlock()
				return f
			}
		}
		s.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s event within 20s", typ)
	return eventFrame{}
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeTone(t *testing.T, name string, hz float64, dur, pad time.Duration) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := sippeer.WriteToneWAV(p, hz, dur, 0.5, sippeer.WithSilence(pad)); err != nil {
		t.Fatal(err)
	}
	return p
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/devcrm"
	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// The failure paths of Parley's core promise, end to end: real SIP peers
// (baresip, SIPp, Parley's own user agent for plain status checks) against
// a whole Parley on loopback with the demo tenant and devcrm.

// skipIfShort skips a test that takes more than a few seconds under -short.
func skipIfShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end call test: skipped with -short")
	}
}

// apiBody calls the REST API and returns the status and the body as it is.
func (e *testEnv) apiBody(method, path, token string, body any) (int, []byte) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.http+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	return res.StatusCode, b
}

// apiMe is the part of GET /api/v1/me the tests read (getMe).
type apiMe struct {
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Presence struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	} `json:"presence"`
}

func (e *testEnv) getMe(token string) apiMe {
	e.t.Helper()
	var out apiMe
	if st := e.api("GET", "/api/v1/me", token, nil, &out); st != 200 {
		e.t.Fatalf("GET /api/v1/me: %d", st)
	}
	return out
}

// admin runs the real admin CLI on the test's data directory and makes the
// running center pick the change up at once.
func (e *testEnv) admin(args ...string) string {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(e.ctx, append([]string{"admin", "--data", e.dir}, args...), &stdout, &stderr); code != 0 {
		e.t.Fatalf("parley admin %s: exit %d: %s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	if e.m != nil {
		e.m.Center.ReloadConfig(e.ctx)
	}
	return stdout.String()
}

// setStaticContact makes uri the SIP endpoint that rings for the demo user.
func (e *testEnv) setStaticContact(username, uri string) {
	e.t.Helper()
	e.admin("user", "set", "--tenant", demoTenant, "--username", username, "--static-contact", uri)
}

// newestInteraction waits until the newest interaction the token's user
// sees is one that pred accepts, and returns it.
func (e *testEnv) newestInteraction(token, what string, pred func(apiInteraction) bool) apiInteraction {
	e.t.Helper()
	var found apiInteraction
	eventually(e.t, 30*time.Second, what, func() bool {
		its := e.interactions(token)
		if len(its) == 0 || !pred(its[0]) {
			return false
		}
		found = its[0]
		return true
	})
	return found
}

// crmToken signs in to devcrm with the demo's client credentials.
func (e *testEnv) crmToken() string {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.info.CRMClient.ID}, "client_secret": {e.info.CRMClient.Secret}}
	res, err := http.PostForm(e.crm.URL()+"/services/oauth2/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		e.t.Fatalf("devcrm token: status %d, %v", res.StatusCode, err)
	}
	return tok.AccessToken
}

// crmStatus makes a REST GET on devcrm and returns its status.
func (e *testEnv) crmStatus(path string) int {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.crm.URL()+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.crmToken())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// tasksFor returns the CRM Tasks logged for an interaction.
func (e *testEnv) tasksFor(id string) []map[string]any {
	e.t.Helper()
	return e.crmQuery("SELECT Id, Subject, CallObject, CallDurationInSeconds, CallDisposition FROM Task WHERE CallObject = '" + id + "'")
}

// waitDelivered waits until the interaction's CRM log is delivered and
// checks that exactly one Task carries it.
func (e *testEnv) waitDelivered(token, id string, timeout time.Duration) map[string]any {
	e.t.Helper()
	eventually(e.t, timeout, "the CRM log of "+id, func() bool { return e.interaction(token, id).Log.Status == "delivered" })
	tasks := e.tasksFor(id)
	if len(tasks) != 1 {
		e.t.Fatalf("%d Tasks with CallObject %s, want exactly 1: %v", len(tasks), id, tasks)
	}
	if ref := e.interaction(token, id).Log.Ref; ref != tasks[0]["Id"] {
		e.t.Errorf("log ref %q, but the Task is %v", ref, tasks[0]["Id"])
	}
	return tasks[0]
}

// uaCall is a call placed by Parley's own user agent, running in the
// background until hangup.
type uaCall struct {
	cancel context.CancelFunc
	done   chan struct{}
	res    *sipua.Result
	err    error
}

// newUA starts a user agent for the test; it is closed when the test ends.
func newUA(t *testing.T, opts sipua.Options) *sipua.UA {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ua, err := sipua.New(ctx, opts, nil)
	if err != nil {
		cancel()
		t.Fatalf("start a SIP user agent on %s: %v", opts.Bind, err)
	}
	t.Cleanup(func() {
		cancel()
		ua.Close()
	})
	return ua
}

// statusUA returns a user agent whose answered calls hang up at once, for
// checking the SIP status of INVITEs.
func statusUA(t *testing.T, opts sipua.Options) *sipua.UA {
	t.Helper()
	opts.Duration = 100 * time.Millisecond
	return newUA(t, opts)
}

// inviteStatus places a call and returns its outcome.
func inviteStatus(t *testing.T, ua *sipua.UA, uri string) *sipua.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := ua.Call(ctx, uri)
	if err != nil {
		t.Fatalf("call %s: %v", uri, err)
	}
	return res
}

// startUACall places a call in the background; it stays up until hangup
// or the far end hangs up.
func startUACall(t *testing.T, opts sipua.Options, uri string) *uaCall {
	t.Helper()
	ua := newUA(t, opts)
	ctx, cancel := context.WithCancel(context.Background())
	c := &uaCall{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.res, c.err = ua.Call(ctx, uri)
	}()
	t.Cleanup(func() {
		cancel()
		<-c.done
	})
	return c
}

// hangup ends the call and returns its outcome.
func (c *uaCall) hangup(t *testing.T) *sipua.Result {
	t.Helper()
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the user agent's call did not end within 30s of hanging up")
	}
	if c.err != nil {
		t.Fatalf("call: %v", c.err)
	}
	return c.res
}

// startBaresip starts a baresip softphone with an account line and a tone
// as its microphone (0 Hz: silence).
func startBaresip(t *testing.T, name, account string, hz float64) *sippeer.Baresip {
	t.Helper()
	cfg := sippeer.BaresipConfig{Name: name, Account: account}
	if hz > 0 {
		cfg.SourceWAV = writeTone(t, fmt.Sprintf("%s%.0f.wav", name, hz), hz, 60*time.Second, 0)
	}
	return sippeer.StartBaresip(t, cfg)
}

// waitCtx is a context for one wait on a peer.
func waitCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestInviteFromOutsideTrunkIsForbidden: a source address no trunk allows
// gets 403 and creates nothing; the trunk's own address still gets in.
func TestInviteFromOutsideTrunkIsForbidden(t *testing.T) {
	e := startEnv(t)
	e.admin("trunk", "set", "--tenant", demoTenant, "--name", "loopback", "--cidr", "127.0.0.1/32")
	outside := statusUA(t, sipua.Options{Bind: fmt.Sprintf("127.0.0.2:%d", sippeer.FreePort(t)), From: "2015550123"})
	// The SIP side caches trunks for a moment: an unknown number answers
	// 404 from an allowed source and 403 once the /32 applies, without
	// ever creating an interaction.
	eventually(t, 20*time.Second, "403 for 127.0.0.2 after the trunk change", func() bool {
		return inviteStatus(t, outside, "sip:+15559999@"+e.sipAddr).Status == 403
	})
	res := inviteStatus(t, outside, "sip:+15550100@"+e.sipAddr)
	if res.Status != 403 || res.Answered {
		t.Fatalf("INVITE from 127.0.0.2 to the Sales number: %s, want 403", res)
	}
	sam := e.signIn("sam")
	if its := e.interactions(sam); len(its) != 0 {
		t.Fatalf("a refused INVITE created %d interactions: %+v", len(its), its)
	}
	// Control: the same call from the trunk's address is taken.
	res = inviteStatus(t, statusUA(t, sipua.Options{From: "2015550123"}), "sip:+15550100@"+e.sipAddr)
	if res.Status != 200 || !res.Answered {
		t.Fatalf("INVITE from 127.0.0.1 to the Sales number: %s, want 200", res)
	}
	e.newestInteraction(sam, "the interaction of the allowed call", func(it apiInteraction) bool { return it.Customer.Number == "+12015550123" })
}

// TestUnknownNumberIsNotFound: a number (or alias) without an entry point
// gets 404 and creates nothing.
func TestUnknownNumberIsNotFound(t *testing.T) {
	e := startEnv(t)
	ua := statusUA(t, sipua.Options{From: "2015550123"})
	for _, to := range []string{"+15559999", "15559998", "nosuchqueue"} {
		res := inviteStatus(t, ua, "sip:"+to+"@"+e.sipAddr)
		if res.Status != 404 || res.Answered {
			t.Errorf("INVITE to %s: %s, want 404", to, res)
		}
	}
	if its := e.interactions(e.signIn("sam")); len(its) != 0 {
		t.Fatalf("INVITEs to unknown numbers created %d interactions: %+v", len(its), its)
	}
}

// TestWrongDigestIsNotRegistered: a phone with the wrong SIP password is
// refused after the challenge, so the agent cannot go available; with the
// right password it can.
func TestWrongDigestIsNotRegistered(t *testing.T) {
	sippeer.RequireTool(t, sippeer.ToolBaresip)
	e := startEnv(t)
	alice := e.user("alice")
	token := e.signIn("alice")

	wrong := startBaresip(t, "wrongpw", fmt.Sprintf("<sip:%s@%s>;auth_user=%s;auth_pass=%s;regint=60", alice.SIPUsername, e.sipAddr, alice.SIPUsername, alice.SIPPassword+"x"), 0)
	line, err := wrong.WaitRegistrationFailed(waitCtx(t, 30*time.Second))
	if err != nil {
		t.Fatalf("a phone with the wrong password: %v", err)
	}
	if !strings.Contains(line, "403") {
		t.Fatalf("registration with the wrong password ended with %q, want 403 Forbidden", line)
	}
	wrong.Stop()
	st, body := e.apiBody("PUT", "/api/v1/me/state", token, map[string]string{"state": "available"})
	if st != 409 || !strings.Contains(string(body), `SIP user \"`+alice.SIPUsername+`\"`) {
		t.Fatalf("available without a registered phone: %d %s, want 409 naming SIP user %q", st, body, alice.SIPUsername)
	}
	if p := e.getMe(token).Presence; p.State != "logged_out" {
		t.Fatalf("after the refused change alice is %+v, want logged_out", p)
	}

	right := startBaresip(t, "rightpw", fmt.Sprintf("<sip:%s@%s>;auth_user=%s;auth_pass=%s;regint=60", alice.SIPUsername, e.sipAddr, alice.SIPUsername, alice.SIPPassword), 0)
	if err := right.WaitRegistered(waitCtx(t, 30*time.Second)); err != nil {
		t.Fatalf("a phone with the right password: %v", err)
	}
	e.setState(token, "available", "")
	if p := e.getMe(token).Presence; p.State != "available" {
		t.Fatalf("alice is %+v after registering, want available", p)
	}
}

// TestCallerAbandonsInQueue: the caller hangs up while no agent is
// available; the interaction ends abandoned with its wait time, and still
// gets its CRM Task.
func TestCallerAbandonsInQueue(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	res := sippeer.RunSIPp(t, sippeer.SIPpRun{Scenario: sippeer.ScenarioCall, Target: e.sipAddr, Service: "+15550100",
		Keys: map[string]string{"talk_ms": "3000", "from_user": "2015550123"}})
	if !res.OK() {
		t.Fatalf("caller: %s", res)
	}
	sam := e.signIn("sam")
	it := e.newestInteraction(sam, "the abandoned interaction", func(it apiInteraction) bool { return it.State == "ended" })
	if it.Outcome != "abandoned" || it.AgentID != "" || it.Offers != 0 {
		t.Fatalf("interaction %+v, want abandoned, never offered", it)
	}
	if it.Wait < 2 {
		t.Errorf("wait %ds, want the 3s the caller waited", it.Wait)
	}
	task := e.waitDelivered(sam, it.ID, 30*time.Second)
	if s, _ := task["Subject"].(string); !strings.Contains(s, "Abandoned") {
		t.Errorf("Task subject %q does not say the call was abandoned", s)
	}
	if d, _ := task["CallDurationInSeconds"].(float64); d != 0 {
		t.Errorf("Task CallDurationInSeconds %v, want 0 (no talk)", task["CallDurationInSeconds"])
	}
}

// TestRingNoAnswerRequeuesToNextAgent: alice's phone rings and never
// answers; after the offer timeout Parley cancels it, makes alice not ready
// (ring-no-answer) and offers the call to bob, who answers.
func TestRingNoAnswerRequeuesToNextAgent(t *testing.T) {
	skipIfShort(t)
	sippeer.RequireTool(t, sippeer.ToolBaresip)
	e := startEnv(t)
	e.admin("queue", "set", "--tenant", demoTenant, "--name", "Sales", "--offer-timeout", "3s")
	ringing := sippeer.StartSIPpUAS(t, sippeer.SIPpUAS{Scenario: sippeer.ScenarioRing, Service: "alice", Calls: 1})
	echo := sippeer.StartSIPpUAS(t, sippeer.SIPpUAS{Scenario: sippeer.ScenarioEcho, Service: "bob", Calls: 1})
	e.setStaticContact("alice", ringing.URI("alice"))
	e.setStaticContact("bob", echo.URI("bob"))
	alice, bob := e.signIn("alice"), e.signIn("bob")
	bobID := e.getMe(bob).User.ID
	events := e.events(e.signIn("sam"))
	e.setState(alice, "available", "") // longest idle: offered first
	e.setState(bob, "available", "")

	caller := startBaresip(t, "caller", "<sip:2015550123@127.0.0.1>;regint=0", 440)
	if err := caller.Dial("sip:+15550100@" + e.sipAddr); err != nil {
		t.Fatal(err)
	}
	if err := caller.WaitCallEstablished(waitCtx(t, 30*time.Second)); err != nil {
		t.Fatalf("caller: %v", err)
	}
	failed := events.wait(t, "interaction.offer_failed", nil)
	id := failed.InteractionID
	connected := events.wait(t, "interaction.connected", func(f eventFrame) bool { return f.InteractionID == id })
	if connected.UserID != bobID {
		t.Fatalf("connected to %s, want bob (%s)", connected.UserID, bobID)
	}
	if p := e.getMe(alice).Presence; p.State != "not_ready" || p.Reason != "ring-no-answer" {
		t.Fatalf("alice is %+v after not answering, want not_ready (ring-no-answer)", p)
	}
	res, err := ringing.Wait(waitCtx(t, 30*time.Second))
	if err != nil || !res.OK() {
		t.Fatalf("alice's phone did not see its ringing call cancelled (CANCEL, 487, ACK): %v %v", err, res)
	}
	if err := caller.Hangup(); err != nil {
		t.Fatal(err)
	}
	if res, err := echo.Wait(waitCtx(t, 30*time.Second)); err != nil || !res.OK() {
		t.Fatalf("bob's phone: the call did not end with a BYE: %v %v", err, res)
	}
	events.wait(t, "interaction.ended", func(f eventFrame) bool { return f.InteractionID == id })
	it := e.interaction(e.signIn("sam"), id)
	if it.Offers != 2 || it.AgentID != bobID || it.Outcome != "answered" {
		t.Fatalf("interaction %+v, want offered twice, answered by bob", it)
	}
	var reason struct {
		Reason string `json:"reason"`
	}
	json.Unmarshal(failed.Data, &reason)
	if reason.Reason != "ring-no-answer" {
		t.Errorf("offer_failed reason %q, want ring-no-answer", reason.Reason)
	}
}

// TestCallerHangsUpWhileAgentRings: the caller leaves while the agent's
// phone rings; the agent's INVITE is cancelled, the agent stays available
// and the interaction is abandoned. With the default entry point the caller
// sends BYE (Parley answered at once); with an early-media entry point the
// caller's CANCEL gets 487 from Parley.
func TestCallerHangsUpWhileAgentRings(t *testing.T) {
	skipIfShort(t)
	sippeer.RequireTool(t, sippeer.ToolBaresip)
	// ringingAgent makes alice available with a phone that rings until
	// cancelled.
	ringingAgent := func(t *testing.T, e *testEnv) (*sippeer.Baresip, string) {
		e.admin("queue", "set", "--tenant", demoTenant, "--name", "Sales", "--offer-timeout", "2m")
		phone := startBaresip(t, "alice", "<sip:alice@127.0.0.1>;regint=0", 1000)
		e.setStaticContact("alice", phone.URI("alice"))
		token := e.signIn("alice")
		e.setState(token, "available", "")
		return phone, token
	}
	// cancelled waits until alice's ringing phone is cancelled: closed by
	// the far end, never established.
	cancelled := func(t *testing.T, phone *sippeer.Baresip) {
		reason, err := phone.WaitCallClosed(waitCtx(t, 30*time.Second))
		if err != nil {
			t.Fatalf("alice's ringing phone was not cancelled: %v", err)
		}
		if reason == "" || strings.Contains(phone.Log(), "Call established") {
			t.Fatalf("alice's phone: the call was answered or ended by the phone (%q), want a CANCEL while ringing", reason)
		}
	}
	// abandoned checks that the interaction was abandoned after one offer,
	// logged, and that alice is available again.
	abandoned := func(t *testing.T, e *testEnv, token string) {
		sam := e.signIn("sam")
		it := e.newestInteraction(sam, "the abandoned interaction", func(it apiInteraction) bool { return it.State == "ended" })
		if it.Outcome != "abandoned" || it.Offers != 1 || it.AgentID != "" {
			t.Fatalf("interaction %+v, want abandoned after one offer", it)
		}
		if p := e.getMe(token).Presence; p.State != "available" {
			t.Fatalf("alice is %+v after the caller left, want available (not penalised)", p)
		}
		e.waitDelivered(sam, it.ID, 30*time.Second)
	}

	t.Run("bye", func(t *testing.T) {
		e := startEnv(t)
		phone, token := ringingAgent(t, e)
		caller := startBaresip(t, "caller", "<sip:2015550123@127.0.0.1>;regint=0", 440)
		if err := caller.Dial("sip:+15550100@" + e.sipAddr); err != nil {
			t.Fatal(err)
		}
		if err := caller.WaitCallEstablished(waitCtx(t, 30*time.Second)); err != nil {
			t.Fatalf("caller: %v", err)
		}
		if err := phone.WaitIncomingCall(waitCtx(t, 30*time.Second)); err != nil {
			t.Fatalf("alice's phone never rang: %v", err)
		}
		if err := caller.Hangup(); err != nil {
			t.Fatal(err)
		}
		cancelled(t, phone)
		abandoned(t, e, token)
	})

	t.Run("cancel", func(t *testing.T) {
		e := startEnv(t)
		e.admin("entry-point", "add", "--tenant", demoTenant, "--number", "+15550102", "--queue", "Sales", "--early-media")
		phone, token := ringingAgent(t, e)
		res := sippeer.RunSIPp(t, sippeer.SIPpRun{Scenario: sippeer.ScenarioCancel, Target: e.sipAddr, Service: "+15550102",
			Keys: map[string]string{"ring_ms": "4000", "from_user": "2015550123"}})
		if !res.OK() {
			t.Fatalf("caller cancelling during early media (wants 183, then 200 for the CANCEL and 487 for the INVITE): %s", res)
		}
		if err := phone.WaitIncomingCall(waitCtx(t, 30*time.Second)); err != nil {
			t.Fatalf("alice's phone never rang: %v", err)
		}
		cancelled(t, phone)
		abandoned(t, e, token)
	})
}

// registeredAgent registers a baresip phone for the demo agent that answers
// by itself and sends a tone, and makes the agent available.
func (e *testEnv) registeredAgent(t *testing.T, name string, hz float64) (*sippeer.Baresip, string) {
	t.Helper()
	u := e.user(name)
	phone := startBaresip(t, name, fmt.Sprintf("<sip:%s@%s>;auth_user=%s;auth_pass=%s;regint=60;answermode=auto", u.SIPUsername, e.sipAddr, u.SIPUsername, u.SIPPassword), hz)
	if err := phone.WaitRegistered(waitCtx(t, 30*time.Second)); err != nil {
		t.Fatalf("%s's phone did not register: %v", name, err)
	}
	token := e.signIn(name)
	e.setState(token, "available", "")
	return phone, token
}

// TestHoldKeepsTheCallUp: a re-INVITE that holds and resumes the call, from
// the caller or from the agent, leaves the call connected; audio flows
// again after the resume and both legs end normally.
func TestHoldKeepsTheCallUp(t *testing.T) {
	skipIfShort(t)
	sippeer.RequireTool(t, sippeer.ToolBaresip)

	t.Run("caller", func(t *testing.T) {
		e := startEnv(t)
		agent, _ := e.registeredAgent(t, "alice", 1000)
		// talk 5s, hold 3s (a=sendonly), resume (a=sendrecv), talk 5s, BYE
		res := sippeer.RunSIPp(t, sippeer.SIPpRun{Scenario: sippeer.ScenarioHold, Target: e.sipAddr, Service: "+15550100",
			Keys: map[string]string{"talk_ms": "5000", "hold_ms": "3000", "from_user": "2015550123"}})
		if !res.OK() {
			t.Fatalf("caller holding and resuming (wants recvonly or inactive for the hold, sendrecv for the resume, 200 for its BYE): %s", res)
		}
		if _, err := agent.WaitCallClosed(waitCtx(t, 30*time.Second)); err != nil {
			t.Fatalf("agent leg not closed after the caller hung up: %v", err)
		}
		if n := strings.Count(agent.Log(), "Call established"); n != 1 {
			t.Fatalf("the agent's phone was connected %d times, want once", n)
		}
		sam := e.signIn("sam")
		it := e.newestInteraction(sam, "the ended call", func(it apiInteraction) bool { return it.State == "ended" })
		if it.Outcome != "answered" || it.Talk < 12 {
			t.Fatalf("interaction %+v, want answered with the whole 13s of talk", it)
		}
		wav, err := agent.ReceivedWAV()
		if err != nil {
			t.Fatal(err)
		}
		assertTone(t, "agent hears the caller after the resume", wav, 440, 1000)
	})

	t.Run("agent", func(t *testing.T) {
		e := startEnv(t)
		agent, _ := e.registeredAgent(t, "alice", 1000)
		sam := e.signIn("sam")
		caller := startBaresip(t, "caller", "<sip:2015550123@127.0.0.1>;regint=0", 440)
		if err := caller.Dial("sip:+15550100@" + e.sipAddr); err != nil {
			t.Fatal(err)
		}
		if err := agent.WaitCallEstablished(waitCtx(t, 30*time.Second)); err != nil {
			t.Fatalf("agent phone: %v", err)
		}
		it := e.newestInteraction(sam, "the connected call", func(it apiInteraction) bool { return it.State == "connected" })
		time.Sleep(2 * time.Second) // talk
		if err := agent.Hold(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second) // on hold; baresip drops a key sent while its re-INVITE runs
		if got := e.interaction(sam, it.ID); got.State != "connected" {
			t.Fatalf("on hold the interaction is %s, want connected", got.State)
		}
		if err := agent.Resume(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(6 * time.Second) // talk after the resume
		if got := e.interaction(sam, it.ID); got.State != "connected" {
			t.Fatalf("after the resume the interaction is %s, want connected", got.State)
		}
		if err := caller.Hangup(); err != nil {
			t.Fatal(err)
		}
		if _, err := agent.WaitCallClosed(waitCtx(t, 30*time.Second)); err != nil {
			t.Fatalf("agent leg not closed after the caller hung up: %v", err)
		}
		if _, err := caller.WaitCallClosed(waitCtx(t, 30*time.Second)); err != nil {
			t.Fatalf("caller: %v", err)
		}
		eventually(t, 20*time.Second, "the call to end", func() bool { return e.interaction(sam, it.ID).State == "ended" })
		if got := e.interaction(sam, it.ID); got.Outcome != "answered" || got.Talk < 10 {
			t.Fatalf("interaction %+v, want answered with the whole 11s of talk", got)
		}
		log := agent.Log()
		hold, resume := strings.Index(log, "call: hold "), strings.Index(log, "call: resume ")
		if hold < 0 || resume < hold {
			t.Fatalf("the agent's phone did not hold and then resume the call:\n%s", log)
		}
		wav, err := caller.ReceivedWAV()
		if err != nil {
			t.Fatal(err)
		}
		assertTone(t, "caller hears the agent after the resume", wav, 1000, 440)
		// baresip 1.0 stops its decode dump when it puts a call on hold, so
		// the agent's side is judged by its RTP counters: 2s before the
		// hold and 6s after the resume are 400 packets of 20ms; without
		// audio after the resume it would have about 100.
		stats := agent.RTPStats()
		if len(stats) != 1 || stats[0].Received < 300 {
			t.Fatalf("agent's RTP counters %+v: want one call that received at least 300 packets (audio after the resume)", stats)
		}
	})
}

// TestCRMDownDuringWrapUp: devcrm is stopped before the agent submits the
// wrap-up; the log waits in the outbox with the error shown, and lands once
// devcrm is back, as exactly one Task.
func TestCRMDownDuringWrapUp(t *testing.T) {
	skipIfShort(t)
	sippeer.RequireTool(t, sippeer.ToolBaresip)
	e := startEnv(t)
	echo := sippeer.StartSIPpUAS(t, sippeer.SIPpUAS{Scenario: sippeer.ScenarioEcho, Service: "bob", Calls: 1})
	e.setStaticContact("bob", echo.URI("bob"))
	bob := e.signIn("bob")
	e.setState(bob, "available", "")
	caller := startBaresip(t, "caller", "<sip:2015550123@127.0.0.1>;regint=0", 440)
	if err := caller.Dial("sip:+15550100@" + e.sipAddr); err != nil {
		t.Fatal(err)
	}
	it := e.newestInteraction(bob, "the connected call", func(it apiInteraction) bool { return it.State == "connected" })
	if err := caller.Hangup(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "wrap-up", func() bool { return e.getMe(bob).Presence.State == "wrap_up" })

	e.stopCRM()
	if st := e.api("PUT", "/api/v1/interactions/"+it.ID+"/wrapup", bob, map[string]string{"notes": "Called about the order.", "disposition": "Resolved"}, nil); st != 200 {
		t.Fatalf("wrap-up with the CRM down: %d, want 200 (the log waits in the outbox)", st)
	}
	eventually(t, 30*time.Second, "the log pending with an error", func() bool {
		l := e.interaction(bob, it.ID).Log
		return l.Status == "pending" && l.Error != ""
	})
	if p := e.getMe(bob).Presence; p.State != "available" {
		t.Errorf("bob is %+v after the wrap-up, want available: a CRM outage must not hold the agent", p)
	}

	e.startCRM()
	task := e.waitDelivered(bob, it.ID, 2*time.Minute)
	if task["CallDisposition"] != "Resolved" {
		t.Errorf("Task CallDisposition %v, want Resolved", task["CallDisposition"])
	}
	if l := e.interaction(bob, it.ID).Log; l.Error != "" {
		t.Errorf("delivered log still shows the error %q", l.Error)
	}
}

// TestMalformedSIPDoesNotCrash: every broken message of the kit, over UDP
// and over TCP, leaves Parley serving calls and answering /healthz.
func TestMalformedSIPDoesNotCrash(t *testing.T) {
	skipIfShort(t)
	sippeer.RequireTool(t, sippeer.ToolSIPp)
	e := startEnv(t)
	for _, network := range []string{"udp", "tcp"} {
		for _, m := range sippeer.MalformedSIP(e.sipAddr) {
			reply, err := sippeer.SendRaw(network, e.sipAddr, m.Data, 200*time.Millisecond)
			if err != nil {
				t.Fatalf("%s over %s: %v", m.Name, network, err)
			}
			// A broken INVITE must never be answered as a call.
			if strings.HasPrefix(string(m.Data), "INVITE") && strings.HasPrefix(string(reply), "SIP/2.0 2") {
				t.Errorf("%s over %s was answered: %q", m.Name, network, statusLine(reply))
			}
		}
	}
	for _, transport := range []string{"u1", "t1"} {
		res := sippeer.RunSIPp(t, sippeer.SIPpRun{Scenario: sippeer.ScenarioCall, Target: e.sipAddr, Service: "+15550100", Transport: transport,
			Keys: map[string]string{"talk_ms": "1000"}})
		if !res.OK() {
			t.Fatalf("a normal call over %s after the malformed messages: %s", transport, res)
		}
	}
	if st, body := e.apiBody("GET", "/healthz", "", nil); st != 200 {
		t.Fatalf("/healthz after the malformed messages: %d %s", st, body)
	}
	if strings.Contains(e.logs.String(), "panic") {
		t.Fatalf("Parley logged a panic:\n%s", tail(e.logs.String(), 60))
	}
}

func statusLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\r\n")
	return line
}

// TestWithheldCallerIsNeverSearched: a caller who withholds the number
// (From anonymous, or Privacy: id in any letter case, or user;id) is
// recorded as withheld and never searched in the CRM, even when the From
// carries a number the CRM knows.
func TestWithheldCallerIsNeverSearched(t *testing.T) {
	skipIfShort(t)
	sippeer.RequireTool(t, sippeer.ToolSIPp)
	e := startEnv(t)
	e.admin("queue", "set", "--tenant", demoTenant, "--name", "Sales", "--wrap-up", "0s")
	echo := sippeer.StartSIPpUAS(t, sippeer.SIPpUAS{Scenario: sippeer.ScenarioEcho, Service: "bob"})
	e.setStaticContact("bob", echo.URI("bob"))
	bob := e.signIn("bob")
	e.setState(bob, "available", "")
	sam := e.signIn("sam")

	// A search would use up this fault (and retry); a probe search after
	// the calls still meets it only when Parley searched nothing.
	search := "/services/data/v62.0/search"
	probe := search + "/?q=" + url.QueryEscape("FIND {2015550123} IN PHONE FIELDS RETURNING Contact(Id)")
	if err := e.crm.InjectFault(devcrm.Fault{Kind: devcrm.FaultUnavailable, PathPrefix: search, Count: 1}); err != nil {
		t.Fatal(err)
	}
	// call rings bob from the user agent and hangs up once bob answered:
	// the routing runs after the lookup, so any search is done by then.
	call := func(opts sipua.Options) apiInteraction {
		t.Helper()
		c := startUACall(t, opts, "sip:+15550100@"+e.sipAddr)
		it := e.newestInteraction(sam, "the call answered by bob", func(it apiInteraction) bool { return it.State == "connected" })
		if res := c.hangup(t); !res.Answered {
			t.Fatalf("caller: %s", res)
		}
		eventually(t, 20*time.Second, "the call to end", func() bool { return e.interaction(sam, it.ID).State == "ended" })
		return e.interaction(sam, it.ID)
	}
	for _, tc := range []struct {
		name string
		opts sipua.Options
	}{
		{"From anonymous", sipua.Options{From: "anonymous", Display: "Anonymous"}},
		{"Privacy: id", sipua.Options{From: "2015550123", Headers: []string{"Privacy: id"}}},
		{"Privacy: ID", sipua.Options{From: "2015550123", Headers: []string{"Privacy: ID"}}},
		{"Privacy: user;Id", sipua.Options{From: "2015550123", Headers: []string{"Privacy: user;Id"}}},
	} {
		it := call(tc.opts)
		if !it.Customer.Withheld || it.Customer.Number != "" || len(it.Matches) != 0 {
			t.Errorf("%s: customer %+v, matches %v: want withheld, no number, no matches", tc.name, it.Customer, it.Matches)
		}
	}
	if st := e.crmStatus(probe); st != 503 {
		t.Fatalf("probe search after the withheld calls: %d, want the injected 503 still waiting: Parley searched the CRM for a withheld caller", st)
	}

	// Control: the same caller without Privacy is searched (and the probe
	// then finds the fault used up).
	if err := e.crm.InjectFault(devcrm.Fault{Kind: devcrm.FaultUnavailable, PathPrefix: search, Count: 1}); err != nil {
		t.Fatal(err)
	}
	it := call(sipua.Options{From: "2015550123"})
	if it.Customer.Withheld || it.Customer.Number != "+12015550123" || len(it.Matches) != 1 || it.Matches[0].Name != "Jane Doe" {
		t.Fatalf("a caller who shows the number: customer %+v, matches %v: want +12015550123 matched to Jane Doe", it.Customer, it.Matches)
	}
	if st := e.crmStatus(probe); st != 200 {
		t.Fatalf("probe search after the shown caller: %d, want 200 (Parley's search used up the fault)", st)
	}
}

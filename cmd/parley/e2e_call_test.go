package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// TestCallReachesAgentWithAudioAndIsLogged is the core promise: a real SIP
// caller dials a Parley number, the call is queued, offered to the
// registered agent's real SIP phone with the caller's CRM record, bridged
// with audio both ways, and after wrap-up one Task is in the CRM.
func TestCallReachesAgentWithAudioAndIsLogged(t *testing.T) {
	sippeer.RequireTool(t, sippeer.ToolBaresip)
	e := startEnv(t)
	alice := e.user("alice")
	agent := sippeer.StartBaresip(t, sippeer.BaresipConfig{
		Name:      "alice",
		Account:   fmt.Sprintf("<sip:%s@%s>;auth_user=%s;auth_pass=%s;regint=60;answermode=auto", alice.SIPUsername, e.sipAddr, alice.SIPUsername, alice.SIPPassword),
		SourceWAV: writeTone(t, "agent1000.wav", 1000, 30*time.Second, 0),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := agent.WaitRegistered(ctx); err != nil {
		t.Fatalf("agent phone did not register: %v", err)
	}
	token := e.signIn("alice")
	events := e.events(token)
	e.setState(token, "available", "")

	caller := sippeer.StartBaresip(t, sippeer.BaresipConfig{
		Name:      "caller",
		Account:   "<sip:2015550123@127.0.0.1>;regint=0",
		SourceWAV: writeTone(t, "caller440.wav", 440, 30*time.Second, 0),
	})
	if err := caller.Dial(fmt.Sprintf("sip:+15550100@%s", e.sipAddr)); err != nil {
		t.Fatal(err)
	}
	if err := caller.WaitCallEstablished(ctx); err != nil {
		t.Fatalf("caller: %v", err)
	}
	if err := agent.WaitCallEstablished(ctx); err != nil {
		t.Fatalf("agent phone: %v", err)
	}
	offered := events.wait(t, "interaction.offered", nil)
	var od struct {
		Interaction struct {
			ID      string `json:"id"`
			Matches []struct{ Type, ID, Name string }
		} `json:"interaction"`
	}
	if err := json.Unmarshal(offered.Data, &od); err != nil {
		t.Fatal(err)
	}
	if len(od.Interaction.Matches) != 1 || od.Interaction.Matches[0].Type != "Contact" || od.Interaction.Matches[0].Name != "Jane Doe" {
		t.Fatalf("offer event matches = %+v, want the Contact Jane Doe", od.Interaction.Matches)
	}
	id := od.Interaction.ID
	events.wait(t, "interaction.connected", func(f eventFrame) bool { return f.InteractionID == id })
	time.Sleep(6 * time.Second) // talk
	if err := caller.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.WaitCallClosed(ctx); err != nil {
		t.Fatalf("agent leg not closed after the caller hung up: %v", err)
	}
	events.wait(t, "interaction.ended", func(f eventFrame) bool { return f.InteractionID == id })

	// Audio both ways: the caller heard the agent's 1000 Hz, the agent the caller's 440 Hz.
	callerWAV, err := caller.ReceivedWAV()
	if err != nil {
		t.Fatal(err)
	}
	agentWAV, err := agent.ReceivedWAV()
	if err != nil {
		t.Fatal(err)
	}
	assertTone(t, "caller hears agent", callerWAV, 1000, 440)
	assertTone(t, "agent hears caller", agentWAV, 440, 1000)

	// Wrap-up, then the log in the CRM.
	var wrapped apiInteraction
	if st := e.api("PUT", "/api/v1/interactions/"+id+"/wrapup", token, map[string]string{"notes": "Asked about the invoice.", "disposition": "Resolved"}, &wrapped); st != 200 {
		t.Fatalf("wrap-up: %d", st)
	}
	eventually(t, 20*time.Second, "the CRM log", func() bool { return e.interaction(token, id).Log.Status == "delivered" })
	it := e.interaction(token, id)
	var states []string
	for _, h := range it.History {
		switch h.Type {
		case "interaction.queued", "interaction.offered", "interaction.connected", "interaction.ended":
			states = append(states, h.Type)
		}
	}
	if fmt.Sprint(states) != "[interaction.queued interaction.offered interaction.connected interaction.ended]" {
		t.Fatalf("history %v", states)
	}
	tasks := e.crmQuery("SELECT Id, Subject, Description, CallType, CallDurationInSeconds, CallObject, CallDisposition, TaskSubtype, Status, ActivityDate, WhoId FROM Task WHERE CallObject = '" + id + "'")
	if len(tasks) != 1 {
		t.Fatalf("%d Tasks for the call, want 1", len(tasks))
	}
	task := tasks[0]
	want := map[string]any{"CallType": "Inbound", "CallObject": id, "CallDisposition": "Resolved", "TaskSubtype": "Call", "Status": "Completed", "WhoId": od.Interaction.Matches[0].ID}
	for k, v := range want {
		if task[k] != v {
			t.Errorf("Task %s = %v, want %v", k, task[k], v)
		}
	}
	if d, _ := task["CallDurationInSeconds"].(float64); d < 4 || d > 30 {
		t.Errorf("CallDurationInSeconds = %v, want the talk time", task["CallDurationInSeconds"])
	}
	if s, _ := task["Subject"].(string); s == "" || len(s) > 255 {
		t.Errorf("Subject %q", s)
	}
	if d, _ := task["Description"].(string); !containsAll(d, "Asked about the invoice.", "Sales", "Alice Agent") {
		t.Errorf("Description %q", d)
	}
	if task["ActivityDate"] == nil {
		t.Error("no ActivityDate")
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// assertTone checks that a recording holds the want tone in its last
// seconds (after the bridge) and not the other one.
func assertTone(t *testing.T, what, wav string, want, not float64) {
	t.Helper()
	a, err := sippeer.ReadWAV(wav)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	dur := a.Duration().Seconds()
	from := dur - 4
	if from < 0.5 {
		t.Fatalf("%s: recording is only %.1fs long", what, dur)
	}
	in, err := sippeer.BandEnergyDB(wav, 0, from, 3, want-50, want+50)
	if err != nil {
		t.Fatal(err)
	}
	out, err := sippeer.BandEnergyDB(wav, 0, from, 3, not-50, not+50)
	if err != nil {
		t.Fatal(err)
	}
	if in < -40 || out > -40 {
		t.Errorf("%s: %v Hz at %.1f dB (want > -40), %v Hz at %.1f dB (want < -40)", what, want, in, not, out)
	}
}

// TestDemoAgentsEndpoints: the demo's alice takes calls in the browser
// panel, so without a connected panel she cannot be available and says
// what to do; bob is on his SIP phone; the API shows both.
func TestDemoAgentsEndpoints(t *testing.T) {
	e := startEnv(t, withBrowserAgents("alice"))
	if got := e.user("alice").Endpoint; got != "browser" {
		t.Fatalf("demo.json gives alice endpoint %q, want browser", got)
	}
	alice := e.signIn("alice")
	var me struct {
		User struct{ Endpoint string } `json:"user"`
	}
	if st := e.api("GET", "/api/v1/me", alice, nil, &me); st != 200 || me.User.Endpoint != "browser" {
		t.Fatalf("GET /api/v1/me: %d, endpoint %q; want 200 and browser", st, me.User.Endpoint)
	}
	st, body := e.apiBody("PUT", "/api/v1/me/state", alice, map[string]string{"state": "available"})
	if st != 409 || !strings.Contains(string(body), "alice takes calls in the browser panel and its audio is not connected: open the panel and allow the microphone") {
		t.Fatalf("alice available without panel audio: %d %s; want 409 saying what to do", st, body)
	}
	var agents []struct{ Username, Endpoint string }
	if st := e.api("GET", "/api/v1/agents", alice, nil, &agents); st != 200 {
		t.Fatalf("GET /api/v1/agents: %d", st)
	}
	got := map[string]string{}
	for _, a := range agents {
		got[a.Username] = a.Endpoint
	}
	if got["alice"] != "browser" || got["bob"] != "sip" {
		t.Fatalf("agents' endpoints %v, want alice browser and bob sip", got)
	}
}

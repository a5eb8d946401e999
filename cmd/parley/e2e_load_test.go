package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// Smoke load: SIPp places loadCalls calls at loadRate calls a second, with
// media, into the Sales queue; a pool of loadAgents agents, all answered by
// one SIPp echo server as their static contacts, takes them.
const (
	loadCalls  = 50
	loadRate   = 10
	loadAgents = 40
)

// TestSIPpSmokeLoad: every call of a 50-call burst is answered by an agent
// and recorded as an answered interaction; SIPp sees no failed call.
func TestSIPpSmokeLoad(t *testing.T) {
	skipIfShort(t)
	sippeer.RequireTool(t, sippeer.ToolSIPp)
	e := startEnv(t)
	e.admin("queue", "set", "--tenant", demoTenant, "--name", "Sales", "--wrap-up", "0s")
	phones := sippeer.StartSIPpUAS(t, sippeer.SIPpUAS{Scenario: sippeer.ScenarioEcho, Service: "agent", Calls: loadCalls})
	e.addLoadAgents(loadAgents, phones)
	// The agents' presence was written to the store; a restart loads it.
	e.restartParley()

	res := sippeer.RunSIPp(t, sippeer.SIPpRun{Scenario: sippeer.ScenarioCall, Target: e.sipAddr, Service: "+15550100",
		Rate: loadRate, Calls: loadCalls, Keys: map[string]string{"talk_ms": "3000"}, Timeout: 90 * time.Second})
	if !res.OK() || res.Stats.FailedCall != 0 || res.Stats.SuccessfulCall != loadCalls {
		t.Fatalf("callers: %s", res)
	}
	if ans, err := phones.Wait(waitCtx(t, 30*time.Second)); err != nil || !ans.OK() || ans.Stats.SuccessfulCall != loadCalls {
		t.Fatalf("agents' phones: %v %v", err, ans)
	}
	sam := e.signIn("sam")
	var answered, other, short int
	eventually(t, 30*time.Second, fmt.Sprintf("%d ended interactions", loadCalls), func() bool {
		var its []apiInteraction
		if st := e.api("GET", fmt.Sprintf("/api/v1/interactions?limit=%d", 2*loadCalls), sam, nil, &its); st != 200 {
			t.Fatalf("list interactions: %d", st)
		}
		answered, other, short = 0, 0, 0
		for _, it := range its {
			switch {
			case it.State == "ended" && it.Outcome == "answered":
				answered++
				if it.Talk < 2 {
					short++
				}
			case it.State == "ended":
				other++
			}
		}
		return answered+other >= loadCalls
	})
	if answered != loadCalls || other != 0 {
		t.Fatalf("%d answered and %d other interactions, want %d answered", answered, other, loadCalls)
	}
	if short > 0 {
		t.Errorf("%d calls were bridged for less than 2s of their 3s: the agents answered late", short)
	}
}

// addLoadAgents creates n Sales agents whose static contact is the SIPp
// server, and stores them as available.
func (e *testEnv) addLoadAgents(n int, phones *sippeer.SIPpServer) {
	e.t.Helper()
	ctx := e.ctx
	tenant, err := e.m.Store.TenantBySlug(ctx, demoTenant)
	if err != nil {
		e.t.Fatal(err)
	}
	hash, err := auth.HashPassword(auth.GeneratePassword(16))
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := range n {
		name := fmt.Sprintf("load%02d", i)
		u := &cc.User{ID: cc.NewID("usr"), TenantID: tenant.ID, Username: name, DisplayName: "Load agent " + name,
			Roles: []cc.Role{cc.RoleAgent}, Skills: []string{"sales"}, PasswordHash: hash, StaticContact: phones.URI(name), Endpoint: cc.EndpointSIP, CreatedAt: now}
		u.Normalize()
		if err := u.Validate(); err != nil {
			e.t.Fatal(err)
		}
		if err := e.m.Store.CreateUser(ctx, u); err != nil {
			e.t.Fatal(err)
		}
		since := now.Add(time.Duration(i) * time.Millisecond)
		p := &cc.Presence{TenantID: tenant.ID, UserID: u.ID, State: cc.StateAvailable, Since: since, AvailableSince: since}
		if err := e.m.Store.SavePresence(ctx, p); err != nil {
			e.t.Fatal(err)
		}
	}
}

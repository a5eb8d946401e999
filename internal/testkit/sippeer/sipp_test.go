package sippeer

import (
	"strings"
	"testing"
	"time"
)

// agent starts an auto-answering baresip that plays hz.
func agent(t *testing.T, name string, hz float64) *Baresip {
	t.Helper()
	return StartBaresip(t, BaresipConfig{
		Name:      name,
		Account:   "<sip:" + name + "@127.0.0.1>;regint=0;answermode=auto",
		SourceWAV: toneWAV(t, hz, 20*time.Second, 20*time.Second),
	})
}

// TestSIPpCallsBaresip runs the caller scenario against a baresip over UDP
// and TCP and checks that SIPp's tone reached it.
func TestSIPpCallsBaresip(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"u1", "t1"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			bob := agent(t, "bob", 1000)
			res := RunSIPp(t, SIPpRun{
				Scenario:  ScenarioCall,
				Target:    bob.Addr(),
				Service:   "bob",
				Transport: transport,
				ToneWAV:   ulawWAV(t, 440, 10*time.Second),
				Keys:      map[string]string{"from_user": "+15551230000", "from_name": "Kit Caller", "talk_ms": "2500"},
				Timeout:   30 * time.Second,
			})
			if !res.OK() || res.Stats.SuccessfulCall != 1 || res.Stats.FailedCall != 0 {
				t.Fatalf("caller scenario: %s", res)
			}
			ctx := ctxFor(t, 10*time.Second)
			reason, err := bob.WaitCallClosed(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if reason != "Connection reset by peer" {
				t.Errorf("bob's call ended with %q, want SIPp's BYE (Connection reset by peer)", reason)
			}
			if !strings.Contains(bob.Log(), "sip:+15551230000@127.0.0.1") {
				t.Errorf("bob did not see the caller's number in From")
			}
			rx, err := bob.ReceivedWAV()
			if err != nil {
				t.Fatal(err)
			}
			wantTones(t, "bob received", rx, 0.5, 1.5, []float64{440}, []float64{1000})
		})
	}
}

// TestSIPpWaitsForBye lets baresip hang up on the waiting caller.
func TestSIPpWaitsForBye(t *testing.T) {
	t.Parallel()
	bob := agent(t, "bob", 1000)
	hungUp := make(chan error, 1)
	go func() {
		ctx := ctxFor(t, 20*time.Second)
		if err := bob.WaitCallEstablished(ctx); err != nil {
			hungUp <- err
			return
		}
		time.Sleep(time.Second)
		hungUp <- bob.Hangup()
	}()
	res := RunSIPp(t, SIPpRun{Scenario: ScenarioCallWaitBye, Target: bob.Addr(), Service: "bob", Timeout: 30 * time.Second})
	if err := <-hungUp; err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Stats.SuccessfulCall != 1 {
		t.Fatalf("wait-for-BYE scenario: %s", res)
	}
}

// TestSIPpCancelsWhileRinging cancels a call to a SIPp agent that never
// answers, and to a baresip that waits to be answered by hand.
func TestSIPpCancelsWhileRinging(t *testing.T) {
	t.Parallel()
	t.Run("sipp agent", func(t *testing.T) {
		t.Parallel()
		ring := StartSIPpUAS(t, SIPpUAS{Scenario: ScenarioRing, Calls: 1})
		res := RunSIPp(t, SIPpRun{Scenario: ScenarioCancel, Target: ring.Addr(), Keys: map[string]string{"ring_ms": "500"}, Timeout: 20 * time.Second})
		if !res.OK() {
			t.Fatalf("cancel scenario: %s", res)
		}
		srv, err := ring.Wait(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if !srv.OK() || srv.Stats.SuccessfulCall != 1 {
			t.Fatalf("ringing agent: %s", srv)
		}
	})
	t.Run("baresip", func(t *testing.T) {
		t.Parallel()
		desk := StartBaresip(t, BaresipConfig{Name: "desk", Account: "<sip:desk@127.0.0.1>;regint=0"})
		res := RunSIPp(t, SIPpRun{Scenario: ScenarioCancel, Target: desk.Addr(), Service: "desk", Keys: map[string]string{"ring_ms": "1000"}, Timeout: 20 * time.Second})
		if !res.OK() {
			t.Fatalf("cancel scenario: %s", res)
		}
		ctx := ctxFor(t, 10*time.Second)
		if err := desk.WaitIncomingCall(ctx); err != nil {
			t.Fatal(err)
		}
		if reason, err := desk.WaitCallClosed(ctx); err != nil || reason == "" {
			t.Fatalf("desk's ringing call closed: %q, %v; want the CANCEL's reason", reason, err)
		}
		if _, err := desk.ReceivedWAV(); err == nil {
			t.Error("a cancelled call left an audio dump")
		}
	})
}

// TestSIPpHoldAndResume checks the re-INVITE scenario against baresip,
// which answers sendonly with recvonly and sendrecv with sendrecv.
func TestSIPpHoldAndResume(t *testing.T) {
	t.Parallel()
	bob := agent(t, "bob", 1000)
	res := RunSIPp(t, SIPpRun{Scenario: ScenarioHold, Target: bob.Addr(), Service: "bob",
		Keys: map[string]string{"talk_ms": "1000", "hold_ms": "1000"}, Timeout: 30 * time.Second})
	if !res.OK() {
		t.Fatalf("hold scenario: %s", res)
	}
	if !strings.Contains(res.Logs, "hold answered with a=recvonly") || !strings.Contains(res.Logs, "resume answered with a=sendrecv") {
		t.Errorf("hold scenario logs:\n%s\nwant recvonly for the hold and sendrecv for the resume", res.Logs)
	}
	if n := strings.Count(bob.Log(), "got re-INVITE"); n != 2 {
		t.Errorf("bob got %d re-INVITEs, want 2", n)
	}
}

// TestSIPpAgents has a baresip call the SIPp agent scenarios and checks
// what it hears: its own tone from the echo agent, the agent's tone from
// the tone agent.
func TestSIPpAgents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		scenario        string
		present, absent float64
	}{
		{ScenarioEcho, 440, 1000},
		{ScenarioTone, 1000, 440},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			srv := StartSIPpUAS(t, SIPpUAS{Scenario: tc.scenario, Calls: 1, ToneWAV: ulawWAV(t, 1000, 10*time.Second)})
			alice := StartBaresip(t, BaresipConfig{
				Name:      "alice",
				Account:   "<sip:alice@127.0.0.1>;regint=0",
				SourceWAV: toneWAV(t, 440, 20*time.Second, 0),
			})
			ctx := ctxFor(t, 20*time.Second)
			if err := alice.Dial(srv.URI("agent")); err != nil {
				t.Fatal(err)
			}
			if err := alice.WaitCallEstablished(ctx); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2500 * time.Millisecond)
			if err := alice.Hangup(); err != nil {
				t.Fatal(err)
			}
			if _, err := alice.WaitCallClosed(ctx); err != nil {
				t.Fatal(err)
			}
			res, err := srv.Wait(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() || res.Stats.SuccessfulCall != 1 {
				t.Fatalf("agent scenario: %s", res)
			}
			rx, err := alice.ReceivedWAV()
			if err != nil {
				t.Fatal(err)
			}
			wantTones(t, "alice received", rx, 0.5, 1.5, []float64{tc.present}, []float64{tc.absent})
		})
	}
}

// TestSIPpRegisterScenario runs the registration scenario against the
// registrar scenario with right and wrong passwords and both expectations;
// the run succeeds only when the expectation matches.
func TestSIPpRegisterScenario(t *testing.T) {
	t.Parallel()
	reg := StartSIPpUAS(t, SIPpUAS{Scenario: ScenarioRegistrar, Keys: map[string]string{"user": "agent7", "password": "right"}})
	for _, tc := range []struct {
		password, expect string
		ok               bool
	}{
		{"right", "accepted", true},
		{"wrong", "rejected", true},
		{"wrong", "accepted", false},
		{"right", "rejected", false},
	} {
		res := RunSIPp(t, SIPpRun{Scenario: ScenarioRegister, Target: reg.Addr(),
			Keys: map[string]string{"user": "agent7", "password": tc.password, "expect": tc.expect}, Timeout: 20 * time.Second})
		if res.OK() != tc.ok {
			t.Errorf("password %s, expect %s: OK() = %v, want %v: %s", tc.password, tc.expect, res.OK(), tc.ok, res)
		}
		if !tc.ok && (res.ExitCode != SIPpCallsFailed || res.Stats.FailedUnexpectedMessage != 1) {
			t.Errorf("password %s, expect %s: exit %d with %d unexpected messages, want exit 1 with 1", tc.password, tc.expect, res.ExitCode, res.Stats.FailedUnexpectedMessage)
		}
	}
}

// TestSIPpLoadSmoke makes overlapping calls to a SIPp echo agent, over UDP
// and over TCP.
func TestSIPpLoadSmoke(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"u1", "t1"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv := StartSIPpUAS(t, SIPpUAS{Scenario: ScenarioEcho, Transport: transport})
			res := RunSIPp(t, SIPpRun{Scenario: ScenarioCall, Target: srv.Addr(), Transport: transport, Calls: 10, Rate: 10, Concurrent: 10,
				Keys: map[string]string{"talk_ms": "1000"}, Timeout: 30 * time.Second})
			if !res.OK() || res.Stats.SuccessfulCall != 10 || res.Stats.FailedCall != 0 {
				t.Fatalf("10 calls: %s", res)
			}
			got := srv.Stop()
			if got.Stats.SuccessfulCall != 10 || got.Stats.FailedCall != 0 {
				t.Fatalf("echo agent after 10 calls: %s", got)
			}
		})
	}
}

// TestBaresipAnswersByHand has SIPp call a baresip without auto-answer,
// which the test answers once it rings.
func TestBaresipAnswersByHand(t *testing.T) {
	t.Parallel()
	desk := StartBaresip(t, BaresipConfig{Name: "desk", Account: "<sip:desk@127.0.0.1>;regint=0"})
	answered := make(chan error, 1)
	go func() {
		ctx := ctxFor(t, 20*time.Second)
		if err := desk.WaitIncomingCall(ctx); err != nil {
			answered <- err
			return
		}
		if err := desk.Answer(); err != nil {
			answered <- err
			return
		}
		answered <- desk.WaitCallEstablished(ctx)
	}()
	res := RunSIPp(t, SIPpRun{Scenario: ScenarioCall, Target: desk.Addr(), Service: "desk", Keys: map[string]string{"talk_ms": "1000"}, Timeout: 30 * time.Second})
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("call answered by hand: %s", res)
	}
}

// TestSIPpReportsFailures checks that a run that cannot succeed says so:
// nobody answers, and a SIPp that cannot bind its port.
func TestSIPpReportsFailures(t *testing.T) {
	t.Parallel()
	t.Run("nobody answers", func(t *testing.T) {
		t.Parallel()
		silent := FreePort(t)
		res := RunSIPp(t, SIPpRun{Scenario: ScenarioCall, Target: "127.0.0.1:" + itoa(silent), Timeout: 3 * time.Second})
		if res.OK() || res.ExitCode == SIPpAllCallsOK {
			t.Fatalf("a call nobody answered passed: %s", res)
		}
		if res.TimedOut {
			t.Errorf("SIPp's own -timeout should end it before the kit kills it: %s", res)
		}
	})
	t.Run("bad scenario", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/broken.xml"
		if err := writeFile(path, "<scenario><send>"); err != nil {
			t.Fatal(err)
		}
		res := RunSIPp(t, SIPpRun{Scenario: path, Target: "127.0.0.1:9", Timeout: 10 * time.Second})
		if res.OK() || res.Stats.TotalCallCreated != 0 {
			t.Fatalf("broken XML ran: %s", res)
		}
		if !strings.Contains(res.Errors+res.Output, "scenario") {
			t.Errorf("broken XML: SIPp's errors do not mention the scenario:\n%s\n%s", res.Errors, res.Output)
		}
	})
}

// TestSIPpRejectsBadRuns checks the validation done before SIPp starts.
func TestSIPpRejectsBadRuns(t *testing.T) {
	RequireTool(t, ToolSIPp)
	for _, tc := range []struct {
		name string
		run  SIPpRun
		want string
	}{
		{"no target", SIPpRun{Scenario: ScenarioCall}, "host:port"},
		{"unknown scenario", SIPpRun{Scenario: "uac_nope", Target: "127.0.0.1:5080"}, "use one of"},
		{"server scenario", SIPpRun{Scenario: ScenarioEcho, Target: "127.0.0.1:5080"}, "StartSIPpUAS"},
		{"unknown key", SIPpRun{Scenario: ScenarioCall, Target: "127.0.0.1:5080", Keys: map[string]string{"talk": "1"}}, "has no key"},
		{"bad number", SIPpRun{Scenario: ScenarioCall, Target: "127.0.0.1:5080", Keys: map[string]string{"talk_ms": "soon"}}, "whole number"},
		{"missing key", SIPpRun{Scenario: ScenarioRegister, Target: "127.0.0.1:5080", Keys: map[string]string{"user": "a"}}, "needs -key password"},
		{"bad expect", SIPpRun{Scenario: ScenarioRegister, Target: "127.0.0.1:5080", Keys: map[string]string{"user": "a", "password": "b", "expect": "maybe"}}, "accepted or rejected"},
		{"bad transport", SIPpRun{Scenario: ScenarioCall, Target: "127.0.0.1:5080", Transport: "tls"}, "u1 (UDP) or t1"},
		{"bad service", SIPpRun{Scenario: ScenarioCall, Target: "127.0.0.1:5080", Service: "a b"}, "SIP user"},
		{"header injection", SIPpRun{Scenario: ScenarioCall, Target: "127.0.0.1:5080", Keys: map[string]string{"from_name": "x\r\nVia: evil"}}, "line breaks"},
		{"pcm tone", SIPpRun{Scenario: ScenarioCall, Target: "127.0.0.1:5080", ToneWAV: toneWAV(t, 440, time.Second, 0)}, "not µ-law"},
		{"negative calls", SIPpRun{Scenario: ScenarioCall, Target: "127.0.0.1:5080", Calls: -1}, "positive"},
		{"short timeout", SIPpRun{Scenario: ScenarioCall, Target: "127.0.0.1:5080", Timeout: time.Millisecond}, "whole seconds"},
	} {
		msg := fatalMessage(t, func(tb testing.TB) { RunSIPp(tb, tc.run) })
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s: failure %q, want it to mention %q", tc.name, msg, tc.want)
		}
	}
}

func TestParseSIPpStats(t *testing.T) {
	csv := "StartTime;TotalCallCreated;CurrentCall;SuccessfulCall(C);FailedCall(C);Retransmissions(C);CallLength(C);\n" +
		"2026-01-01;1;1;0;0;0;00:00:00:000000;\n" +
		"2026-01-01;10;0;9;1;3;00:00:01:004000;\n"
	s, err := ParseSIPpStats(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if s.TotalCallCreated != 10 || s.SuccessfulCall != 9 || s.FailedCall != 1 || s.Retransmissions != 3 || s.CurrentCall != 0 {
		t.Errorf("stats %+v, want the last row", s)
	}
	if s.Fields["CallLength(C)"] != "00:00:01:004000" {
		t.Errorf("CallLength(C) = %q", s.Fields["CallLength(C)"])
	}
	for _, bad := range []string{"", "A;B;\n", "A;B;\n1;\n", "SuccessfulCall(C);\nmany;\n"} {
		if _, err := ParseSIPpStats(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseSIPpStats(%q) succeeded", bad)
		}
	}
}

func FuzzParseSIPpStats(f *testing.F) {
	f.Add("TotalCallCreated;SuccessfulCall(C);\n1;1;\n")
	f.Add("A;B\r\n1;2\r\n\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseSIPpStats(strings.NewReader(s))
		if err == nil && st.Fields == nil {
			t.Fatal("success without fields")
		}
	})
}

// Package sippeer drives real SIP peers from Go tests: baresip softphones,
// SIPp callers, agents and registrations, and raw malformed SIP. It also
// writes test tones as WAV files and measures which tones a recording holds,
// so that a test can prove that audio really flowed and who heard whom.
//
// Everything runs on 127.0.0.1 with ports taken from [FreePorts], so tests
// that use the kit may run in parallel, also across packages. Every external
// process gets a hard time limit, is stopped by its PID when the test ends,
// and has its output logged when the test fails.
//
// The tools are Debian packages: baresip-core (baresip), sip-tester (sipp) and
// sox with libsox-fmt-all (only to cross-check the Go analysis). When a tool
// is missing, helpers skip the test, unless the environment variable
// PARLEY_REQUIRE_PEERS is "1" (scripts/test sets it): then they fail it, so a
// CI machine without the tools cannot pass by skipping.
//
// A typical integration test gives each party its own tone and checks the
// recordings:
//
//	agent := sippeer.StartBaresip(t, sippeer.BaresipConfig{
//		Name:      "agent",
//		Account:   "<sip:agent@" + parleyAddr + ">;auth_user=agent;auth_pass=pw;regint=60;answermode=auto",
//		SourceWAV: agentTone, // WriteToneWAV(agentTone, 1000, 10*time.Second, 0.5, WithSilence(20*time.Second))
//	})
//	if err := agent.WaitRegistered(ctx); err != nil { ... }
//	res := sippeer.RunSIPp(t, sippeer.SIPpRun{Scenario: sippeer.ScenarioCall, Target: parleyAddr, Service: "+15550100"})
//	if !res.OK() { t.Fatal(res) }
//	agent.WaitCallClosed(ctx)
//	rx, _ := agent.ReceivedWAV()
//	level, _ := sippeer.BandEnergyDB(rx, 0, 1, 2, 390, 490) // SIPp's 440 Hz: above -20 dB
//
// The recipes behind the choices made here, and the quirks of baresip 1.0
// and SIPp 3.6 they work around, are in the telephony reference (shared
// docs, telephony.md, sections 4 and 6).
package sippeer

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
// Recipes and the quirks behind the choices made here are in
// docs/telephony.md, sections 4 and 6.
package sippeer

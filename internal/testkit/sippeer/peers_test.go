package sippeer

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ctxFor returns a context that ends after d or with the test.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// toneWAV writes a 16-bit tone of hz for dur followed by pad of silence.
func toneWAV(t *testing.T, hz float64, dur, pad time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tone.wav")
	if err := WriteToneWAV(path, hz, dur, 0.5, WithSilence(pad)); err != nil {
		t.Fatal(err)
	}
	return path
}

// ulawWAV writes a µ-law tone of hz for dur.
func ulawWAV(t *testing.T, hz float64, dur time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tone-ulaw.wav")
	if err := WriteULawToneWAV(path, hz, dur, 0.5); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantTones checks that the WAV at path holds the present tones and not the
// absent ones between from and from+dur seconds.
func wantTones(t *testing.T, what, path string, from, dur float64, present, absent []float64) {
	t.Helper()
	a, err := ReadWAV(path)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, hz := range present {
		e, err := a.BandEnergyDB(0, from, dur, hz-50, hz+50)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if e < -20 {
			t.Errorf("%s: %g Hz at %.1f dB, want a tone above -20 dB", what, hz, e)
		}
	}
	for _, hz := range absent {
		e, err := a.BandEnergyDB(0, from, dur, hz-50, hz+50)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if e > -40 {
			t.Errorf("%s: %g Hz at %.1f dB, want nothing above -40 dB", what, hz, e)
		}
	}
	if len(present) > 0 {
		f, err := a.DominantFrequency(0, from, dur)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if d := f - present[0]; d < -5 || d > 5 {
			t.Errorf("%s: dominant frequency %.1f Hz, want %g", what, f, present[0])
		}
	}
}

// TestBaresipDirectCall is two baresips calling each other directly:
// alice plays 440 Hz, bob answers by himself and plays 1000 Hz. Each must
// hear only the other's tone; DTMF and hold travel from alice to bob; the
// call ends when alice's tone file runs out.
func TestBaresipDirectCall(t *testing.T) {
	t.Parallel()
	bob := StartBaresip(t, BaresipConfig{
		Name:      "bob",
		Account:   "<sip:bob@127.0.0.1>;regint=0;answermode=auto",
		SourceWAV: toneWAV(t, 1000, 4*time.Second, 20*time.Second),
	})
	alice := StartBaresip(t, BaresipConfig{
		Name:      "alice",
		Account:   "<sip:alice@127.0.0.1>;regint=0",
		SourceWAV: toneWAV(t, 440, 8*time.Second, 0), // no padding: alice hangs up at the end
	})
	ctx := ctxFor(t, 30*time.Second)
	if err := alice.Dial(bob.URI("bob")); err != nil {
		t.Fatal(err)
	}
	if err := bob.WaitIncomingCall(ctx); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*Baresip{alice, bob} {
		if err := b.WaitCallEstablished(ctx); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2500 * time.Millisecond) // let two seconds of clean audio through
	if err := alice.SendDTMF("12#"); err != nil {
		t.Fatal(err)
	}
	if err := bob.WaitDTMF(ctx, "12#"); err != nil {
		t.Fatal(err)
	}
	if err := alice.Hold(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := alice.Resume(); err != nil {
		t.Fatal(err)
	}
	reason, err := bob.WaitCallClosed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if reason == "" {
		t.Errorf("bob's call closed without a reason, want the remote hang-up's")
	}
	if reason, err := alice.WaitCallClosed(ctx); err != nil || reason != "" {
		t.Errorf("alice's call closed: %q, %v; want her own hang-up (no reason)", reason, err)
	}
	if !strings.Contains(alice.Log(), "call: hold ") || !strings.Contains(alice.Log(), "call: resume ") {
		t.Errorf("alice's log shows no hold and resume")
	}
	if n := strings.Count(bob.Log(), "got re-INVITE"); n < 2 {
		t.Errorf("bob got %d re-INVITEs, want 2 (hold, resume)", n)
	}
	for _, tc := range []struct {
		b               *Baresip
		present, absent float64
	}{{alice, 1000, 440}, {bob, 440, 1000}} {
		rx, err := tc.b.ReceivedWAV()
		if err != nil {
			t.Fatal(err)
		}
		wantTones(t, tc.b.Name+" received", rx, 0.5, 1.5, []float64{tc.present}, []float64{tc.absent})
		tx, err := tc.b.SentWAV()
		if err != nil {
			t.Fatal(err)
		}
		wantTones(t, tc.b.Name+" sent", tx, 0.5, 1.5, []float64{tc.absent}, []float64{tc.present})
		stats := tc.b.RTPStats()
		if len(stats) != 1 || stats[0].Sent < 150 || stats[0].Received < 150 {
			t.Errorf("%s RTP stats %+v, want one call with at least 150 packets each way", tc.b.Name, stats)
		}
	}
}

// TestBaresipRegistration registers baresips with a SIPp registrar: the
// right password is accepted, a wrong one rejected at once.
func TestBaresipRegistration(t *testing.T) {
	t.Parallel()
	reg := StartSIPpUAS(t, SIPpUAS{Scenario: ScenarioRegistrar, Keys: map[string]string{"user": "alice", "password": "s3cret"}})
	account := func(pw string) string {
		return "<sip:alice@" + reg.Addr() + ">;auth_user=alice;auth_pass=" + pw + ";regint=60"
	}
	ctx := ctxFor(t, 20*time.Second)
	good := StartBaresip(t, BaresipConfig{Name: "good", Account: account("s3cret")})
	if err := good.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	bad := StartBaresip(t, BaresipConfig{Name: "bad", Account: account("wrong")})
	err := bad.WaitRegistered(ctx)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("wrong password: WaitRegistered = %v, want a 403 rejection", err)
	}
	bad2 := StartBaresip(t, BaresipConfig{Name: "bad2", Account: account("wrong")})
	line, err := bad2.WaitRegistrationFailed(ctx)
	if err != nil || !strings.Contains(line, "403 Forbidden") {
		t.Fatalf("WaitRegistrationFailed = %q, %v; want the 403 line", line, err)
	}
	good2 := StartBaresip(t, BaresipConfig{Name: "good2", Account: account("s3cret")})
	if _, err := good2.WaitRegistrationFailed(ctx); err == nil || !strings.Contains(err.Error(), "succeeded") {
		t.Fatalf("WaitRegistrationFailed on a good account = %v, want an error saying it succeeded", err)
	}
}

// TestBaresipRejectsBadConfig checks the validation that runs before
// anything starts.
func TestBaresipRejectsBadConfig(t *testing.T) {
	RequireTool(t, ToolBaresip)
	stereo := filepath.Join(t.TempDir(), "stereo.wav")
	if err := WriteWAV(stereo, &Audio{Rate: 8000, Channels: [][]float64{make([]float64, 800), make([]float64, 800)}}, PCM16); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  BaresipConfig
		want string
	}{
		{"no account", BaresipConfig{}, "accounts line"},
		{"not a sip account", BaresipConfig{Account: "alice@127.0.0.1"}, "accounts line"},
		{"two lines", BaresipConfig{Account: "<sip:a@127.0.0.1>\n<sip:b@127.0.0.1>"}, "accounts line"},
		{"path in name", BaresipConfig{Name: "../x", Account: "<sip:a@127.0.0.1>"}, "plain word"},
		{"missing source", BaresipConfig{Account: "<sip:a@127.0.0.1>", SourceWAV: "/nonexistent.wav"}, "8 kHz mono"},
		{"stereo source", BaresipConfig{Account: "<sip:a@127.0.0.1>", SourceWAV: stereo}, "8000 Hz mono"},
		{"config line break", BaresipConfig{Account: "<sip:a@127.0.0.1>", Config: []string{"a\nb"}}, "one line"},
	} {
		msg := fatalMessage(t, func(tb testing.TB) { StartBaresip(tb, tc.cfg) })
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s: failure %q, want it to mention %q", tc.name, msg, tc.want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }

package sipua

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// TestCallAndAnswer has one user agent call another directly: the SIP
// outcome, packet counts, DTMF and the recorded tones are checked.
func TestCallAndAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	port := sippeer.FreePort(t)
	answered := make(chan *Result, 1)
	go Serve(ctx, Options{Bind: fmt.Sprintf("127.0.0.1:%d", port), ToneHz: 1000, Record: filepath.Join(dir, "callee.wav")}, func(r *Result) { answered <- r })
	time.Sleep(200 * time.Millisecond) // let the callee bind
	ua, err := New(ctx, Options{From: "2015550123", ToneHz: 440, Record: filepath.Join(dir, "caller.wav"), Duration: 4 * time.Second, DTMF: "12#"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	res, err := ua.Call(ctx, fmt.Sprintf("sip:agent@127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("caller %+v", res)
	if !res.Answered || res.Status != 200 || res.HungUpBy != "local" || res.PacketsSent < 50 || res.PacketsReceived < 50 {
		t.Fatalf("caller result %+v", res)
	}
	var callee *Result
	select {
	case callee = <-answered:
	case <-ctx.Done():
		t.Fatal("callee never reported the call")
	}
	t.Logf("callee %+v", callee)
	if callee.HungUpBy != "remote" || callee.DTMFReceived != "12#" {
		t.Fatalf("callee result %+v", callee)
	}
	for _, c := range []struct {
		file string
		hz   float64
	}{{"caller.wav", 1000}, {"callee.wav", 440}} {
		a, err := sippeer.ReadWAV(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		// the caller sends DTMF first, so analyse the end of each recording
		f, err := sippeer.DominantFrequency(filepath.Join(dir, c.file), 0, a.Duration().Seconds()-1.2, 1)
		if err != nil {
			t.Fatal(err)
		}
		if f < c.hz*0.95 || f > c.hz*1.05 {
			t.Errorf("%s: dominant frequency %.0f Hz, want %.0f", c.file, f, c.hz)
		}
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	if _, err := New(ctx, Options{Transport: "sctp"}, nil); err == nil {
		t.Error("unknown transport accepted")
	}
	if _, err := New(ctx, Options{Play: "/nonexistent.wav"}, nil); err == nil {
		t.Error("missing WAV accepted")
	}
	ua, err := New(ctx, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	if _, err := ua.Call(ctx, "not a uri"); err == nil {
		t.Error("bad URI accepted")
	}
	// nothing listens there: the call fails with a reason, not a hang
	port := sippeer.FreePort(t)
	ua2, _ := New(ctx, Options{Ring: 3 * time.Second}, nil)
	defer ua2.Close()
	res, err := ua2.Call(ctx, fmt.Sprintf("sip:x@127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	if res.Answered || !strings.Contains(res.Reason, "no answer within 3s") {
		t.Fatalf("call to nobody: %+v", res)
	}
}

package telephony

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// fakeLeg is a browser audio leg: it sends a paced 440 Hz tone as PCMU and
// keeps what it receives.
type fakeLeg struct {
	in   chan []byte
	done chan struct{}
	once sync.Once

	mu    sync.Mutex
	got   []byte // PCMU received
	digit func(rune)
}

func newFakeLeg() *fakeLeg {
	l := &fakeLeg{in: make(chan []byte, 3), done: make(chan struct{})}
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		n := 0
		for {
			select {
			case <-l.done:
				return
			case <-t.C:
			}
			pcm := make([]byte, 320)
			for i := 0; i < 160; i++ {
				v := int16(8000 * math.Sin(2*math.Pi*440*float64(n)/8000))
				pcm[2*i], pcm[2*i+1] = byte(v), byte(uint16(v)>>8)
				n++
			}
			select {
			case l.in <- g711.EncodeUlaw(pcm):
			default:
			}
		}
	}()
	return l
}

func (l *fakeLeg) Read(b []byte) (int, error) {
	select {
	case p := <-l.in:
		return copy(b, p), nil
	case <-l.done:
		return 0, io.EOF
	}
}

func (l *fakeLeg) Write(b []byte) (int, error) {
	select {
	case <-l.done:
		return 0, errors.New("leg closed")
	default:
	}
	l.mu.Lock()
	l.got = append(l.got, b...)
	l.mu.Unlock()
	return len(b), nil
}

func (l *fakeLeg) OnDigit(f func(rune)) {
	l.mu.Lock()
	l.digit = f
	l.mu.Unlock()
}

func (l *fakeLeg) Done() <-chan struct{} { return l.done }

func (l *fakeLeg) close() { l.once.Do(func() { close(l.done) }) }

// press sends a digit as the panel's keypad would.
func (l *fakeLeg) press(d rune) bool {
	l.mu.Lock()
	f := l.digit
	l.mu.Unlock()
	if f != nil {
		f(d)
	}
	return f != nil
}

// level1000 is the 1000 Hz level (Goertzel, relative to full scale) of the
// PCMU received so far, over its last second.
func (l *fakeLeg) level1000() float64 {
	l.mu.Lock()
	ulaw := append([]byte(nil), l.got...)
	l.mu.Unlock()
	if len(ulaw) > 8000 {
		ulaw = ulaw[len(ulaw)-8000:]
	}
	if len(ulaw) < 800 {
		return math.Inf(-1)
	}
	pcm := g711.DecodeUlaw(ulaw)
	k := 2 * math.Cos(2*math.Pi*1000/8000)
	var s1, s2 float64
	n := len(pcm) / 2
	for i := 0; i < n; i++ {
		x := float64(int16(uint16(pcm[2*i])|uint16(pcm[2*i+1])<<8)) / 32768
		s1, s2 = x+k*s1-s2, s1
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	return 10 * math.Log10(2*p/float64(n*n)+1e-20)
}

// fakeLegs hands out the legs the test makes live.
type fakeLegs struct {
	live chan *fakeLeg
}

func (f *fakeLegs) Wait(ctx context.Context, tenantID, userID string) (BrowserLeg, error) {
	select {
	case l := <-f.live:
		return l, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserAgentSurvivesReload: a browser agent's offer rings no phone;
// after Accept the agent's browser leg is bridged both ways. When the leg
// ends (the panel reloads) the customer hears hold audio, and the agent's
// next leg joins the same call; digits from the panel reach the customer.
func TestBrowserAgentSurvivesReload(t *testing.T) {
	store := newTestStore()
	store.addTenant(t, "acme", "127.0.0.0/8", "+15550100")
	agent := &cc.User{ID: "usr_alice", Username: "alice", Endpoint: cc.EndpointBrowser}
	d := &testDirector{offers: [][]string{nil}, timeout: 20 * time.Second, arrivals: make(chan *testCall, 1), agent: agent}
	legs := &fakeLegs{live: make(chan *fakeLeg, 1)}
	addr := startServerWith(t, Deps{Store: store, Director: d, Browser: legs})
	custWAV := filepath.Join(t.TempDir(), "customer.wav")
	done := startCall(t, sipua.Options{From: "2015550123", ToneHz: 1000, Record: custWAV, Duration: 14 * time.Second}, "sip:+15550100@"+addr)
	c := <-d.arrivals
	c.mu.Lock()
	offer := c.current
	c.mu.Unlock()
	time.Sleep(500 * time.Millisecond) // the offer rings in the panel only
	c.instr <- cc.Instruction{Accept: offer}
	first := newFakeLeg()
	legs.live <- first
	waitFor(t, "the customer's 1000 Hz at the browser", func() bool { return first.level1000() > -30 })
	time.Sleep(2 * time.Second)
	first.close() // the panel reloads
	time.Sleep(3 * time.Second)
	second := newFakeLeg()
	legs.live <- second
	waitFor(t, "the customer's 1000 Hz at the browser's next leg", func() bool { return second.level1000() > -30 })
	time.Sleep(time.Second)
	if !second.press('5') {
		t.Fatal("the bridge did not listen for the panel's digits")
	}
	res := <-done
	if res.err != nil || !res.Answered {
		t.Fatalf("customer: %v %v", res.Result, res.err)
	}
	if got := c.endReason(t); got != "customer: hung up" {
		t.Errorf("end %q", got)
	}
	if res.DTMFReceived != "5" {
		t.Errorf("the customer received digits %q, want the panel's 5", res.DTMFReceived)
	}
	runs, err := sippeer.SoundRuns(custWAV, func(w sippeer.Window) byte {
		switch {
		case w.Band(440) > -35:
			return 'T'
		case w.Band(440) < -45 && w.Level > -40:
			return 'M'
		}
		return '?'
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the customer heard %s", runs)
	if !strings.Contains(runs, "TMT") {
		t.Errorf("the customer heard %q (T the agent's 440 Hz, M hold audio), want the agent, hold audio while the panel reloaded, the agent again", runs)
	}
}

// TestBrowserAgentNotAccepted: an offer the agent does not accept in time
// fails as ring-no-answer, and no SIP INVITE was needed.
func TestBrowserAgentNotAccepted(t *testing.T) {
	store := newTestStore()
	store.addTenant(t, "acme", "127.0.0.0/8", "+15550100")
	agent := &cc.User{ID: "usr_alice", Username: "alice", Endpoint: cc.EndpointBrowser}
	d := &testDirector{offers: [][]string{nil}, timeout: time.Second, arrivals: make(chan *testCall, 1), agent: agent}
	addr := startServerWith(t, Deps{Store: store, Director: d, Browser: &fakeLegs{live: make(chan *fakeLeg)}})
	done := startCall(t, sipua.Options{From: "2015550123", ToneHz: 1000, Duration: 4 * time.Second}, "sip:+15550100@"+addr)
	c := <-d.arrivals
	select {
	case f := <-c.failed:
		if f.reason != cc.ReasonRingNoAnswer || !strings.Contains(f.detail, "not accepted") {
			t.Errorf("offer failed with %s %q", f.reason, f.detail)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the unaccepted offer did not fail")
	}
	<-done
}

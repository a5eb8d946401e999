package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
	"github.com/zaf/g711"

	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/softphone"
)

// callerNumber is the caller ID of call i: it ties the interaction an
// agent is offered to the call.
func callerNumber(i int) string { return fmt.Sprintf("+1555%07d", i+1) }

// callBook finds a call by its caller number.
type callBook struct {
	mu    sync.Mutex
	calls map[string]*call
}

func (b *callBook) add(c *call) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.calls == nil {
		b.calls = map[string]*call{}
	}
	b.calls[c.number] = c
}

func (b *callBook) byNumber(n string) *call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[n]
}

// keepCallerAudio is how much received audio a caller keeps for the
// spot-check (the newest 2 s).
const keepCallerAudio = 2 * 8000

// call is one SIP caller: it sends callerToneHz from the answer on, and
// times and counts what it receives.
type call struct {
	i      int
	number string

	mu         sync.Mutex
	err        error
	answered   time.Time
	acceptAt   time.Time
	agent      *agent
	agentAt    time.Time // the agent heard the caller's tone
	customerAt time.Time // the caller heard the agent's tone
	hear       toneDetector
	packets    uint64
	sent       uint64
	gaps       softphone.Gaps
	audio      []byte
	twoWay     chan struct{}
	twoWayOnce sync.Once
}

func newCall(i int) *call {
	return &call{i: i, number: callerNumber(i), hear: toneDetector{hz: agentToneHz}, twoWay: make(chan struct{})}
}

func (c *call) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.twoWayOnce.Do(func() { close(c.twoWay) })
}

// accepted records the agent's accept.
func (c *call) accepted(at time.Time, a *agent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acceptAt, c.agent = at, a
	c.hear = toneDetector{hz: agentToneHz}
}

func (c *call) agentHeard(at time.Time) {
	c.mu.Lock()
	c.agentAt = at
	c.mu.Unlock()
	c.checkTwoWay()
}

func (c *call) checkTwoWay() {
	c.mu.Lock()
	done := !c.agentAt.IsZero() && !c.customerAt.IsZero()
	c.mu.Unlock()
	if done {
		c.twoWayOnce.Do(func() { close(c.twoWay) })
	}
}

// times returns accept -> the agent hears, -> the customer hears, and
// whether both are known.
func (c *call) times() (agent, customer time.Duration, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.acceptAt.IsZero() || c.agentAt.IsZero() || c.customerAt.IsZero() || c.err != nil {
		return 0, 0, false
	}
	return c.agentAt.Sub(c.acceptAt), c.customerAt.Sub(c.acceptAt), true
}

// counts returns the packets sent, received and lost so far.
func (c *call) counts() (sent, received, lost uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, c.packets, c.gaps.Lost()
}

// run places the call to uri and keeps it up until hangup is closed (or
// ctx ends).
func (c *call) run(ctx context.Context, ua *sipua.UA, uri string, hangup <-chan struct{}) {
	var to sip.Uri
	if err := sip.ParseUri(uri, &to); err != nil {
		c.fail(fmt.Errorf("entry point URI %q: %w", uri, err))
		return
	}
	from := &sip.FromHeader{Address: sip.Uri{User: c.number, Host: ua.Host()}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	dlg, err := ua.Diago().NewDialog(to, diago.NewDialogOptions{Transport: "udp"})
	if err != nil {
		c.fail(fmt.Errorf("new dialog: %w", err))
		return
	}
	defer dlg.Close()
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	med, err := dlg.Invite(ictx, diago.InviteClientOptions{Headers: []sip.Header{from}})
	if err != nil {
		c.fail(fmt.Errorf("INVITE: %w", err))
		return
	}
	if err := dlg.Ack(ictx); err != nil {
		c.fail(fmt.Errorf("ACK: %w", err))
		return
	}
	c.mu.Lock()
	c.answered = time.Now()
	c.mu.Unlock()
	w, err := med.AudioWriter()
	if err != nil {
		c.fail(fmt.Errorf("audio writer: %w", err))
		return
	}
	r := med.RTPPacketReader
	if r == nil {
		c.fail(errors.New("the answer set up no RTP"))
		return
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		c.send(w, stop)
	}()
	go func() {
		defer wg.Done()
		c.receive(r)
	}()
	select {
	case <-hangup:
	case <-ctx.Done():
	case <-dlg.Context().Done():
		c.fail(errors.New("Parley hung up the call"))
	}
	close(stop)
	hctx, hcancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = dlg.Hangup(hctx)
	hcancel()
	_ = dlg.Close()
	wg.Wait()
}

// send writes callerToneHz as 20 ms PCMU frames; diago's writer paces them.
func (c *call) send(w io.Writer, stop <-chan struct{}) {
	frame := make([]byte, 160)
	phase, step := 0.0, 2*math.Pi*callerToneHz/8000
	for {
		select {
		case <-stop:
			return
		default:
		}
		for i := range frame {
			frame[i] = g711.EncodeUlawFrame(int16(8000 * math.Sin(phase)))
			phase += step
		}
		phase = math.Mod(phase, 2*math.Pi)
		if _, err := w.Write(frame); err != nil {
			return
		}
		c.mu.Lock()
		c.sent++
		c.mu.Unlock()
	}
}

// receive counts the packets (sequence gaps from diago's header) and times
// the agent's tone after the accept.
func (c *call) receive(r *media.RTPPacketReader) {
	buf := make([]byte, 1500)
	for {
		n, err := r.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		seq := r.PacketHeader.SequenceNumber
		c.mu.Lock()
		c.packets++
		c.gaps.Packet(seq)
		if r.PacketHeader.PayloadType == 0 {
			c.audio = append(c.audio, buf[:n]...)
			if over := len(c.audio) - keepCallerAudio; over > 0 {
				c.audio = append(c.audio[:0], c.audio[over:]...)
			}
		}
		heard := false
		if !c.acceptAt.IsZero() && c.customerAt.IsZero() && c.hear.frame(buf[:n], now) {
			c.customerAt = c.hear.found
			heard = true
		}
		c.mu.Unlock()
		if heard {
			c.checkTwoWay()
		}
	}
}

// receivedAudio returns the newest audio the caller received.
func (c *call) receivedAudio() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.audio...)
}

// failure returns the call's error, if any.
func (c *call) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

package telephony

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
	"github.com/zaf/g711"

	"github.com/parley-cc/parley/internal/cc"
)

// BrowserLegs gives the audio of agents who talk through the panel's
// softphone (internal/softphone's hub, adapted).
type BrowserLegs interface {
	// Wait returns the agent's live browser audio leg, waiting for one
	// until ctx ends.
	Wait(ctx context.Context, tenantID, userID string) (BrowserLeg, error)
}

// BrowserLeg is one live audio connection to an agent's panel: G.711
// u-law (PCMU) payloads both ways, and the digits the panel's keypad sends.
type BrowserLeg interface {
	// Read returns the next audio payload from the browser; an error
	// (io.EOF) once the leg ended.
	Read(b []byte) (int, error)
	// Write sends one audio payload to the browser.
	Write(b []byte) (int, error)
	// OnDigit sets the callback for RFC 4733 digits from the browser.
	OnDigit(f func(rune))
	// Done is closed when the leg ended.
	Done() <-chan struct{}
}

// browserLegWait bounds the wait for a browser agent's audio after the
// agent accepted (the panel may be reconnecting it).
const browserLegWait = 10 * time.Second

// agentSide is the agent's end of a call: a SIP leg to a phone (agentLeg)
// or the audio of the agent's panel (browserSide).
type agentSide interface {
	// join bridges the agent to b.
	join(b *callBridge, holdWAV []byte) error
	// gone is closed when the agent's side ended by itself (the phone hung
	// up). A browser agent's side never does: a reload is not a hang-up.
	gone() <-chan struct{}
	// hangup ends the agent's side.
	hangup()
}

func (l *agentLeg) join(b *callBridge, holdWAV []byte) error { return b.attach(l.med, holdWAV) }
func (l *agentLeg) gone() <-chan struct{}                    { return l.dlg.Context().Done() }

// isBrowser reports whether an agent takes calls in the panel.
func isBrowser(u *cc.User) bool { return u != nil && u.EndpointKind() == cc.EndpointBrowser }

// reachAgent gets the agent's side of a call: the live browser audio of a
// browser agent (waiting for it up to ctx), or the first of the offer's SIP
// endpoints to answer.
func (s *Server) reachAgent(ctx context.Context, caller *diago.DialogServerSession, offer *cc.Offer, it *cc.Interaction, extra []sip.Header) (agentSide, string, string, error) {
	if !isBrowser(offer.Agent) {
		leg, reason, detail, err := s.dialAgent(ctx, caller, offer, it, extra)
		if err != nil {
			return nil, reason, detail, err
		}
		return leg, "", "", nil
	}
	if s.deps.Browser == nil {
		return nil, cc.ReasonConnectionLost, "this server has no browser softphone", errors.New("no browser softphone")
	}
	leg, err := s.deps.Browser.Wait(ctx, offer.Agent.TenantID, offer.Agent.ID)
	if err != nil {
		return nil, cc.ReasonConnectionLost, "the panel's audio did not connect in time", err
	}
	return newBrowserSide(s.deps.Browser, offer.Agent, leg, s.log), "", "", nil
}

// browserSide is a browser agent's end of one call. The customer's leg lives
// on the server; the agent's audio legs come and go with the panel (a
// reload, a network blip). While none is live the customer hears hold
// audio, and the agent's next leg joins the same call.
type browserSide struct {
	legs  BrowserLegs
	agent *cc.User
	first BrowserLeg
	log   *slog.Logger

	stop     chan struct{}
	stopOnce sync.Once
	never    chan struct{}
}

func newBrowserSide(legs BrowserLegs, agent *cc.User, first BrowserLeg, log *slog.Logger) *browserSide {
	return &browserSide{legs: legs, agent: agent, first: first, log: log.With("agent", agent.Username),
		stop: make(chan struct{}), never: make(chan struct{})}
}

func (s *browserSide) gone() <-chan struct{} { return s.never }

func (s *browserSide) hangup() { s.stopOnce.Do(func() { close(s.stop) }) }

// join attaches the first leg and follows the agent's legs until hangup.
func (s *browserSide) join(b *callBridge, holdWAV []byte) error {
	l := s.relayLeg(b, s.first)
	if err := b.attachLeg(l, holdWAV, false); err != nil {
		return err
	}
	go s.follow(b, s.first, l)
	return nil
}

// follow re-attaches the agent's audio each time the panel comes back.
func (s *browserSide) follow(b *callBridge, leg BrowserLeg, l *relayLeg) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-s.stop:
			return
		case <-leg.Done():
		}
		b.leave(l)
		s.log.Info("the agent's browser audio is gone; the customer hears hold audio until the panel is back")
		next, err := s.legs.Wait(ctx, s.agent.TenantID, s.agent.ID)
		if err != nil {
			return // hung up while away
		}
		leg, l = next, s.relayLeg(b, next)
		if err := b.attachLeg(l, nil, true); err != nil {
			s.log.Info("the agent's browser audio is back but the call ended", "error", err)
			return
		}
		s.log.Info("the agent's browser audio is back")
	}
}

// relayLeg presents a browser leg to the bridge. The browser speaks PCMU;
// a customer line on PCMA is converted sample by sample (both are G.711:
// a table lookup, no codec).
func (s *browserSide) relayLeg(b *callBridge, leg BrowserLeg) *relayLeg {
	codec := b.custLeg.media.WriterProps.Codec
	var r io.Reader = leg
	var w io.Writer = leg
	if codec.PayloadType == media.CodecAudioAlaw.PayloadType {
		r = convertReader{r: leg, f: g711.Ulaw2Alaw}
		w = convertWriter{w: leg, f: g711.Alaw2Ulaw}
	}
	l := &relayLeg{}
	l.media.Reader, l.media.Writer = r, w
	l.media.ReaderProps.Codec, l.media.WriterProps.Codec = codec, codec
	l.listen = func(f func(rune) error) {
		leg.OnDigit(func(d rune) { _ = f(d) })
	}
	return l
}

// convertReader converts each payload it reads with f.
type convertReader struct {
	r io.Reader
	f func([]byte) []byte
}

func (c convertReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		copy(b, c.f(b[:n]))
	}
	return n, err
}

// convertWriter converts each payload with f before writing it.
type convertWriter struct {
	w io.Writer
	f func([]byte) []byte
}

func (c convertWriter) Write(b []byte) (int, error) {
	if _, err := c.w.Write(c.f(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

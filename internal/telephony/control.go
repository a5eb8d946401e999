package telephony

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"

	"github.com/parley-cc/parley/internal/cc"
)

// callBridge joins a customer's leg to the current agent's leg, with the
// call controls in between. It replaces diago's two-party bridge, which
// copies blindly: here each packet passes a switch that hold and mute set.
//
// The customer's leg is read by one pump for the bridge's whole life, so
// it outlives an agent's leg released for a transfer (the next agent's
// leg is attached to the same bridge). Each agent leg has its own pump that
// ends when that leg's media closes.
//
// Hold: the customer hears hold audio (paced from a WAV, like queue audio)
// and neither side's audio reaches the other. Mute: the agent's audio to
// the customer is replaced by silence of the same length, so the
// customer's jitter buffer sees no gap. RFC 4733 digits cross from each leg
// to the other when both negotiated telephone-event; digits from the panel
// go to the customer when the customer's leg negotiated it.
type callBridge struct {
	cust    *diago.DialogMedia
	custLeg *relayLeg
	silence byte // G.711 silence of the customer's codec
	log     *slog.Logger

	// wmu serialises the writers of the customer's RTP stream.
	wmu sync.Mutex

	mu    sync.Mutex
	agent *relayLeg
	// away: the agent's leg ended but the agent has not (browser audio
	// lost in a reload); hold audio plays until the next leg is attached.
	away    bool
	holdWAV []byte
	held    bool
	muted   bool
	hold    *player
	dtmf    chan string // digits from the panel, sent in order
	closed  bool
}

// newCallBridge starts relaying the customer's leg (dropping its audio
// until an agent is attached). holdWAV is what the customer hears on hold.
func newCallBridge(cust *diago.DialogMedia, holdWAV []byte, log *slog.Logger) (*callBridge, error) {
	relayUnpaced(cust)
	l, err := newRelayLeg(cust, negotiatedDTMF(cust))
	if err != nil {
		return nil, err
	}
	b := &callBridge{cust: cust, custLeg: l, silence: 0xFF, holdWAV: holdWAV, log: log, dtmf: make(chan string, 8)}
	// The relay keeps the writer it was given; the dialog's own writer goes
	// back to the paced RTP writer so that queue and hold audio played
	// later (after a transfer, on hold) is sent in real time. diago's RTP
	// writer is not safe for concurrent writers, so every writer to the
	// customer (relay, player, digits) takes wmu.
	if cust.RTPPacketWriter != nil {
		cust.SetAudioWriter(&lockedWriter{mu: &b.wmu, w: cust.RTPPacketWriter})
	}
	if ms := cust.MediaSession(); ms != nil && media.CodecAudioFromSession(ms).PayloadType == media.CodecAudioAlaw.PayloadType {
		b.silence = 0xD5
	}
	if l.listen != nil {
		l.listen(func(d rune) error {
			b.mu.Lock()
			to := b.agent
			b.mu.Unlock()
			if to != nil && to.tone != nil {
				_ = relayDigit(to.tone, "agent", log)(d)
			}
			return nil
		})
	}
	go b.pumpCustomer()
	go b.sendDigits()
	return b, nil
}

// pumpCustomer copies the customer's audio to the attached agent.
func (b *callBridge) pumpCustomer() {
	buf := make([]byte, media.RTPBufSize)
	for {
		n, err := b.custLeg.media.Reader.Read(buf)
		if err != nil {
			return
		}
		b.mu.Lock()
		to, held := b.agent, b.held
		b.mu.Unlock()
		if to == nil || held {
			continue
		}
		if _, err := to.media.Writer.Write(buf[:n]); err != nil {
			b.log.Debug("relay to the agent", "error", err)
		}
	}
}

// attach bridges an agent's SIP leg to the customer; holdWAV replaces the
// hold audio (the queue the call is in now).
func (b *callBridge) attach(agent *diago.DialogMedia, holdWAV []byte) error {
	relayUnpaced(agent)
	l, err := newRelayLeg(agent, negotiatedDTMF(agent))
	if err != nil {
		return err
	}
	return b.attachLeg(l, holdWAV, false)
}

// attachLeg bridges an agent's leg to the customer. A new agent (keep
// false) starts neither held nor muted; a returning one (keep: the same
// agent's browser audio back after a reload) keeps the hold and mute the
// agent chose. Hold audio played while the agent was away stops unless the
// agent holds the call.
func (b *callBridge) attachLeg(l *relayLeg, holdWAV []byte, keep bool) error {
	if l.media.ReaderProps.Codec != b.custLeg.media.WriterProps.Codec {
		return cc.Errorf(cc.EINTERNAL, "the agent's phone answered with %s but the customer's line uses %s: Parley does not transcode",
			l.media.ReaderProps.Codec.Name, b.custLeg.media.WriterProps.Codec.Name)
	}
	if l.listen != nil && b.custLeg.tone != nil {
		relay := relayDigit(b.custLeg.tone, "customer", b.log)
		l.listen(func(d rune) error {
			b.mu.Lock()
			cur, held := b.agent == l, b.held
			b.mu.Unlock()
			if !cur || held {
				return nil
			}
			b.wmu.Lock()
			defer b.wmu.Unlock()
			return relay(d)
		})
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return cc.Errorf(cc.ECONFLICT, "the call has ended")
	}
	b.agent = l
	if !keep {
		b.held, b.muted = false, false
	}
	if holdWAV != nil {
		b.holdWAV = holdWAV
	}
	var p *player
	if b.away && !b.held {
		p, b.hold = b.hold, nil
	}
	b.away = false
	b.mu.Unlock()
	if p != nil {
		p.stop()
	}
	go b.pumpAgent(l)
	return nil
}

// leave detaches l, an agent leg that ended while the call goes on (the
// agent's browser reloaded or lost its network), and plays hold audio to the
// customer until the agent's next leg is attached. It does nothing if l is
// no longer the attached leg.
func (b *callBridge) leave(l *relayLeg) {
	b.wmu.Lock()
	b.mu.Lock()
	if b.agent != l || b.closed {
		b.mu.Unlock()
		b.wmu.Unlock()
		return
	}
	b.agent, b.away = nil, true
	if b.hold == nil {
		b.hold = loopSound(b.cust, b.holdWAV, b.log)
	}
	b.mu.Unlock()
	b.wmu.Unlock()
}

// pumpAgent copies one agent leg's audio to the customer while that leg is
// the attached one. It checks that under wmu, which detach also takes, so
// no packet of a leg reaches the customer once detach has returned (a
// released agent is never heard after the transfer).
func (b *callBridge) pumpAgent(l *relayLeg) {
	buf := make([]byte, media.RTPBufSize)
	var quiet []byte
	for {
		n, err := l.media.Reader.Read(buf)
		if err != nil {
			return
		}
		b.wmu.Lock()
		b.mu.Lock()
		cur, held, muted := b.agent == l, b.held, b.muted
		b.mu.Unlock()
		if !cur {
			b.wmu.Unlock()
			return
		}
		if held {
			b.wmu.Unlock()
			continue
		}
		out := buf[:n]
		if muted {
			if len(quiet) < n {
				quiet = bytes.Repeat([]byte{b.silence}, n)
			}
			out = quiet[:n]
		}
		_, err = b.custLeg.media.Writer.Write(out)
		b.wmu.Unlock()
		if err != nil {
			b.log.Debug("relay to the customer", "error", err)
		}
	}
}

// detach forgets the agent's leg (released or hung up) and stops hold
// audio; the customer's pump goes on dropping its audio. Taking wmu waits
// for a packet of the agent's being written to the customer, so none
// follows. (Lock order: wmu, then mu.)
func (b *callBridge) detach() {
	b.wmu.Lock()
	b.mu.Lock()
	b.agent, b.away = nil, false
	b.held, b.muted = false, false
	p := b.hold
	b.hold = nil
	b.mu.Unlock()
	b.wmu.Unlock()
	if p != nil {
		p.stop()
	}
}

// setHold starts or stops hold audio for the customer.
func (b *callBridge) setHold(on bool) error {
	b.mu.Lock()
	if (b.agent == nil && !b.away) || b.closed {
		b.mu.Unlock()
		return cc.Errorf(cc.ECONFLICT, "no agent is on the call: nothing to hold")
	}
	if b.held == on {
		b.mu.Unlock()
		return nil
	}
	b.held = on
	if b.away {
		// hold audio plays anyway until the agent is back
		b.mu.Unlock()
		return nil
	}
	p := b.hold
	b.hold = nil
	if on {
		b.hold = loopSound(b.cust, b.holdWAV, b.log)
	}
	b.mu.Unlock()
	if p != nil {
		// stopping waits for the player; it plays to the customer only
		p.stop()
	}
	return nil
}

// setMute starts or stops replacing the agent's audio with silence.
func (b *callBridge) setMute(on bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if (b.agent == nil && !b.away) || b.closed {
		return cc.Errorf(cc.ECONFLICT, "no agent is on the call: nothing to mute")
	}
	b.muted = on
	return nil
}

// sendDTMF queues digits for the customer.
func (b *callBridge) sendDTMF(digits string) error {
	if b.custLeg.tone == nil {
		return cc.Errorf(cc.ECONFLICT, "the customer's line did not negotiate RFC 4733 telephone-event: digits cannot be sent on this call")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return cc.Errorf(cc.ECONFLICT, "the call has ended")
	}
	select {
	case b.dtmf <- digits:
		return nil
	default:
		return cc.Errorf(cc.ERATELIMIT, "digits are still being sent: wait until they are out")
	}
}

// sendDigits sends queued digits one after another (each event takes
// about a tenth of a second), until close.
func (b *callBridge) sendDigits() {
	for digits := range b.dtmf {
		for _, d := range digits {
			b.wmu.Lock()
			err := b.custLeg.tone(d)
			b.wmu.Unlock()
			if err != nil {
				b.log.Warn("send DTMF to the customer", "digit", string(d), "error", err)
				break
			}
		}
	}
}

// close stops hold audio and digit sending; the pumps end with their legs.
func (b *callBridge) close() {
	b.detach()
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.dtmf)
	}
	b.mu.Unlock()
}

// callControl is the cc.CallControl of one connected call. Hang-up and
// release are signals to the goroutine that carries the call, which ends
// the legs and reports to the contact center.
type callControl struct {
	mu       sync.Mutex
	bridge   *callBridge
	canXfer  bool
	hangup   chan struct{}
	release  chan struct{}
	detail   string
	hungUp   bool
	released bool
}

var _ cc.CallControl = (*callControl)(nil)

func newCallControl(canTransfer bool) *callControl {
	return &callControl{canXfer: canTransfer, hangup: make(chan struct{}), release: make(chan struct{})}
}

// errConnecting answers controls used before the legs are bridged.
var errConnecting = cc.Errorf(cc.ECONFLICT, "the call is still connecting: try again in a moment")

func (k *callControl) setBridge(b *callBridge) {
	k.mu.Lock()
	k.bridge = b
	k.mu.Unlock()
}

func (k *callControl) current() (*callBridge, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.hungUp || k.released {
		return nil, cc.Errorf(cc.ECONFLICT, "the call is ending")
	}
	if k.bridge == nil {
		return nil, errConnecting
	}
	return k.bridge, nil
}

// Hold puts the customer on hold or resumes the call.
func (k *callControl) Hold(on bool) error {
	b, err := k.current()
	if err != nil {
		return err
	}
	return b.setHold(on)
}

// Mute replaces the agent's audio with silence, or stops.
func (k *callControl) Mute(on bool) error {
	b, err := k.current()
	if err != nil {
		return err
	}
	return b.setMute(on)
}

// SendDTMF sends digits to the customer.
func (k *callControl) SendDTMF(digits string) error {
	if err := cc.ValidateDTMF(digits); err != nil {
		return err
	}
	b, err := k.current()
	if err != nil {
		return err
	}
	return b.sendDTMF(digits)
}

// Hangup ends both legs.
func (k *callControl) Hangup(detail string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.hungUp {
		k.hungUp, k.detail = true, detail
		close(k.hangup)
	}
	return nil
}

// ReleaseAgent ends the agent's leg; the customer stays.
func (k *callControl) ReleaseAgent() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.canXfer {
		return cc.Errorf(cc.ECONFLICT, "this call cannot be transferred")
	}
	if k.hungUp {
		return cc.Errorf(cc.ECONFLICT, "the call is ending")
	}
	if !k.released {
		k.released = true
		close(k.release)
	}
	return nil
}

// hangupDetail is the detail given to Hangup.
func (k *callControl) hangupDetail() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.detail == "" {
		return "hung up in the panel"
	}
	return k.detail
}

// lockedWriter writes to w holding mu.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

// Write writes b to the underlying writer under the lock.
func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// loopSound plays wav to a leg in a loop until stopped.
func loopSound(m *diago.DialogMedia, wav []byte, log *slog.Logger) *player {
	return playLoop(m, wav, wav, log)
}

// sendExtension sends an extension's digits to the customer after answer,
// once the far end had a moment to set up its media.
func (b *callBridge) sendExtension(digits string, after time.Duration) {
	if digits == "" {
		return
	}
	time.AfterFunc(after, func() {
		if err := b.sendDTMF(digits); err != nil && !errors.Is(err, errConnecting) {
			b.log.Warn("extension not sent", "digits", digits, "error", err)
		}
	})
}

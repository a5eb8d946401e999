package telephony

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/rfc4733"
)

// SoundEnterAccount is the bundled prompt of a digit collection without
// its own: "Please enter your account number, followed by the hash key."
const SoundEnterAccount = "enter-account.wav"

// errCollectStopped is a digit collection ended by the caller leaving or
// the server shutting down.
var errCollectStopped = errors.New("digit collection stopped")

// digitCollector gathers one caller's digits (RFC 4733) against a
// cc.DigitCollection: up to MaxDigits, '#' ends early, the timeout runs
// from the end of the prompt and again after every digit. '*' and A-D are
// not digits of an answer and are ignored.
type digitCollector struct {
	col    *cc.DigitCollection
	digits strings.Builder
}

// add takes one key press and reports whether the collection is complete.
func (g *digitCollector) add(d rune) bool {
	switch {
	case d == '#':
		return true
	case d >= '0' && d <= '9':
		g.digits.WriteRune(d)
	}
	return g.digits.Len() >= g.col.MaxDigits
}

// collect plays the prompt and reads digits (eventReader) from the caller's
// leg until the collection is complete or times out, and returns them
// (possibly none).
// It returns errCollectStopped when ctx ends or stop is closed first, and
// the read error when the caller's media fails. The leg's audio reader is
// free again when it returns: the queue audio and the bridge read it next.
func collect(ctx context.Context, stop <-chan struct{}, med *diago.DialogMedia, prompt []byte, col *cc.DigitCollection, log *slog.Logger) (string, error) {
	pt, ok := dtmfPayloadType(med)
	if !ok {
		return "", errors.New("telephone-event/8000 is not negotiated on the caller's leg")
	}
	r, err := med.AudioReader()
	if err != nil {
		return "", err
	}
	keys := make(chan rune, 64)
	readErr := make(chan error, 1)
	go func() {
		buf := make([]byte, media.RTPBufSize)
		var events rfc4733.Reader
		for {
			n, err := r.Read(buf)
			if err != nil {
				readErr <- err
				return
			}
			hdr := med.RTPPacketReader.PacketHeader
			if hdr.PayloadType != pt {
				continue // audio, or comfort noise
			}
			if d, ok := events.Packet(hdr.Timestamp, hdr.Marker, buf[:n]); ok {
				select {
				case keys <- d:
				default: // a caller leaning on the keypad; the collection is long complete
				}
			}
		}
	}()
	defer func() {
		// Stop the reader at the socket (a read deadline in the past), wait
		// for it, and clear the deadline for whoever reads next.
		if err := med.StopRTP(1, 0); err != nil {
			log.Debug("stop the digit reader", "error", err)
		}
		if err := <-readErr; err != nil && !isTimeout(err) {
			log.Debug("digit reader ended", "error", err)
		}
		if err := med.StartRTP(1, 0); err != nil {
			log.Debug("resume reading the caller's media", "error", err)
		}
	}()

	pl := playOnceAsync(med, prompt, log)
	defer pl.stop()
	promptDone := pl.ended
	g := &digitCollector{col: col}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return g.digits.String(), errCollectStopped
		case <-stop:
			return g.digits.String(), errCollectStopped
		case err := <-readErr:
			readErr <- err // for the deferred wait
			return g.digits.String(), err
		case <-promptDone:
			promptDone = nil // the prompt ended: the caller has the timeout to start
			timer.Reset(col.DigitTimeout())
		case d := <-keys:
			pl.stop() // barge-in: the caller knows what to do
			if g.add(d) {
				return g.digits.String(), nil
			}
			timer.Reset(col.DigitTimeout())
		case <-timer.C:
			log.Info("digit collection timed out", "key", col.Key, "digits", g.digits.Len())
			return g.digits.String(), nil
		}
	}
}

// dtmfPayloadType returns the payload type the caller's phone sends RFC
// 4733 events on, when the leg negotiated telephone-event/8000.
func dtmfPayloadType(m *diago.DialogMedia) (uint8, bool) {
	ms := m.MediaSession()
	if ms == nil {
		return 0, false
	}
	for _, c := range ms.CommonCodecs() {
		if c.Matches(media.CodecTelephoneEvent8000) {
			return c.PayloadTypeRecv(), true
		}
	}
	return 0, false
}

// isTimeout reports whether err is a read deadline passing.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// oneShot is a sound played once in the background.
type oneShot struct {
	ctrl    diago.AudioPlaybackControl
	ended   chan struct{} // closed when playback ends
	stopped bool
}

// playOnceAsync starts playing wav to the caller.
func playOnceAsync(med *diago.DialogMedia, wav []byte, log *slog.Logger) *oneShot {
	p := &oneShot{ended: make(chan struct{})}
	ctrl, err := med.PlaybackControlCreate()
	if err != nil {
		log.Warn("no prompt audio", "error", err)
		close(p.ended)
		return p
	}
	p.ctrl = ctrl
	go func() {
		defer close(p.ended)
		if _, err := ctrl.Play(bytes.NewReader(wav), "audio/wav"); err != nil {
			log.Debug("prompt stopped", "error", err)
		}
	}()
	return p
}

// stop ends the playback and waits for it; it may be called more than once.
func (p *oneShot) stop() {
	if !p.stopped {
		p.stopped = true
		if p.ctrl.AudioPlayback.Codec().SampleRate != 0 {
			p.ctrl.Stop()
		}
	}
	<-p.ended
}

// collectData asks the caller for the entry point's digits and returns the
// call's data with them added under the collection's key. A caller whose leg did not negotiate telephone-event is
// not asked, and one who keys in nothing is queued without the key; both
// fall back to the caller-ID search. It returns errCollectStopped when the
// caller left or the server is shutting down.
func (c *inboundCall) collectData(col *cc.DigitCollection, data map[string]string) (map[string]string, error) {
	if !negotiatedDTMF(c.med) {
		c.log.Info("caller's leg has no telephone-event (RFC 4733): not asking for digits", "key", col.Key)
		return data, nil
	}
	prompt := c.s.sounds.Get(col.Prompt, SoundEnterAccount)
	digits, err := collect(c.d.Context(), c.done, c.med, prompt, col, c.log)
	if errors.Is(err, errCollectStopped) {
		return data, err
	}
	if err != nil {
		c.log.Warn("reading the caller's digits failed", "key", col.Key, "error", err)
	}
	if digits == "" {
		c.log.Info("caller keyed in no digits", "key", col.Key)
		return data, nil
	}
	out := maps.Clone(data)
	if out == nil {
		out = map[string]string{}
	}
	out[col.Key] = digits
	c.log.Info("caller keyed in digits", "key", col.Key, "digits", len(digits))
	return out, nil
}

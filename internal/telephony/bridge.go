package telephony

import (
	"io"
	"log/slog"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
)

// The bridge of a connected call is callBridge (control.go). A leg is
// relayed as it arrives (relayUnpaced). diago's Bridge.AddDialogMedia with
// DTMFpass wires a leg's digit reader to the same leg's digit writer, so
// every digit went back to whoever pressed it; here the legs are built by
// hand and crossed.
//
// Digits are relayed only when both legs agreed on telephone-event: diago
// cannot read or write them on a leg without it. Each leg reads and writes
// them on its own negotiated payload type. Only audio packets are relayed
// as audio: a telephone-event (or comfort-noise) payload copied into the
// other leg's audio stream would be played there as noise.

// relayLeg is one leg as the bridge sees it.
type relayLeg struct {
	media diago.BridgeAudioMedia
	// listen registers the callback for the digits the leg's phone sends;
	// nil when the leg cannot carry them.
	listen func(func(rune) error)
	// tone sends a digit to the leg's phone; nil when it cannot.
	tone func(rune) error
}

func newRelayLeg(m *diago.DialogMedia, dtmf bool) (*relayLeg, error) {
	l := &relayLeg{}
	ropts := []diago.AudioReaderOption{diago.WithAudioReaderMediaProps(&l.media.ReaderProps)}
	wopts := []diago.AudioWriterOption{diago.WithAudioWriterMediaProps(&l.media.WriterProps)}
	if dtmf {
		digits, tones := &diago.DTMFReader{}, &diago.DTMFWriter{}
		ropts = append(ropts, diago.WithAudioReaderDTMF(digits))
		wopts = append(wopts, diago.WithAudioWriterDTMF(tones))
		l.listen = func(f func(rune) error) { digits.OnDTMF(f) }
		l.tone = tones.WriteDTMF
	}
	r, err := m.AudioReader(ropts...)
	if err != nil {
		return nil, err
	}
	w, err := m.AudioWriter(wopts...)
	if err != nil {
		return nil, err
	}
	l.media.Reader = &audioOnlyReader{r: r, leg: m}
	l.media.Writer = w
	l.media.StopRTP = func() error { return m.StopRTP(0, 0) }
	l.media.StartRTP = func() error { return m.StartRTP(0, 0) }
	return l, nil
}

// relayDigit returns the callback that sends a digit read on one leg to
// the other (named to). A digit that cannot be sent is logged, not
// returned: an error would stop the leg's audio relay with it.
func relayDigit(to func(rune) error, name string, log *slog.Logger) func(rune) error {
	return func(d rune) error {
		if err := to(d); err != nil {
			log.Debug("relay DTMF", "to", name, "digit", string(d), "error", err)
		}
		return nil
	}
}

// audioOnlyReader reads a leg's audio payloads for the relay and skips the
// rest: RFC 4733 events (relayed as digits, if at all), comfort noise, and
// the empty reads of a leg whose media is on hold.
type audioOnlyReader struct {
	r   io.Reader
	leg *diago.DialogMedia
}

// Read returns the next audio payload.
func (a *audioOnlyReader) Read(b []byte) (int, error) {
	for {
		n, err := a.r.Read(b)
		if err != nil {
			return n, err
		}
		if n > 0 && a.leg.RTPPacketReader.PacketHeader.PayloadType == audioPayloadType(a.leg) {
			return n, nil
		}
	}
}

// audioPayloadType is the payload type the leg's phone sends audio on. It is
// read per packet: a re-INVITE may renegotiate it.
func audioPayloadType(m *diago.DialogMedia) uint8 {
	ms := m.MediaSession()
	if ms == nil {
		return 0
	}
	return media.CodecAudioFromSession(ms).PayloadTypeRecv()
}

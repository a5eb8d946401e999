package telephony

import (
	"bytes"
	"testing"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/pion/rtp"
)

// packetSink records the RTP packets a writer sends.
type packetSink struct{ pkts []rtp.Packet }

func (s *packetSink) WriteRTP(p *rtp.Packet) error {
	cp := *p
	cp.Payload = bytes.Clone(p.Payload)
	s.pkts = append(s.pkts, cp)
	return nil
}

// negotiatedLeg returns a leg whose offer and answer agreed on the codecs of
// sdp, writing its RTP into sink.
func negotiatedLeg(t *testing.T, sdp []byte, sink *packetSink) *diago.DialogMedia {
	t.Helper()
	ms := &media.MediaSession{Codecs: Codecs}
	if err := ms.RemoteSDP(sdp, true); err != nil {
		t.Fatalf("RemoteSDP: %v", err)
	}
	var dm diago.DialogMedia
	dm.InitMediaSession(ms, nil, media.NewRTPPacketWriter(sink, media.CodecAudioFromSession(ms)))
	return &dm
}

func TestRelayUnpacedWritesAtOnceOnTheLegsStream(t *testing.T) {
	for _, tt := range []struct {
		name string
		sdp  []byte
		pt   uint8
	}{
		{"PCMU", remoteSDP("0", "a=rtpmap:0 PCMU/8000"), 0},
		{"PCMA", remoteSDP("8", "a=rtpmap:8 PCMA/8000"), 8},
		{"PCMU with DTMF", remoteSDP("0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000"), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sink := &packetSink{}
			leg := negotiatedLeg(t, tt.sdp, sink)
			// Queue audio first: paced, on the leg's stream.
			if _, err := leg.RTPPacketWriter.Write(make([]byte, 160)); err != nil {
				t.Fatal(err)
			}
			relayUnpaced(leg)
			w, err := leg.AudioWriter()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := w.(*unpacedWriter); !ok {
				t.Fatalf("audio writer after relayUnpaced is %T, want *unpacedWriter", w)
			}
			// Without its clock the paced writer would block (or panic) on
			// the next Write; the relay must not need it.
			leg.RTPPacketWriter.ClockDisable()
			sizes := []int{160, 160, 240, 80} // 20, 20, 30 and 10 ms of G.711
			for i, n := range sizes {
				if _, err := w.Write(bytes.Repeat([]byte{byte(i + 1)}, n)); err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
			}
			if len(sink.pkts) != 1+len(sizes) {
				t.Fatalf("sent %d packets, want %d", len(sink.pkts), 1+len(sizes))
			}
			first := sink.pkts[0]
			ts := first.Timestamp + 160
			for i, p := range sink.pkts[1:] {
				if p.SSRC != first.SSRC {
					t.Errorf("packet %d: SSRC %x, want the leg's %x", i, p.SSRC, first.SSRC)
				}
				if p.SequenceNumber != first.SequenceNumber+uint16(i+1) {
					t.Errorf("packet %d: sequence %d, want %d", i, p.SequenceNumber, first.SequenceNumber+uint16(i+1))
				}
				if p.Timestamp != ts {
					t.Errorf("packet %d: timestamp %d, want %d", i, p.Timestamp, ts)
				}
				ts += uint32(sizes[i])
				if p.PayloadType != tt.pt {
					t.Errorf("packet %d: payload type %d, want %d", i, p.PayloadType, tt.pt)
				}
				if len(p.Payload) != sizes[i] || p.Payload[0] != byte(i+1) {
					t.Errorf("packet %d: payload of %d bytes starting %d, want %d bytes of %d", i, len(p.Payload), p.Payload[0], sizes[i], i+1)
				}
			}
		})
	}
}

func TestRelayUnpacedLeavesALegWithoutMedia(t *testing.T) {
	var dm diago.DialogMedia
	relayUnpaced(&dm)
	w, err := dm.AudioWriter()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := w.(*unpacedWriter); ok {
		t.Error("a leg without media got the relay writer")
	}
}

// Package rfc4733 reads DTMF key presses from RFC 4733 telephone-event
// packets. It is shared by the SIP legs (internal/telephony, diago's RTP
// reader) and the browser legs (internal/softphone, pion's track reader):
// both hand it each telephone-event packet's timestamp, marker bit and
// payload, on the payload type their leg negotiated.
//
// diago's own reader is not used because it loses events whose first
// packet has duration 0 and hard-codes PT 101 on WebRTC (telephony.md B1,
// B2).
package rfc4733

import (
	"strings"

	"github.com/emiago/diago/media"
)

// Reader turns RFC 4733 telephone-event packets into key presses. An
// event starts with a packet whose marker bit is set or whose RTP timestamp
// differs from the last (RFC 4733 section 2.5.1.2: every packet of an event
// carries its start timestamp; diago's writer keeps one timestamp for
// back-to-back events and marks each start). It is reported once, at its
// first packet with the end bit, so the three retransmitted end packets
// count once. It does not need the event's first packet to have a duration above
// 0, which diago's own reader does (telephony.md B1: SIPp's pcaps and some
// gateways start at 0, and their digits were lost).
// The zero Reader is ready; one Reader serves one stream.
type Reader struct {
	started  bool
	ts       uint32 // the timestamp of the current event
	reported bool   // the current event was reported
}

// Packet takes one telephone-event packet (its RTP timestamp, marker bit
// and payload) and returns the key when it ends an event not reported yet.
// Payloads that are not events (shorter than 4 bytes, event codes above 15)
// are ignored.
func (r *Reader) Packet(ts uint32, marker bool, payload []byte) (rune, bool) {
	var ev media.DTMFEvent
	if err := media.DTMFDecode(payload, &ev); err != nil || ev.Event > 15 {
		return 0, false
	}
	if !r.started || ts != r.ts || marker {
		r.started, r.ts, r.reported = true, ts, false
	}
	if !ev.EndOfEvent || r.reported {
		return 0, false
	}
	r.reported = true
	return media.DTMFToRune(ev.Event), true
}

// keys are the sixteen DTMF keys in event-code order (RFC 4733 section 3.2).
const keys = "0123456789*#ABCD"

// Code returns the event code of a DTMF key ('0'-'9', '*', '#', 'A'-'D';
// lower-case letters too), and false for anything else.
func Code(key rune) (uint8, bool) {
	i := strings.IndexRune(keys, key)
	if i < 0 && key >= 'a' && key <= 'd' {
		i = strings.IndexRune(keys, key-'a'+'A')
	}
	if i < 0 {
		return 0, false
	}
	return uint8(i), true
}

// Payload encodes one telephone-event payload: the event code, the end
// bit, volume 10 (-10 dBm0) and the duration in timestamp units.
func Payload(code uint8, end bool, duration uint16) []byte {
	return media.DTMFEncode(media.DTMFEvent{Event: code, EndOfEvent: end, Volume: 10, Duration: duration})
}

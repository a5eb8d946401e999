package rfc4733

import "testing"

// TestReader feeds RFC 4733 packets as phones and gateways send them.
func TestReader(t *testing.T) {
	// ev is a telephone-event payload: event, end bit, volume 10, duration.
	ev := func(event byte, end bool, dur uint16) []byte {
		b := byte(10)
		if end {
			b |= 0x80
		}
		return []byte{event, b, byte(dur >> 8), byte(dur)}
	}
	type pkt struct {
		ts      uint32
		payload []byte
		marker  bool
	}
	for _, tc := range []struct {
		name string
		pkts []pkt
		want string
	}{
		{"start above 0, three end packets", []pkt{{160, ev(1, false, 160), false}, {160, ev(1, false, 320), false}, {160, ev(1, true, 480), false}, {160, ev(1, true, 480), false}, {160, ev(1, true, 480), false}}, "1"},
		// SIPp's pcaps and some gateways start at duration 0 (diago's reader lost these)
		{"start at duration 0", []pkt{{800, ev(4, false, 0), false}, {800, ev(4, false, 160), false}, {800, ev(4, true, 800), false}, {800, ev(4, true, 800), false}}, "4"},
		{"two events", []pkt{{160, ev(4, false, 160), false}, {160, ev(4, true, 480), false}, {1600, ev(2, false, 160), false}, {1600, ev(2, true, 480), false}, {1600, ev(2, true, 480), false}}, "42"},
		// the same digit twice is two events: two timestamps
		{"same digit twice", []pkt{{160, ev(7, true, 480), false}, {160, ev(7, true, 480), false}, {2000, ev(7, false, 0), false}, {2000, ev(7, true, 480), false}}, "77"},
		{"start packets lost: the end still counts", []pkt{{160, ev(9, true, 800), false}}, "9"},
		{"end packets lost: nothing", []pkt{{160, ev(5, false, 160), false}, {160, ev(5, false, 320), false}}, ""},
		{"# and *", []pkt{{160, ev(11, true, 480), false}, {900, ev(10, true, 480), false}}, "#*"},
		{"not an event", []pkt{{160, []byte{1, 0x80}, false}, {320, ev(200, true, 480), false}}, ""},
		// diago's writer: back-to-back events on one timestamp, each start marked
		{"marked starts on one timestamp", []pkt{{160, ev(4, false, 160), true}, {160, ev(4, true, 800), false}, {160, ev(4, true, 800), false},
			{160, ev(2, false, 160), true}, {160, ev(2, true, 800), false}, {160, ev(2, true, 800), false}}, "42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Reader
			var got string
			for _, p := range tc.pkts {
				if d, ok := r.Packet(p.ts, p.marker, p.payload); ok {
					got += string(d)
				}
			}
			if got != tc.want {
				t.Errorf("keys %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCodeAndPayload: every key round-trips through Code, Payload and a
// Reader; other runes have no code.
func TestCodeAndPayload(t *testing.T) {
	for i, key := range "0123456789*#ABCD" {
		c, ok := Code(key)
		if !ok || int(c) != i {
			t.Fatalf("Code(%q) = %d, %v; want %d", key, c, ok, i)
		}
		var r Reader
		if _, ok := r.Packet(100, true, Payload(c, false, 0)); ok {
			t.Fatalf("%q reported before its end", key)
		}
		if got, ok := r.Packet(100, false, Payload(c, true, 800)); !ok || got != key {
			t.Fatalf("%q read back as %q, %v", key, got, ok)
		}
	}
	if c, ok := Code('b'); !ok || c != 13 {
		t.Errorf("Code('b') = %d, %v; want 13", c, ok)
	}
	for _, key := range "xE# "[:2] + " " {
		if _, ok := Code(key); ok {
			t.Errorf("Code(%q) has a code", key)
		}
	}
}

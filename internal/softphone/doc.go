// Package softphone terminates the browser panel's audio: one WebRTC
// PeerConnection per signed-in browser agent (a "leg"), answered by Parley
// itself with pion/webrtc and carried over Parley's own signalling (the
// panel's event WebSocket sends the offer, the hub answers it).
//
// Why pion and our own signalling rather than SIP over WebSocket and
// diago's WebRTC media (telephony.md section 5): pion is the more mature
// stack (ICE with TURN, interceptors, RTCP reports), it keeps browser
// signalling apart from SIP, and it avoids two diago defects: its WebRTC
// DTMF reader hard-codes payload type 101 while Chrome sends
// telephone-event on 126 (B2), and its WebRTC stack is not hardened (no
// SRTP replay protection, an RTP/RTCP classifier that misreads some
// packets, no trickle ICE; B8). The call bridge joins a leg to the SIP side
// through Leg.Read and Leg.Write, both in G.711 u-law (PCMU): the hub
// answers with PCMU and telephone-event/8000 only, so nothing is
// transcoded.
//
// Lifecycle of a leg, per Key (tenant and user):
//
//   - Offer validates the browser's SDP, ends the key's previous leg
//     ("replaced by another panel"), and answers without trickle ICE: the
//     answer carries every candidate gathered within 5 s. A key has one leg
//     at most.
//   - The leg is live once the PeerConnection is connected (ICE and DTLS)
//     and the browser's audio track has arrived: Wait returns it,
//     AudioConnected reports true and OnChange(k, true) fires.
//   - It ends (Done is closed, Reason says why, Read returns io.EOF, Write
//     fails) when its owner releases it (the signalling socket closed or
//     the panel said so), when another offer for the key replaces it, when
//     the PeerConnection fails or closes (a reloaded tab closes it), when
//     ICE stays disconnected for more than 3 s (a blip that recovers sooner
//     keeps the leg), and when the hub closes.
//   - When no new leg of the key is live within Config.Grace of the end,
//     OnChange(k, false) fires once. The contact center then takes the
//     agent out of the available state; a reload within the grace costs
//     nothing.
//
// Each leg runs one goroutine that reads the browser's RTP (and two that
// read RTCP, for the interceptors' RTCP reports): PCMU payloads
// go to a buffer of three packets that Read takes from (the oldest is
// dropped, so a newly attached bridge hears no stale audio), and
// telephone-event packets, on the payload type the offer negotiated, go
// through the RFC 4733 reader shared with the SIP legs (internal/rfc4733)
// to the OnDigit callback.
package softphone

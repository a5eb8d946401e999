package softphone

// Gaps counts the packets missing from a stream of RTP sequence numbers.
// A number up to 32767 ahead of the expected one counts the numbers
// skipped as lost; one behind it (late, reordered or duplicated) changes
// nothing. The zero Gaps is ready.
type Gaps struct {
	next    uint16
	started bool
	lost    uint64
}

// Packet takes the sequence number of the next packet received.
func (g *Gaps) Packet(seq uint16) {
	ahead := seq - g.next
	switch {
	case !g.started:
		g.started = true
	case ahead >= 0x8000:
		return // late or duplicate: counted as lost when it was skipped
	default:
		g.lost += uint64(ahead)
	}
	g.next = seq + 1
}

// Lost returns the number of packets skipped so far.
func (g *Gaps) Lost() uint64 { return g.lost }

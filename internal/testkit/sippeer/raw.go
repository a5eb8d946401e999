package sippeer

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// maxUDPPayload is the largest UDP datagram over IPv4.
const maxUDPPayload = 65507

// SendRaw sends payload as it is to addr ("host:port") over network ("udp"
// or "tcp") and returns what comes back within wait: for UDP the first
// datagram, for TCP everything until the peer closes or wait passes. No
// answer is not an error (nil is returned); a refused TCP connection is.
// Use it to feed Parley malformed SIP ([MalformedSIP]) and then check that
// it still serves calls.
func SendRaw(network, addr string, payload []byte, wait time.Duration) ([]byte, error) {
	switch network {
	case "udp", "tcp":
	default:
		return nil, cc.Errorf(cc.EINVALID, "raw send over %q: use udp or tcp", network)
	}
	if network == "udp" && len(payload) > maxUDPPayload {
		return nil, cc.Errorf(cc.EINVALID, "raw UDP payload of %d bytes: a datagram holds at most %d; send it over tcp", len(payload), maxUDPPayload)
	}
	if wait < 0 {
		return nil, cc.Errorf(cc.EINVALID, "raw send wait %s: use 0 (do not read) or more", wait)
	}
	conn, err := net.DialTimeout(network+"4", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("raw send to %s/%s: %w", network, addr, err)
	}
	defer conn.Close()
	if err := conn.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return nil, fmt.Errorf("raw send to %s/%s: %w", network, addr, err)
	}
	if _, err := conn.Write(payload); err != nil {
		return nil, fmt.Errorf("raw send to %s/%s: %w", network, addr, err)
	}
	if wait == 0 {
		return nil, nil
	}
	if err := conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return nil, fmt.Errorf("raw send to %s/%s: %w", network, addr, err)
	}
	var got []byte
	buf := make([]byte, maxUDPPayload)
	for {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		switch {
		case network == "udp" && n > 0:
			return got, nil
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
			return got, nil
		case network == "udp" && errors.Is(err, syscall.ECONNREFUSED):
			return nil, fmt.Errorf("raw send to %s/%s: nothing listens there: %w", network, addr, err)
		default:
			return got, fmt.Errorf("raw send to %s/%s: %w", network, addr, err)
		}
	}
}

// RawMessage is one deliberately broken SIP message.
type RawMessage struct {
	// Name says what is wrong with it, e.g. "truncated headers".
	Name string
	Data []byte
}

// MalformedSIP returns broken SIP messages addressed to target
// ("host:port"): garbage, bad request lines, truncated and missing
// headers, wrong Content-Length, a malformed SDP body, NUL bytes, an
// oversized header and a stray response. Each fits in one UDP datagram.
// Every message has its own Call-ID, so a server that wrongly accepts one
// cannot confuse it with another, and a Via with rport, so that replies
// (such as 400 Bad Request) come back to [SendRaw]'s socket.
func MalformedSIP(target string) []RawMessage {
	n := 0
	head := func(method, extra string) string {
		n++
		id := "parley-kit-malformed-" + strconv.Itoa(n)
		return method + " sip:100@" + target + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK" + id + "\r\n" +
			"From: <sip:kit@127.0.0.1>;tag=" + id + "\r\n" +
			"To: <sip:100@" + target + ">\r\n" +
			"Call-ID: " + id + "\r\n" +
			"CSeq: 1 " + method + "\r\n" +
			"Max-Forwards: 70\r\n" + extra
	}
	truncated := head("INVITE", "Contact: <sip:kit@127.0.0.1:9>\r\nContent-Length: 0\r\n\r\n")
	truncated = truncated[:strings.Index(truncated, "CSeq: 1")+len("CSeq: 1")] // ends inside a header, with no blank line
	garbage := make([]byte, 512)
	for i := range garbage {
		garbage[i] = byte(i*197 + 13)
	}
	sdp := "v=0\r\no=\r\nc=IN IP4\r\nm=audio notaport RTP/AVP\r\na=rtpmap:0\r\n"
	return []RawMessage{
		{"binary garbage", garbage},
		{"request line only", []byte("INVITE\r\n\r\n")},
		{"bad SIP version", []byte(strings.Replace(head("INVITE", "Content-Length: 0\r\n\r\n"), "SIP/2.0\r\n", "SIP/9.9\r\n", 1))},
		{"bad request URI", []byte(strings.Replace(head("INVITE", "Content-Length: 0\r\n\r\n"), "sip:100@"+target, "sip:@@@:::", 1))},
		{"no headers", []byte("INVITE sip:100@" + target + " SIP/2.0\r\n\r\n")},
		{"truncated headers", []byte(truncated)},
		{"header without colon", []byte(head("INVITE", "This line has no colon\r\nContent-Length: 0\r\n\r\n"))},
		{"missing Call-ID", []byte(strings.Replace(head("INVITE", "Content-Length: 0\r\n\r\n"), "Call-ID:", "X-Not-Call-ID:", 1))},
		{"missing Via", []byte(strings.Replace(head("OPTIONS", "Content-Length: 0\r\n\r\n"), "Via:", "X-Not-Via:", 1))},
		{"non-numeric CSeq", []byte(strings.Replace(head("INVITE", "Content-Length: 0\r\n\r\n"), "CSeq: 1 ", "CSeq: one ", 1))},
		{"CSeq method mismatch", []byte(strings.Replace(head("INVITE", "Content-Length: 0\r\n\r\n"), "CSeq: 1 INVITE", "CSeq: 1 BYE", 1))},
		{"Content-Length larger than body", []byte(head("INVITE", "Content-Type: application/sdp\r\nContent-Length: 5000\r\n\r\nv=0\r\n"))},
		{"negative Content-Length", []byte(head("INVITE", "Content-Length: -12\r\n\r\n"))},
		{"malformed SDP", []byte(head("INVITE", "Contact: <sip:kit@127.0.0.1:9>\r\nContent-Type: application/sdp\r\nContent-Length: "+strconv.Itoa(len(sdp))+"\r\n\r\n"+sdp))},
		{"NUL bytes in headers", []byte(head("INVITE", "Subject: a\x00b\x00c\r\nContent-Length: 0\r\n\r\n"))},
		{"oversized header", []byte(head("OPTIONS", "X-Long: "+strings.Repeat("a", 60000)+"\r\nContent-Length: 0\r\n\r\n"))},
		{"unknown method", []byte(head("FROBNICATE", "Content-Length: 0\r\n\r\n"))},
		{"stray response", []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKstray\r\nCall-ID: parley-kit-stray\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")},
	}
}

package sippeer

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

func TestSendRawDelivers(t *testing.T) {
	port := FreePort(t)
	addr := "127.0.0.1:" + itoa(port)
	udp, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tcp, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	go func() { // UDP echo with a prefix
		buf := make([]byte, maxUDPPayload)
		for {
			n, from, err := udp.ReadFrom(buf)
			if err != nil {
				return
			}
			udp.WriteTo(append([]byte("got:"), buf[:n]...), from)
		}
	}()
	go func() { // TCP: answer after reading everything, then close
		for {
			c, err := tcp.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1<<20)
				c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				var got []byte
				for {
					n, err := c.Read(buf)
					got = append(got, buf[:n]...)
					if err != nil {
						break
					}
				}
				c.Write(append([]byte("got:"), got...))
			}()
		}
	}()
	big := bytes.Repeat([]byte("x"), 200000)
	for _, tc := range []struct {
		network string
		payload []byte
	}{
		{"udp", []byte("hello")},
		{"udp", bytes.Repeat([]byte("y"), maxUDPPayload-len("got:"))},
		{"tcp", []byte("hello")},
		{"tcp", big},
	} {
		got, err := SendRaw(tc.network, addr, tc.payload, 2*time.Second)
		if err != nil {
			t.Fatalf("%s %d bytes: %v", tc.network, len(tc.payload), err)
		}
		if !bytes.Equal(got, append([]byte("got:"), tc.payload...)) {
			t.Errorf("%s %d bytes: reply of %d bytes, want the payload back", tc.network, len(tc.payload), len(got))
		}
	}
	// Nobody answers: no reply, no error.
	quiet, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	if got, err := SendRaw("udp", quiet.LocalAddr().String(), []byte("x"), 200*time.Millisecond); err != nil || got != nil {
		t.Errorf("silent peer: %q, %v; want nil, nil", got, err)
	}
}

func TestSendRawRejects(t *testing.T) {
	for _, tc := range []struct {
		network string
		payload []byte
		wait    time.Duration
	}{
		{"sctp", nil, 0},
		{"udp", make([]byte, maxUDPPayload+1), 0},
		{"udp", nil, -time.Second},
	} {
		if _, err := SendRaw(tc.network, "127.0.0.1:9", tc.payload, tc.wait); !cc.IsCode(err, cc.EINVALID) {
			t.Errorf("%s, %d bytes, wait %s: err = %v, want EINVALID", tc.network, len(tc.payload), tc.wait, err)
		}
	}
	if _, err := SendRaw("tcp", "127.0.0.1:"+itoa(FreePort(t)), []byte("x"), time.Second); err == nil {
		t.Error("TCP to a closed port: no error")
	}
}

func TestMalformedSIP(t *testing.T) {
	msgs := MalformedSIP("127.0.0.1:5080")
	if len(msgs) < 15 {
		t.Fatalf("%d malformed messages, want at least 15", len(msgs))
	}
	names := map[string]bool{}
	callIDs := map[string]bool{}
	for _, m := range msgs {
		if names[m.Name] {
			t.Errorf("duplicate name %q", m.Name)
		}
		names[m.Name] = true
		if len(m.Data) == 0 || len(m.Data) > maxUDPPayload {
			t.Errorf("%s: %d bytes, want 1 to %d", m.Name, len(m.Data), maxUDPPayload)
		}
		if i := bytes.Index(m.Data, []byte("Call-ID: ")); i >= 0 {
			id := string(m.Data[i : i+bytes.IndexByte(m.Data[i:], '\r')])
			if callIDs[id] {
				t.Errorf("%s reuses %s", m.Name, id)
			}
			callIDs[id] = true
		}
	}
	truncated := string(msgs[5].Data)
	if msgs[5].Name != "truncated headers" || strings.Contains(truncated, "\r\n\r\n") || !strings.HasSuffix(truncated, "CSeq: 1") {
		t.Errorf("truncated message %q", truncated)
	}
}

// TestMalformedSIPAgainstBaresip feeds every malformed message to a real
// baresip over UDP and TCP and checks that it still answers OPTIONS and
// still takes a call afterwards, proving the messages reach a SIP stack
// and that SendRaw reads its replies.
func TestMalformedSIPAgainstBaresip(t *testing.T) {
	t.Parallel()
	bob := agent(t, "bob", 1000)
	for _, network := range []string{"udp", "tcp"} {
		for _, m := range MalformedSIP(bob.Addr()) {
			if _, err := SendRaw(network, bob.Addr(), m.Data, 50*time.Millisecond); err != nil {
				t.Fatalf("%s over %s: %v", m.Name, network, err)
			}
		}
	}
	options := "OPTIONS sip:bob@" + bob.Addr() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKkitoptions\r\n" +
		"From: <sip:kit@127.0.0.1>;tag=kit\r\nTo: <sip:bob@" + bob.Addr() + ">\r\n" +
		"Call-ID: parley-kit-options\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	reply, err := SendRaw("udp", bob.Addr(), []byte(options), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(reply, []byte("SIP/2.0 200 ")) {
		t.Fatalf("OPTIONS after the malformed messages: reply %q, want 200", reply)
	}
	res := RunSIPp(t, SIPpRun{Scenario: ScenarioCall, Target: bob.Addr(), Service: "bob", Keys: map[string]string{"talk_ms": "500"}, Timeout: 20 * time.Second})
	if !res.OK() {
		t.Fatalf("call after the malformed messages: %s", res)
	}
}

package telephony

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

func invite(t testing.TB, headers ...string) *sip.Request {
	t.Helper()
	raw := "INVITE sip:+15550100@127.0.0.1:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" +
		"Call-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <sip:x@127.0.0.1:5070>\r\nTo: <sip:+15550100@127.0.0.1>\r\nMax-Forwards: 70\r\n"
	for _, h := range headers {
		raw += h + "\r\n"
	}
	raw += "Content-Length: 0\r\n\r\n"
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return msg.(*sip.Request)
}

func TestCallerFromRequest(t *testing.T) {
	cases := []struct {
		name     string
		headers  []string
		number   string
		ext      string
		withheld bool
		display  string
	}{
		{"plain", []string{`From: "Jane" <sip:2015550123@carrier.example>;tag=a`}, "+12015550123", "", false, "Jane"},
		{"e164", []string{`From: <sip:+12015550123@carrier.example>;tag=a`}, "+12015550123", "", false, ""},
		{"anonymous", []string{`From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=a`}, "", "", true, ""},
		{"privacy id", []string{`From: <sip:2015550123@c>;tag=a`, `Privacy: id`}, "", "", true, ""},
		{"privacy ID", []string{`From: <sip:2015550123@c>;tag=a`, `Privacy: ID`}, "", "", true, ""},
		{"privacy user;id", []string{`From: <sip:2015550123@c>;tag=a`, `Privacy: user;id`}, "", "", true, ""},
		{"privacy none", []string{`From: <sip:2015550123@c>;tag=a`, `Privacy: none`}, "+12015550123", "", false, ""},
		{"pai wins", []string{`From: <sip:trunk@c>;tag=a`, `P-Asserted-Identity: "Bob" <sip:+12015550124@c>`}, "+12015550124", "", false, "Bob"},
		{"pai tel", []string{`From: <sip:trunk@c>;tag=a`, `P-Asserted-Identity: <tel:+12015550125;verstat=TN-Validation-Passed>`}, "+12015550125", "", false, ""},
		{"name only", []string{`From: "Front desk" <sip:frontdesk@pbx>;tag=a`}, "", "", false, "Front desk"},
		{"control chars", []string{"From: \"Ja\x01ne\" <sip:2015550123@c>;tag=a"}, "+12015550123", "", false, "Jane"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cu := callerFromRequest(invite(t, c.headers...), "US")
			if cu.Number != c.number || cu.Extension != c.ext || cu.Withheld != c.withheld || cu.Name != c.display {
				t.Errorf("got %+v", cu)
			}
			if cu.Withheld && cu.Number != "" {
				t.Error("a withheld caller kept a number")
			}
		})
	}
}

func TestParseData(t *testing.T) {
	req := invite(t, `From: <sip:1@c>;tag=a`, `X-Parley-Data: account_number=12345; Lang=de`, `X-Parley-Data: bad key=1; novalue; ok_2=x y`)
	data, bad := parseData(req)
	if data["account_number"] != "12345" || data["lang"] != "de" || data["ok_2"] != "x y" || len(data) != 3 {
		t.Errorf("data %v", data)
	}
	if len(bad) != 2 {
		t.Errorf("bad %v", bad)
	}
}

func TestDigestResponse(t *testing.T) {
	// RFC 2617 section 3.5.
	c := &digest.Credentials{Username: "Mufasa", Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		URI: "/dir/index.html", QOP: "auth", Nc: 1, Cnonce: "0a4f113b"}
	ha1 := md5hex("Mufasa:testrealm@host.com:Circle Of Life")
	if got := digestResponse(ha1, "GET", c); got != "6629fae49393a05397450978507c4ef1" {
		t.Errorf("response %s", got)
	}
}

func TestNonces(t *testing.T) {
	s := &Server{nonceKey: []byte("k")}
	now := timeNow()
	n := s.newNonce(now)
	if ok, stale := s.checkNonce(n, now); !ok || stale {
		t.Fatal("fresh nonce refused")
	}
	if ok, stale := s.checkNonce(n, now.Add(nonceLifetime+1e9)); !ok || !stale {
		t.Fatal("old nonce not stale")
	}
	other := &Server{nonceKey: []byte("other")}
	if ok, _ := other.checkNonce(n, now); ok {
		t.Fatal("nonce of another key accepted")
	}
	for _, bad := range []string{"", "x", n + "A", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if ok, _ := s.checkNonce(bad, now); ok {
			t.Errorf("nonce %q accepted", bad)
		}
	}
}

func FuzzCallerFromRequest(f *testing.F) {
	for _, s := range []string{`"Jane" <sip:2015550123@c>;tag=a`, `<sip:anonymous@anonymous.invalid>;tag=x`, `<sip:+44 161@c>;tag=1`, `"\xff" <sip:%2B1@c>;tag=1`} {
		f.Add(s, "id", `<tel:+12015550123>`)
	}
	f.Fuzz(func(t *testing.T, from, privacy, pai string) {
		raw := "INVITE sip:1@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nTo: <sip:1@h>\r\n" +
			"From: " + from + "\r\nPrivacy: " + privacy + "\r\nP-Asserted-Identity: " + pai + "\r\nX-Parley-Data: " + privacy + "\r\nContent-Length: 0\r\n\r\n"
		msg, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok || req.From() == nil {
			return
		}
		cu := callerFromRequest(req, "US")
		if cu.Withheld && cu.Number != "" {
			t.Fatalf("withheld with a number: %+v", cu)
		}
		if cu.Number != "" && cu.Number[0] != '+' {
			t.Fatalf("number not E.164: %q", cu.Number)
		}
		data, _ := parseData(req)
		if len(data) > maxDataKeys {
			t.Fatalf("%d data keys", len(data))
		}
	})
}

func timeNow() time.Time { return time.Now() }

package telephony

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/parley-cc/parley/internal/cc"
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

func TestParseDataRules(t *testing.T) {
	many := make([]string, 0, cc.MaxDataKeys+2)
	for i := range cc.MaxDataKeys + 2 {
		many = append(many, fmt.Sprintf("k%d=%d", i, i))
	}
	for _, tc := range []struct {
		name   string
		header string
		keep   []string // key=value kept, sorted
		bad    int
	}{
		{"pairs", "account_number=12345678;email=a@b.example", []string{"account_number=12345678", "email=a@b.example"}, 0},
		{"key case folds", "Account_Number=1", []string{"account_number=1"}, 0},
		{"key starting with a digit", "1abc=1", nil, 1},
		{"key with a dash", "account-number=1", nil, 1},
		{"key too long", strings.Repeat("k", 41) + "=1", nil, 1},
		{"empty value", "account_number=", nil, 1},
		{"value too long", "note=" + strings.Repeat("x", 257), nil, 1},
		{"value of 256 bytes", "note=" + strings.Repeat("x", 256), []string{"note=" + strings.Repeat("x", 256)}, 0},
		{"quotes and wildcards are data", `note=O'Brien \ 100%_*`, []string{`note=O'Brien \ 100%_*`}, 0},
		{"invalid UTF-8", "note=\xff", nil, 1},
		{"no equals sign", "account_number", nil, 1},
		{"too many keys", strings.Join(many, ";"), nil, 2},
		{"repeated key keeps the last", "a=1;a=2", []string{"a=2"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, bad := parseData(invite(t, `From: <sip:1@c>;tag=a`, "X-Parley-Data: "+tc.header))
			var kept []string
			for _, k := range slices.Sorted(maps.Keys(data)) {
				kept = append(kept, k+"="+data[k])
			}
			if tc.name == "too many keys" {
				if len(data) != cc.MaxDataKeys || len(bad) != tc.bad {
					t.Errorf("kept %d, bad %v", len(data), bad)
				}
				return
			}
			if !slices.Equal(kept, tc.keep) || len(bad) != tc.bad {
				t.Errorf("kept %q, bad %q; want %q and %d bad", kept, bad, tc.keep, tc.bad)
			}
		})
	}
}

func TestDigitCollector(t *testing.T) {
	for _, tc := range []struct {
		keys     string
		max      int
		want     string
		complete bool // the collection ended on the keys
	}{
		{"12345678", 8, "12345678", true},
		{"1234#", 8, "1234", true},
		{"#", 8, "", true},
		{"12*3A4", 4, "1234", true},
		{"123", 8, "123", false}, // the timeout ends it
		{"123456789", 8, "12345678", true},
	} {
		g := &digitCollector{col: &cc.DigitCollection{Key: "k", MaxDigits: tc.max}}
		complete := false
		for _, k := range tc.keys {
			if g.add(k) {
				complete = true
				break
			}
		}
		if g.digits.String() != tc.want || complete != tc.complete {
			t.Errorf("keys %q max %d: %q complete=%v, want %q complete=%v", tc.keys, tc.max, g.digits.String(), complete, tc.want, tc.complete)
		}
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
		if len(data) > cc.MaxDataKeys {
			t.Fatalf("%d data keys", len(data))
		}
		for k, v := range data {
			if !cc.ValidDataKey(k) || !cc.ValidDataValue(v) {
				t.Fatalf("kept data %q=%q", k, v)
			}
		}
	})
}

func timeNow() time.Time { return time.Now() }

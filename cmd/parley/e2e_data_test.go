package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// offeredData is the part of an interaction.offered or connected event the
// data-search test reads.
type offeredData struct {
	Interaction struct {
		ID        string            `json:"id"`
		Data      map[string]string `json:"data"`
		ScreenPop string            `json:"screen_pop"`
		Matches   []struct {
			Type      string `json:"type"`
			ID        string `json:"id"`
			Name      string `json:"name"`
			MatchedBy string `json:"matched_by"`
		} `json:"matches"`
		LinkedRecord *struct {
			ID string `json:"id"`
		} `json:"linked_record"`
	} `json:"interaction"`
}

// TestSearchOnData: the demo's Support line (+15550101) asks for an
// account number and its queue searches devcrm's Account.AccountNumber with
// it before the caller's number. Real calls from Parley's own user agent
// (RFC 4733 digits, SIP headers) reach alice's real phone; the offer event
// she gets carries the data, the matched record and which key found it, and
// the queue's screen-pop timing.
func TestSearchOnData(t *testing.T) {
	skipIfShort(t)
	e := startEnv(t)
	e.admin("queue", "set", "--tenant", demoTenant, "--name", "Support", "--wrap-up", "0s", "--screen-pop", "offer")
	phone := e.startMediaPhone(t, sipua.Options{ToneHz: 1000}, "alice")
	alice := e.signIn("alice")
	events := e.events(alice)
	e.available(t, alice)
	support := "sip:+15550101@" + e.sipAddr
	seen := map[string]bool{} // interactions already looked at
	// nextOffer waits for the offer of a call not seen before.
	nextOffer := func(t *testing.T) (offeredData, eventFrame) {
		t.Helper()
		var od offeredData
		f := events.wait(t, "interaction.offered", func(f eventFrame) bool {
			var d offeredData
			if json.Unmarshal(f.Data, &d) != nil || d.Interaction.ID == "" || seen[d.Interaction.ID] {
				return false
			}
			od = d
			return true
		})
		seen[od.Interaction.ID] = true
		return od, f
	}

	for _, tc := range []struct {
		name      string
		caller    sipua.Options
		data      map[string]string
		record    string // Type Name
		matchedBy string
	}{
		// An unknown number keys in Stark Industries' account number.
		{"digits from an unknown number", sipua.Options{From: "9995550000", DTMF: "12345678#"},
			map[string]string{"account_number": "12345678"}, "Account Stark Industries", "account_number"},
		// Eight digits end the collection without '#'.
		{"eight digits without #", sipua.Options{From: "9995550001", DTMF: "40004004"},
			map[string]string{"account_number": "40004004"}, "Account Umbrella GmbH", "account_number"},
		// An IVR in front of Parley already asked: no prompt, the header is searched.
		{"header from a withheld number", sipua.Options{From: "anonymous", Headers: []string{"X-Parley-Data: account_number=1234; bad key=1"}},
			map[string]string{"account_number": "1234"}, "Account Acme Corporation", "account_number"},
		// Keys in an account number nobody has: the caller ID finds Jane Doe.
		{"unknown account number, known caller", sipua.Options{From: "2015550123", DTMF: "99999999"},
			map[string]string{"account_number": "99999999"}, "Contact Jane Doe", "phone"},
		// Keys in nothing: queued after the prompt and the digit timeout, found by caller ID.
		{"nothing keyed in", sipua.Options{From: "2015550123", Duration: 15 * time.Second}, nil, "Contact Jane Doe", "phone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eventually(t, 20*time.Second, "alice available", func() bool { return e.getMe(alice).Presence.State == "available" })
			opts := tc.caller
			opts.ToneHz = 440
			if opts.Duration == 0 {
				// From the answer: the digits (sent one second after it,
				// a quarter second each, longer on a busy machine) and
				// then a few seconds in the queue for the offer.
				opts.Duration = 3*time.Second + time.Duration(len(opts.DTMF))*time.Second
			}
			caller := startUACall(t, opts, support)
			od, offered := nextOffer(t)
			it := od.Interaction
			if len(it.Data) != len(tc.data) || it.Data["account_number"] != tc.data["account_number"] {
				t.Errorf("offer data %v, want %v", it.Data, tc.data)
			}
			if len(it.Matches) != 1 || it.Matches[0].Type+" "+it.Matches[0].Name != tc.record || it.Matches[0].MatchedBy != tc.matchedBy {
				t.Errorf("offer matches %+v, want %s matched by %s", it.Matches, tc.record, tc.matchedBy)
			} else if it.LinkedRecord == nil || it.LinkedRecord.ID != it.Matches[0].ID {
				t.Errorf("the one match was not linked: %+v", it.LinkedRecord)
			}
			if it.ScreenPop != "offer" {
				t.Errorf("offer event screen_pop %q, want offer: %s", it.ScreenPop, offered.Data)
			}
			connected := events.wait(t, "interaction.connected", func(f eventFrame) bool { return f.InteractionID == it.ID })
			var cd offeredData
			if err := json.Unmarshal(connected.Data, &cd); err != nil || cd.Interaction.ScreenPop != "offer" {
				t.Errorf("connected event screen_pop %q (%v)", cd.Interaction.ScreenPop, err)
			}
			<-caller.done
			if caller.err != nil || !caller.res.Answered {
				t.Fatalf("caller %v (%v): want answered", caller.res, caller.err)
			}
			if r := phone.Next(t, 30*time.Second); !r.Answered {
				t.Fatalf("alice's phone: %s", r)
			}
		})
	}

	// The README's command: `parley call --dtmf` from a number devcrm does
	// not know.
	t.Run("parley call --dtmf", func(t *testing.T) {
		eventually(t, 20*time.Second, "alice available", func() bool { return e.getMe(alice).Presence.State == "available" })
		type exit struct {
			code        int
			out, errOut string
		}
		done := make(chan exit, 1)
		go func() {
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"call", "--to", support, "--from", "9995550000", "--dtmf", "30003003#", "--tone", "440", "--duration", "3s"}, &out, &errOut)
			done <- exit{code, out.String(), errOut.String()}
		}()
		od, _ := nextOffer(t)
		if it := od.Interaction; it.Data["account_number"] != "30003003" || len(it.Matches) != 1 || it.Matches[0].Name != "Initech AG" || it.Matches[0].MatchedBy != "account_number" {
			t.Errorf("offer data %v, matches %+v; want account 30003003, Initech AG", it.Data, it.Matches)
		}
		if r := <-done; r.code != 0 || !strings.Contains(r.out, "SIP 200 OK") {
			t.Fatalf("parley call: exit %d: %s%s", r.code, r.out, r.errOut)
		}
		phone.Next(t, 30*time.Second)
	})

	// SIPp offering PCMU alone (no telephone-event) cannot key in digits:
	// it is queued at once, not after the prompt and the digit timeout, and
	// found by its number. Its call lasts 5s, shorter than the 9s of a
	// prompt and a timeout, so an offer at all shows it was not asked.
	t.Run("caller without telephone-event is not asked", func(t *testing.T) {
		sippeer.RequireTool(t, sippeer.ToolSIPp)
		eventually(t, 20*time.Second, "alice available", func() bool { return e.getMe(alice).Presence.State == "available" })
		xml, err := sippeer.ScenarioXML(sippeer.ScenarioCall)
		if err != nil {
			t.Fatal(err)
		}
		pcmu := strings.NewReplacer("RTP/AVP 0 101", "RTP/AVP 0", "a=rtpmap:101 telephone-event/8000", "", "a=fmtp:101 0-15", "").Replace(string(xml))
		if pcmu == string(xml) || strings.Contains(pcmu, "telephone-event/8000") {
			t.Fatal("the kit's caller scenario changed: cannot remove telephone-event from its offer")
		}
		path := filepath.Join(t.TempDir(), "pcmu_only.xml")
		if err := os.WriteFile(path, []byte(pcmu), 0o644); err != nil {
			t.Fatal(err)
		}
		res := sippeer.RunSIPp(t, sippeer.SIPpRun{Scenario: path, Target: e.sipAddr, Service: "+15550101",
			Keys: map[string]string{"talk_ms": "5000", "from_user": "2015550123", "from_name": "Jane"}})
		if !res.OK() {
			t.Fatalf("SIPp caller: %s", res)
		}
		od, _ := nextOffer(t)
		if len(od.Interaction.Data) != 0 || len(od.Interaction.Matches) != 1 || od.Interaction.Matches[0].Name != "Jane Doe" || od.Interaction.Matches[0].MatchedBy != "phone" {
			t.Errorf("offer data %v, matches %+v; want no data and Jane Doe by phone", od.Interaction.Data, od.Interaction.Matches)
		}
		if !strings.Contains(e.logs.String(), "no telephone-event (RFC 4733): not asking for digits") {
			t.Error("the log does not say why the caller was not asked")
		}
		phone.Next(t, 30*time.Second)
	})

	// The Sales queue keeps the default timing.
	t.Run("default screen pop", func(t *testing.T) {
		eventually(t, 20*time.Second, "alice available", func() bool { return e.getMe(alice).Presence.State == "available" })
		caller := startUACall(t, sipua.Options{From: "2015550123", ToneHz: 440, Duration: 2 * time.Second}, "sip:+15550100@"+e.sipAddr)
		od, _ := nextOffer(t)
		if od.Interaction.ScreenPop != "answer" || len(od.Interaction.Matches) != 1 || od.Interaction.Matches[0].MatchedBy != "phone" {
			t.Errorf("Sales offer: screen_pop %q, matches %+v; want answer and Jane Doe by phone", od.Interaction.ScreenPop, od.Interaction.Matches)
		}
		<-caller.done
		phone.Next(t, 30*time.Second)
	})
}

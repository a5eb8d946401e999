package salesforce

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/devcrm"
)

// devcrmSeed is the org the integration test runs against: eight contacts
// share Acme's number, one more has it as mobile, one has a neighbour's
// number, and a lead and the account have it too.
var devcrmSeed = map[string]string{
	"User.csv": `Id,Username,Email,FirstName,LastName
005gK0Usr000001QCA,integration@parley.test,integration@parley.test,Parley,Integration
005gK0Usr000002QCA,runas@parley.test,runas@parley.test,Run,As
`,
	"Account.csv": `Id,Name,Phone,AccountNumber
001gK0Acc000001QCA,Acme Corporation,(201) 555-0199,12345678
001gK0Acc000002QCA,Other Inc,(201) 555-0100,1000
001gK0Acc000003QCA,Quote Ltd,,"O'Brien\1"
001gK0Acc000004QCA,Percent Co,,100%
001gK0Acc000005QCA,Twin A,,AB-7
001gK0Acc000006QCA,Twin B,,ab-7
`,
	"Contact.csv": `Id,FirstName,LastName,Phone,MobilePhone,Email,AccountId
003gK0Con000001QCA,Hugo,Hall,(201) 555-0199,,hugo@acme.test,001gK0Acc000001QCA
003gK0Con000002QCA,Aaron,Abbott,(201) 555-0199,201.555.0131,aaron@acme.test,001gK0Acc000001QCA
003gK0Con000003QCA,Beatrice,Baker,(201) 555-0199,,bea@acme.test,001gK0Acc000001QCA
003gK0Con000004QCA,Carlos,Castillo,(201) 555-0199,,carlos@acme.test,001gK0Acc000001QCA
003gK0Con000005QCA,Dana,Dunn,(201) 555-0199,,dana@acme.test,001gK0Acc000001QCA
003gK0Con000006QCA,Elif,Erdogan,(201) 555-0199,,elif@acme.test,001gK0Acc000001QCA
003gK0Con000007QCA,Finn,Fischer,(201) 555-0199,,finn@acme.test,001gK0Acc000001QCA
003gK0Con000008QCA,Aaron,Abbott,(201) 555-0199,,aaron2@acme.test,001gK0Acc000001QCA
003gK0Con000009QCA,Mo,Mobile,(201) 555-0188,+1 201 555 0199,mo@example.test,
003gK0Con000010QCA,Nina,Neighbour,(201) 555-0198,,nina@example.test,001gK0Acc000002QCA
`,
	"Lead.csv": `Id,FirstName,LastName,Company,Phone,Email
00QgK0Led000001UCA,Sam,Lead,Lead Co,201.555.0199,sam@leadco.test
`,
}

const (
	devcrmJWTApp    = "3MVG9parleyDevcrmJWT"
	devcrmSecretApp = "3MVG9parleyDevcrmSecret"
	devcrmSecret    = "devcrm-client-secret"
)

// startDevCRM starts a devcrm server in-process on a free port with the
// test seed and both kinds of connected app.
func startDevCRM(t *testing.T) *devcrm.Server {
	t.Helper()
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed")
	if err := os.Mkdir(seed, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range devcrmSeed {
		if err := os.WriteFile(filepath.Join(seed, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := devcrm.New(devcrm.Config{Addr: "127.0.0.1:0", DBPath: filepath.Join(dir, "devcrm.db"), SeedDir: seed})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	pub, err := x509.MarshalPKIXPublicKey(&testKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.RegisterApp(ctx, devcrm.App{ClientID: devcrmJWTApp, PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})}); err != nil {
		t.Fatal(err)
	}
	if err := srv.RegisterApp(ctx, devcrm.App{ClientID: devcrmSecretApp, ClientSecret: devcrmSecret, RunAsUsername: "runas@parley.test"}); err != nil {
		t.Fatal(err)
	}
	return srv
}

// devcrmClient returns a JWT bearer client of the server's org.
func devcrmClient(t *testing.T, srv *devcrm.Server) *Client {
	t.Helper()
	c, err := NewClient(cc.CRMConnection{
		Kind:       "salesforce",
		LoginURL:   srv.URL(),
		ClientID:   devcrmJWTApp,
		Username:   "integration@parley.test",
		PrivateKey: testKeyPEM(t),
	}, "US", Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	c.syncBackoff = time.Millisecond
	return c
}

// taskCount counts the Tasks logged for an interaction.
func taskCount(t *testing.T, c *Client, interactionID string) int {
	t.Helper()
	var ans struct {
		TotalSize int `json:"totalSize"`
	}
	q := url.Values{"q": {"SELECT COUNT() FROM Task WHERE CallObject = " + QuoteSOQL(interactionID)}}
	if err := c.do(context.Background(), request{method: http.MethodGet, path: "/query/", query: q}, &ans); err != nil {
		t.Fatal(err)
	}
	return ans.TotalSize
}

func TestDevCRM(t *testing.T) {
	srv := startDevCRM(t)
	c := devcrmClient(t, srv)
	ctx := context.Background()

	t.Run("find by phone", func(t *testing.T) {
		recs, err := c.FindByPhone(ctx, "+12015550199")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Type+" "+r.Name+" "+r.ID+" ["+r.Company+"]")
		}
		want := []string{
			"Contact Aaron Abbott 003gK0Con000002QCA [Acme Corporation]",
			"Contact Aaron Abbott 003gK0Con000008QCA [Acme Corporation]",
			"Contact Beatrice Baker 003gK0Con000003QCA [Acme Corporation]",
			"Contact Carlos Castillo 003gK0Con000004QCA [Acme Corporation]",
			"Contact Dana Dunn 003gK0Con000005QCA [Acme Corporation]",
			"Contact Elif Erdogan 003gK0Con000006QCA [Acme Corporation]",
			"Contact Finn Fischer 003gK0Con000007QCA [Acme Corporation]",
			"Contact Hugo Hall 003gK0Con000001QCA [Acme Corporation]",
			"Contact Mo Mobile 003gK0Con000009QCA []",
			"Lead Sam Lead 00QgK0Led000001UCA [Lead Co]",
			"Account Acme Corporation 001gK0Acc000001QCA []",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("FindByPhone =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if u, ok := c.Usage(); !ok || u.Max <= 0 {
			t.Errorf("Usage = %+v, %v; want devcrm's Sforce-Limit-Info", u, ok)
		}
	})

	t.Run("write log", func(t *testing.T) {
		l := &cc.CallLog{
			InteractionID: "int_devcrm_1",
			Subject:       "Inbound call - Support",
			Description:   "Asked about the invoice.",
			Direction:     cc.Inbound,
			DurationSec:   95,
			Disposition:   "Resolved",
			ActivityDate:  "2026-01-02",
			WhoID:         "003gK0Con000001QCA",
			WhatID:        "001gK0Acc000001QCA",
		}
		id, err := c.WriteLog(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		l.Disposition, l.WhoID = "Follow-up", ""
		again, err := c.WriteLog(ctx, l)
		if err != nil || again != id {
			t.Fatalf("second WriteLog = %q, %v; want %q", again, err, id)
		}
		// Parley restarts: a new client signs in and writes the log again.
		restarted, err := devcrmClient(t, srv).WriteLog(ctx, l)
		if err != nil || restarted != id {
			t.Fatalf("WriteLog after restart = %q, %v; want %q", restarted, err, id)
		}
		if n := taskCount(t, c, l.InteractionID); n != 1 {
			t.Fatalf("%d Tasks for the interaction; want 1", n)
		}
		var task map[string]any
		if err := c.do(ctx, request{method: http.MethodGet, path: "/sobjects/Task/" + id}, &task); err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]any{
			"CallObject": "int_devcrm_1", "CallType": "Inbound", "CallDisposition": "Follow-up", "TaskSubtype": "Call",
			"Type": "Call", "Status": "Completed", "CallDurationInSeconds": float64(95), "ActivityDate": "2026-01-02",
			"WhoId": nil, "Subject": "Inbound call - Support",
		} {
			if task[k] != want {
				t.Errorf("Task %s = %#v; want %#v", k, task[k], want)
			}
		}
		if what, _ := task["WhatId"].(string); !strings.HasPrefix(what, "001gK0Acc000001") {
			t.Errorf("Task WhatId = %v; want the account", task["WhatId"])
		}
	})

	t.Run("description over the cap is permanent", func(t *testing.T) {
		l := &cc.CallLog{InteractionID: "int_devcrm_long", Direction: cc.Outbound, Description: strings.Repeat("x", devcrm.DefaultDescriptionCapBytes+1)}
		_, err := c.WriteLog(ctx, l)
		var ae *APIError
		if cc.ErrorCode(err) != cc.EINVALID || !errors.As(err, &ae) || ae.Code() != "STRING_TOO_LONG" {
			t.Fatalf("error %v; want EINVALID from STRING_TOO_LONG", err)
		}
		var ra cc.RetryAfter
		if errors.As(err, &ra) {
			t.Errorf("STRING_TOO_LONG carries a retry delay")
		}
	})

	t.Run("expired session", func(t *testing.T) {
		if err := srv.InjectFault(devcrm.Fault{Kind: devcrm.FaultInvalidSession}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.FindByPhone(ctx, "+12015550199"); err != nil {
			t.Fatalf("FindByPhone after a session expiry: %v", err)
		}
	})

	t.Run("busy search is retried", func(t *testing.T) {
		if err := srv.InjectFault(devcrm.Fault{Kind: devcrm.FaultUnavailable, PathPrefix: "/services/data/v62.0/search", Count: 2}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.FindByPhone(ctx, "+12015550199"); err != nil {
			t.Fatalf("FindByPhone with two 503s: %v", err)
		}
		if err := srv.InjectFault(devcrm.Fault{Kind: devcrm.FaultUnavailable, PathPrefix: "/services/data/v62.0/search", Count: 3}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.FindByPhone(ctx, "+12015550199"); cc.ErrorCode(err) != cc.EUNAVAILABLE {
			t.Fatalf("FindByPhone with three 503s: %v; want EUNAVAILABLE", err)
		}
	})

	t.Run("request limit", func(t *testing.T) {
		if err := srv.InjectFault(devcrm.Fault{Kind: devcrm.FaultRequestLimit}); err != nil {
			t.Fatal(err)
		}
		_, err := c.WriteLog(ctx, &cc.CallLog{InteractionID: "int_devcrm_limit", Direction: cc.Inbound})
		var ra cc.RetryAfter
		if cc.ErrorCode(err) != cc.ERATELIMIT || !errors.As(err, &ra) || ra.RetryAfter() <= 0 {
			t.Fatalf("error %v; want ERATELIMIT with a retry delay", err)
		}
		if _, err := c.WriteLog(ctx, &cc.CallLog{InteractionID: "int_devcrm_limit", Direction: cc.Inbound}); err != nil {
			t.Fatalf("WriteLog once the limit is over: %v", err)
		}
		if n := taskCount(t, c, "int_devcrm_limit"); n != 1 {
			t.Errorf("%d Tasks; want 1", n)
		}
	})

	t.Run("client credentials and ping", func(t *testing.T) {
		cs, err := NewClient(cc.CRMConnection{
			Kind:         "salesforce",
			LoginURL:     srv.URL(),
			ClientID:     devcrmSecretApp,
			ClientSecret: []byte(devcrmSecret),
		}, "US", Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		recs, err := cs.FindByPhone(ctx, "+12015550131")
		if err != nil || len(recs) != 1 || recs[0].ID != "003gK0Con000002QCA" {
			t.Errorf("FindByPhone by mobile = %+v, %v; want Aaron Abbott", recs, err)
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		wrong, err := NewClient(cc.CRMConnection{
			Kind: "salesforce", LoginURL: srv.URL(), ClientID: devcrmSecretApp, ClientSecret: []byte("not the secret"),
		}, "US", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := wrong.Ping(ctx); cc.ErrorCode(err) != cc.EUNAUTHORIZED {
			t.Errorf("Ping with a wrong secret: %v; want EUNAUTHORIZED", err)
		}
	})
}

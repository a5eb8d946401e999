package devcrm

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/parley-cc/parley/internal/testkit/browser"
)

// TestOIDCSignInAndConsentInChromium: a relying party on its own origin
// sends Chromium to authorize; alice signs in on devcrm's page, allows the
// app, and the relying party gets a code that go-oidc accepts. The second
// time the browser goes straight back with a code.
func TestOIDCSignInAndConsentInChromium(t *testing.T) {
	codes := make(chan url.Values, 2)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sso/callback" { // the browser asks for /favicon.ico too
			http.NotFound(w, r)
			return
		}
		codes <- r.URL.Query()
		fmt.Fprint(w, `<!doctype html><title>relying party</title><p id="back">back at the app</p>`)
	}))
	t.Cleanup(rp.Close)
	callback := rp.URL + "/sso/callback"

	e := newOIDCEnv(t)
	ctx := context.Background()
	app, err := e.srv.CreateApp(ctx, App{Name: "Parley", CallbackURLs: []string{callback}, RequirePKCE: true})
	if err != nil {
		t.Fatal(err)
	}
	verifier := "chromium-verifier-0123456789-0123456789-0123456789"
	params := authorizeParams(app.ClientID, verifier)
	params.Set("redirect_uri", callback)
	authorize := e.srv.URL() + "/services/oauth2/authorize?" + params.Encode()

	bctx := browser.New(t, browser.Options{})
	if err := chromedp.Do(bctx,
		chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS("#login-button")),
		chromedp.SendKeys(chromedp.CSS("#username"), alice),
		chromedp.SendKeys(chromedp.CSS("#password"), alicePW),
		chromedp.Click(chromedp.CSS("#login-button")),
		chromedp.WaitVisible(chromedp.CSS("#allow-button")),
	); err != nil {
		t.Fatalf("sign-in page: %v", err)
	}
	question := browser.Eval[string](t, bctx, `document.getElementById('consent-question').textContent`)
	if question != "Allow Parley to access your devcrm data?" {
		t.Errorf("consent question %q", question)
	}
	browser.Screenshot(t, bctx, "", "devcrm-oidc-consent")
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#allow-button")), chromedp.WaitVisible(chromedp.CSS("#back"))); err != nil {
		t.Fatalf("allow: %v", err)
	}
	q := <-codes
	if q.Get("state") != "state-123" || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	status, tok := postToken(t, e.srv.URL()+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {callback}, "code_verifier": {verifier}}, app.ClientID, app.ClientSecret)
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	provider, err := gooidc.NewProvider(ctx, e.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	idToken, err := provider.Verifier(&gooidc.Config{ClientID: app.ClientID}).Verify(ctx, tok["id_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(idToken.Subject, "/"+aliceID) {
		t.Errorf("sub %s", idToken.Subject)
	}

	// The second time: no sign-in, no consent.
	if err := chromedp.Do(bctx, chromedp.Navigate(authorize), chromedp.WaitVisible(chromedp.CSS("#back"))); err != nil {
		t.Fatalf("second sign-in: %v", err)
	}
	if q := <-codes; q.Get("code") == "" {
		t.Errorf("second callback query %v", q)
	}
}

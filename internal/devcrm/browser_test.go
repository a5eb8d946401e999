package devcrm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-cc/parley/internal/testkit/browser"
)

// fakePanel is a tiny softphone on its own origin: it loads devcrm's Open
// CTI library from the origin devcrm passes (sfdcIframeOrigin or
// sfdcIFrameOrigin), then runs the JavaScript the test sends it (eval) and
// answers with the result, so a test drives the library from inside the
// frame as a real adapter would.
type fakePanel struct {
	t       testing.TB
	srv     *httptest.Server
	cmds    chan string
	results chan json.RawMessage
	loads   atomic.Int32
	polled  atomic.Int32 // the page load whose /cmd came last
}

// fakePanelPage loads the library named by ?lib= (lightning or classic),
// then asks for commands until the page goes away. noinit=1 leaves out
// notifyInitializationComplete (for the standby test).
const fakePanelPage = `<!doctype html><meta charset="utf-8"><title>test panel</title><p id="s">panel</p>
<script>
var q = new URLSearchParams(location.search);
var origin = q.get('sfdcIframeOrigin') || q.get('sfdcIFrameOrigin');
window.initError = null; window.dials = []; window.navs = [];
function call(method, args) {
  return new Promise(function (resolve) {
    try { sforce.opencti[method](Object.assign({}, args || {}, { callback: resolve })); }
    catch (e) { resolve({ thrown: String(e && e.message || e) }); }
  });
}
function ccall(path, args) {
  return new Promise(function (resolve) {
    var o = sforce.interaction, parts = path.split('.');
    for (var i = 0; i < parts.length - 1; i++) o = o[parts[i]];
    try { o[parts[parts.length - 1]].apply(o, (args || []).concat([resolve])); }
    catch (e) { resolve({ thrown: String(e && e.message || e) }); }
  });
}
function thrown(f) { try { f(); return null; } catch (e) { return String(e && e.message || e); } }
async function loop() {
  for (;;) {
    var r = await fetch('/cmd?i=__INSTANCE__');
    if (r.status !== 200) continue;
    var js = await r.text(), out;
    try { out = await (0, eval)(js); } catch (e) { out = { thrown: String(e && e.message || e) }; }
    await fetch('/result', { method: 'POST', body: JSON.stringify(out === undefined ? null : out) });
  }
}
var s = document.createElement('script');
s.src = origin + (q.get('lib') === 'classic' ? '/support/api/66.0/interaction.js' : '/support/api/66.0/lightning/opencti_min.js');
window.addEventListener('error', function (e) { if (!window.initError) window.initError = String(e.error || e.message); });
s.onload = function () {
  if (q.get('noinit') !== '1' && window.sforce) {
    if (sforce.opencti) sforce.opencti.notifyInitializationComplete();
    if (sforce.interaction) sforce.interaction.cti.notifyInitializationComplete();
  }
  loop();
};
s.onerror = function () { window.initError = 'the library did not load'; loop(); };
document.head.appendChild(s);
</script>`

func newFakePanel(t testing.TB) *fakePanel {
	p := &fakePanel{t: t, cmds: make(chan string), results: make(chan json.RawMessage)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cti/salesforce.html", func(w http.ResponseWriter, r *http.Request) {
		n := p.loads.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, strings.ReplaceAll(fakePanelPage, "__INSTANCE__", strconv.Itoa(int(n))))
	})
	mux.HandleFunc("GET /cmd", func(w http.ResponseWriter, r *http.Request) {
		// Only the latest page load takes commands: a page the browser
		// left may still have a request open.
		instance, _ := strconv.Atoi(r.URL.Query().Get("i"))
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		deadline := time.After(20 * time.Second)
		for {
			if int32(instance) != p.loads.Load() {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			p.polled.Store(int32(instance))
			select {
			case js := <-p.cmds:
				if int32(instance) != p.loads.Load() {
					go func() { p.cmds <- js }() // for the latest page
					w.WriteHeader(http.StatusNoContent)
					return
				}
				io.WriteString(w, js)
				return
			case <-tick.C:
			case <-deadline:
				w.WriteHeader(http.StatusNoContent)
				return
			case <-r.Context().Done():
				return
			}
		}
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case p.results <- b:
		case <-r.Context().Done():
		}
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// adapterURL is the panel page with the launcher parameters.
func (p *fakePanel) adapterURL(query string) string {
	return p.srv.URL + "/cti/salesforce.html?env=salesforce&tenant=acme" + query
}

// eval runs js (an expression, possibly a promise) in the panel frame and
// decodes its JSON result into out.
func (p *fakePanel) eval(js string, out any) {
	p.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); p.polled.Load() != p.loads.Load(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			p.t.Fatalf("the panel's latest page (load %d) never asked for a command", p.loads.Load())
		}
	}
	select {
	case p.cmds <- js:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("the panel asked for no command (is the frame loaded?) to run %s", js)
	}
	select {
	case b := <-p.results:
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				p.t.Fatalf("panel result of %s: %s: %v", js, b, err)
			}
		}
	case <-time.After(30 * time.Second):
		p.t.Fatalf("the panel did not answer %s", js)
	}
}

// lightningResponse is Open CTI's Lightning response envelope, or what was
// thrown.
type lightningResponse struct {
	Success     bool            `json:"success"`
	ReturnValue json.RawMessage `json:"returnValue"`
	Errors      []struct {
		Code        string `json:"code"`
		Description string `json:"description"`
	} `json:"errors"`
	Thrown string `json:"thrown"`
}

func (p *fakePanel) call(method, args string) lightningResponse {
	p.t.Helper()
	var r lightningResponse
	p.eval(fmt.Sprintf("call(%q, %s)", method, args), &r)
	return r
}

// mustCall calls a method that must succeed.
func (p *fakePanel) mustCall(method, args string) lightningResponse {
	p.t.Helper()
	r := p.call(method, args)
	if !r.Success {
		p.t.Fatalf("%s(%s): %+v", method, args, r)
	}
	return r
}

// signIn opens devcrm's sign-in page in the browser and signs in.
func signIn(t testing.TB, ctx context.Context, base, username, next string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login?next="+next),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), uiPassword),
		chromedp.Click(chromedp.CSS("#login-button")),
		chromedp.WaitVisible(chromedp.CSS("#view")),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", username, err)
	}
}

func waitJS(t testing.TB, ctx context.Context, what, expr string) {
	t.Helper()
	browser.Until(t, ctx, what, expr)
}

func evalTop[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	return browser.Eval[T](t, ctx, expr)
}

func TestOpenCTILightningInChromium(t *testing.T) {
	panel := newFakePanel(t)
	e := newUIEnv(t, panel.adapterURL(""))
	ctx := browser.New(t, browser.Options{})
	signIn(t, ctx, e.srv.URL(), aliceUser, "/lightning/r/Contact/"+janeID+"/view")

	// The frame carries what Salesforce appends, and the library initialised.
	var search string
	panel.eval("initError || location.search", &search)
	for _, want := range []string{"env=salesforce&tenant=acme&", "mode=Lightning", "isdtp=vw", "sfdcIframeOrigin=" + strings.ReplaceAll(strings.ReplaceAll(e.srv.URL(), ":", "%3A"), "/", "%2F"), "nonce=", "ltn_app_id="} {
		if !strings.Contains(search, want) {
			t.Fatalf("frame query %q lacks %q", search, want)
		}
	}
	evalTop[bool](t, ctx, `document.getElementById('softphone-frame').dataset.mark = 'first'; true`)

	// Argument checks of the library, with Salesforce's messages.
	var msgs []string
	panel.eval(`[
		thrown(function () { sforce.opencti.screenPop(); }),
		thrown(function () { sforce.opencti.screenPop({}); }),
		thrown(function () { sforce.opencti.screenPop({a: 1}, {b: 2}); }),
		thrown(function () { sforce.opencti.getAppViewInfo({x: 1}); }),
		thrown(function () { sforce.opencti.getCallCenterSettings({x: 1}); }),
		thrown(function () { sforce.opencti.isSoftphonePanelVisible({x: 1}); }),
		thrown(function () { sforce.opencti.onClickToDial({x: 1}); }),
		thrown(function () { sforce.opencti.onNavigationChange({x: 1}); }),
		thrown(function () { sforce.opencti.saveLog({callback: function () {}}); }),
		thrown(function () { sforce.opencti.enableClickToDial(); }),
		thrown(function () { sforce.opencti.refreshView(); })
	]`, &msgs)
	const one = "Must pass in only one object which holds arguments to this API method call."
	want := []string{one, one, one, "Missing the required argument `callback`!", "Missing the required argument `callback`!", "Missing the required argument `callback`!",
		"Missing the required argument `listener`!", "Missing the required argument `listener`!", "Missing the required argument `value object`!", "", ""}
	if len(msgs) != len(want) {
		t.Fatalf("argument checks: %q", msgs)
	}
	for i := range want {
		if msgs[i] != want[i] {
			t.Errorf("argument check %d: %q, want %q", i, msgs[i], want[i])
		}
	}
	// enableClickToDial() without arguments did enable it.
	if !evalTop[bool](t, ctx, `window.devcrm.state.clickToDial`) {
		t.Errorf("enableClickToDial() with no argument did nothing")
	}
	panel.mustCall("disableClickToDial", "{}")

	// Read-only methods.
	r := panel.mustCall("getAppViewInfo", "{}")
	var info map[string]string
	json.Unmarshal(r.ReturnValue, &info)
	if info["recordId"] != janeID || info["recordName"] != "Jane Doe" || info["objectType"] != "Contact" || !strings.HasPrefix(info["url"], e.srv.URL()+"/lightning/r/Contact/") {
		t.Errorf("getAppViewInfo = %v", info)
	}
	r = panel.mustCall("getCallCenterSettings", "{}")
	var settings map[string]string
	json.Unmarshal(r.ReturnValue, &settings)
	if settings["/reqGeneralInfo/reqInternalName"] != testCCName || settings["/parleySettings/tenant"] != "acme" || settings["/reqDialingOptions/reqInternationalPrefix"] != "011" {
		t.Errorf("getCallCenterSettings = %v", settings)
	}

	// The one Apex class devcrm has, Parley's (docs/salesforce/): the
	// signed-in user's Username.
	r = panel.mustCall("runApex", "{apexClass: 'ParleyUser', methodName: 'userName', methodParams: ''}")
	var apex map[string]string
	json.Unmarshal(r.ReturnValue, &apex)
	if apex["runApex"] != aliceUser {
		t.Errorf("runApex ParleyUser.userName = %s, want {runApex: %q}", r.ReturnValue, aliceUser)
	}

	// The panel and its utility item.
	for _, c := range []struct{ method, args, want string }{
		{"setSoftphonePanelHeight", "{heightPX: 100}", "240 to 2560"},
		{"setSoftphonePanelHeight", "{heightPX: 3000}", "240 to 2560"},
		{"setSoftphonePanelWidth", "{widthPX: 199}", "200 to 1920"},
		{"setSoftphonePanelWidth", "{widthPX: '300'}", "200 to 1920"},
		{"setSoftphonePanelVisibility", "{visible: 'yes'}", "true or false"},
		{"searchAndScreenPop", "{searchParams: '20', callType: 'inbound'}", "at least 3 characters"},
		{"searchAndScreenPop", "{searchParams: '2015550123'}", "callType is required"},
		{"screenPop", "{type: 'url', params: {url: 'https://evil.example.com/'}}", "relative URL"},
		{"screenPop", "{type: 'sobject', params: {recordId: '500000000000001'}}", "Contact, Lead or Account"},
		{"screenPop", "{type: 'search', params: {searchString: 'ab'}}", "at least 3 characters"},
		{"screenPop", "{type: 'flow', params: {flowDevName: 'X'}}", "not supported in devcrm"},
		{"screenPop", "{type: 'teleport', params: {}}", "SCREENPOP_TYPE"},
		{"runApex", "{apexClass: 'A', methodName: 'm', methodParams: 'a=1'}", "devcrm has no Apex method A.m"},
		{"setSoftphoneItemLabel", "{label: 5}", "non-empty string"},
	} {
		r := panel.call(c.method, c.args)
		if r.Success || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Description, c.want) {
			t.Errorf("%s(%s) = %+v, want an error saying %q", c.method, c.args, r, c.want)
		}
	}
	panel.mustCall("setSoftphonePanelHeight", "{heightPX: 500}")
	panel.mustCall("setSoftphonePanelWidth", "{widthPX: 300}")
	panel.mustCall("setSoftphoneItemLabel", "{label: 'Available'}")
	panel.mustCall("setSoftphonePanelLabel", "{label: 'Parley: Available'}")
	panel.mustCall("setSoftphoneItemIcon", "{key: 'end_call'}")
	panel.mustCall("setSoftphonePanelVisibility", "{visible: true}")
	if got := evalTop[string](t, ctx, `[document.getElementById('utility-label').textContent, document.getElementById('panel-label').textContent,
		document.getElementById('utility-icon').dataset.icon, document.getElementById('softphone-frame').style.height, document.getElementById('softphone-frame').style.width,
		String(document.getElementById('softphone-panel').classList.contains('minimized'))].join('|')`); got != "Available|Parley: Available|end_call|500px|300px|false" {
		t.Errorf("utility item and panel: %s", got)
	}
	r = panel.mustCall("isSoftphonePanelVisible", "{}")
	if string(r.ReturnValue) != `{"visible":true}` {
		t.Errorf("isSoftphonePanelVisible = %s", r.ReturnValue)
	}
	browser.Screenshot(t, ctx, "", "devcrm-lightning-panel-open")
	// Docked, the panel covers the left of the page (as in Lightning).
	panel.mustCall("setSoftphonePanelVisibility", "{visible: false}")
	if evalTop[bool](t, ctx, `document.getElementById('softphone-panel').classList.contains('minimized')`) != true {
		t.Errorf("setSoftphonePanelVisibility(false) left the panel open")
	}

	// Listeners.
	panel.eval(`sforce.opencti.onNavigationChange({listener: function (p) { navs.push(p); }});
		sforce.opencti.onClickToDial({listener: function (p) { dials.push(p); }}); true`, nil)

	// A deferred search returns the pop without popping.
	r = panel.mustCall("searchAndScreenPop", "{searchParams: '2015550123', callType: sforce.opencti.CALL_TYPE.INBOUND, deferred: true}")
	var found map[string]json.RawMessage
	json.Unmarshal(r.ReturnValue, &found)
	if _, ok := found[janeID]; !ok || len(found) != 2 || !strings.Contains(string(found["SCREEN_POP_DATA"]), `"type":"sobject","params":{"recordId":"`+janeID+`"}`) {
		t.Errorf("deferred search = %s", r.ReturnValue)
	}

	// Screen pops move the record area; the frame stays.
	panel.mustCall("screenPop", "{type: sforce.opencti.SCREENPOP_TYPE.SOBJECT, params: {recordId: '"+samLeadID+"'}}")
	waitJS(t, ctx, "Sam's lead page", `document.querySelector('#record-name') && document.querySelector('#record-name').textContent === 'Sam Lead'`)
	if !strings.HasSuffix(evalTop[string](t, ctx, "location.pathname"), "/lightning/r/Lead/"+samLeadID+"/view") {
		t.Errorf("the pop did not change the URL")
	}
	var navs []map[string]string
	panel.eval("navs", &navs)
	if len(navs) == 0 || navs[len(navs)-1]["recordId"] != samLeadID || navs[len(navs)-1]["objectType"] != "Lead" {
		t.Errorf("onNavigationChange after the pop: %v", navs)
	}
	panel.mustCall("searchAndScreenPop", "{searchParams: '(201) 555-0199', callType: 'inbound'}")
	waitJS(t, ctx, "the search page for several matches", `document.querySelector('#view').dataset.title === 'Search Results'`)
	panel.mustCall("searchAndScreenPop", "{searchParams: '9995550000', callType: 'inbound', defaultFieldValues: {LastName: 'Newcaller', Phone: '999 555 0000'}}")
	waitJS(t, ctx, "the new Contact form for no match", `document.querySelector('input[name=Phone]') && document.querySelector('input[name=Phone]').value === '999 555 0000' && document.querySelector('input[name=LastName]').value === 'Newcaller'`)
	// Saving the form creates the Contact and shows it, in the shell.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".record-form button[type=submit]"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the new Contact's page", `document.querySelector('#record-name') && document.querySelector('#record-name').textContent === 'Newcaller'`)
	panel.mustCall("screenPop", "{type: 'newRecord', params: {entityName: 'Lead', defaultFieldValues: {Company: 'Pop & Co'}}}")
	waitJS(t, ctx, "the new Lead form", `document.querySelector('input[name=Company]') && document.querySelector('input[name=Company]').value === 'Pop & Co'`)
	panel.mustCall("screenPop", "{type: 'url', params: {url: '/lightning/o/Account/home'}}")
	waitJS(t, ctx, "the Account list", `document.querySelector('#view').dataset.title === 'Accounts'`)

	// Click-to-dial: phone fields become links while enabled; a click
	// sends the payload.
	panel.mustCall("screenPop", "{type: 'sobject', params: {recordId: '"+janeID+"'}}")
	waitJS(t, ctx, "Jane's page", `document.querySelector('#record-name') && document.querySelector('#record-name').textContent === 'Jane Doe'`)
	if n := evalTop[int](t, ctx, `document.querySelectorAll("a.phone").length`); n != 0 {
		t.Errorf("%d click-to-dial links before enableClickToDial", n)
	}
	panel.eval("call('enableClickToDial')", nil)
	waitJS(t, ctx, "click-to-dial links", `document.querySelectorAll('#main a.phone.ctd').length > 0`)
	browser.Screenshot(t, ctx, "", "devcrm-lightning-click-to-dial")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#main a.phone.ctd[data-number="(201) 555-0123"]`))); err != nil {
		t.Fatal(err)
	}
	var dials []map[string]string
	for deadline := time.Now().Add(10 * time.Second); len(dials) == 0 && time.Now().Before(deadline); {
		panel.eval("dials", &dials)
	}
	if len(dials) != 1 || dials[0]["number"] != "(201) 555-0123" || dials[0]["recordId"] != janeID || dials[0]["recordName"] != "Jane Doe" || dials[0]["objectType"] != "Contact" {
		t.Errorf("onClickToDial payloads %v", dials)
	}
	panel.eval("call('disableClickToDial')", nil)
	waitJS(t, ctx, "no click-to-dial links", `document.querySelectorAll('a.phone').length === 0 && document.querySelectorAll('span.phone').length > 0`)

	// saveLog creates a Task; refreshView shows it on the record.
	r = panel.mustCall("saveLog", "{value: {entityApiName: 'Task', Subject: 'Call from the test panel', WhoId: '"+janeID+"', CallType: 'Inbound', Status: 'Completed'}}")
	var saved map[string]string
	json.Unmarshal(r.ReturnValue, &saved)
	if !strings.HasPrefix(saved["recordId"], PrefixTask) {
		t.Fatalf("saveLog returned %s", r.ReturnValue)
	}
	if evalTop[bool](t, ctx, `document.body.textContent.includes('Call from the test panel')`) {
		t.Errorf("the Task shows before refreshView")
	}
	panel.mustCall("refreshView", "{}")
	waitJS(t, ctx, "the Task after refreshView", `document.querySelector('#activity').textContent.includes('Call from the test panel')`)
	r = panel.call("saveLog", "{value: {entityApiName: 'Task', CallType: 'Sideways'}}")
	if r.Success || len(r.Errors) == 0 || r.Errors[0].Code != "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" {
		t.Errorf("saveLog with a bad picklist value: %+v", r)
	}

	// A name that is markup stays text, on the page and in what the frame
	// is told.
	db, _ := e.srv.database()
	evilID, err := e.srv.createRecord(context.Background(), db, objectByName(objContact), record{"LastName": evilName, "Phone": "(201) 555-0166"}, "")
	if err != nil {
		t.Fatal(err)
	}
	evalTop[bool](t, ctx, `window.alerted = false; window.alert = function () { window.alerted = true; }; true`)
	panel.mustCall("screenPop", "{type: 'sobject', params: {recordId: '"+evilID+"'}}")
	waitJS(t, ctx, "the contact with markup in its name", `document.querySelector('#record-name') && document.querySelector('#record-name').textContent === `+strconv.Quote(evilName))
	panel.mustCall("searchAndScreenPop", "{searchParams: 'onerror', callType: 'inbound'}")
	if evalTop[int](t, ctx, `document.querySelectorAll('#main img').length`) != 0 || evalTop[bool](t, ctx, `window.alerted`) {
		t.Errorf("the contact's name became markup")
	}
	r = panel.mustCall("getAppViewInfo", "{}")
	json.Unmarshal(r.ReturnValue, &info)
	if info["recordId"] != evilID || info["recordName"] != evilName {
		t.Errorf("getAppViewInfo name %q", info["recordName"])
	}
	panel.mustCall("screenPop", "{type: 'sobject', params: {recordId: '"+janeID+"'}}")
	waitJS(t, ctx, "Jane's page again", `document.querySelector('#record-name') && document.querySelector('#record-name').textContent === 'Jane Doe'`)

	// Navigating inside the app swaps the record area; the frame is never
	// reloaded.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#main .field a[data-nav]`))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the Account page", `document.querySelector('#view').dataset.objectType === 'Account'`)
	panel.eval("navs", &navs)
	if last := navs[len(navs)-1]; last["recordId"] != acmeID || last["recordName"] != "Acme Corporation" {
		t.Errorf("onNavigationChange after a click: %v", last)
	}
	if err := chromedp.Do(ctx, chromedp.NavigateBack()); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "Jane's page after Back", `document.querySelector('#record-name') && document.querySelector('#record-name').textContent === 'Jane Doe'`)
	if mark := evalTop[string](t, ctx, `document.getElementById('softphone-frame').dataset.mark || ''`); mark != "first" || panel.loads.Load() != 1 {
		t.Errorf("the softphone frame was reloaded: mark %q, %d loads", mark, panel.loads.Load())
	}

	// Only the softphone frame is answered, and the library takes replies
	// only from devcrm's origin.
	evalTop[bool](t, ctx, `window.postMessage({methodName: 'enableClickToDial', callId: 99, apiVersion: 66, apiType: 'opencti', args: {}}, '*'); true`)
	var forged int
	panel.eval(`new Promise(function (resolve) {
		window.postMessage({apiVersion: 66, apiType: 'opencti', methodName: 'onClickToDial', callId: -1, response: {number: 'forged'}}, '*');
		setTimeout(function () { resolve(dials.length); }, 300);
	})`, &forged)
	if forged != 1 {
		t.Errorf("the library took a reply from the panel's own origin (%d dials)", forged)
	}
	if evalTop[bool](t, ctx, `window.devcrm.state.clickToDial`) {
		t.Errorf("devcrm answered a message that did not come from the softphone frame")
	}
}

func TestOpenCTIClassicConsoleInChromium(t *testing.T) {
	panel := newFakePanel(t)
	e := newUIEnv(t, panel.adapterURL("&lib=classic"))
	ctx := browser.New(t, browser.Options{})
	signIn(t, ctx, e.srv.URL(), aliceUser, "/console")

	var search string
	panel.eval("initError || location.search", &search)
	if !strings.Contains(search, "sfdcIFrameOrigin=") || strings.Contains(search, "&mode=") || strings.Contains(search, "?mode=") || !strings.Contains(search, "nonce=") || !strings.Contains(search, "isdtp=vw") {
		t.Fatalf("console frame query %q", search)
	}
	var msgs []string
	panel.eval(`[
		thrown(function () { sforce.interaction.cti.getCallCenterSettings(); }),
		thrown(function () { sforce.interaction.getPageInfo('x'); }),
		thrown(function () { sforce.interaction.cti.onClickToDial(); }),
		thrown(function () { sforce.interaction.saveLog('Task', {Subject: 'x'}); }),
		thrown(function () { sforce.interaction.setVisible('yes'); })
	]`, &msgs)
	for i, want := range []string{"a callback function is required", "a callback function is required", "a listener function is required", "saveParams must be a string", "true or false"} {
		if i >= len(msgs) || !strings.Contains(msgs[i], want) {
			t.Errorf("Classic argument check %d: %q, want %q", i, msgs, want)
		}
	}
	type classicResponse struct {
		Result json.RawMessage `json:"result"`
		Error  *string         `json:"error"`
		ID     string          `json:"id"`
	}
	ccall := func(path, args string) classicResponse {
		t.Helper()
		var r classicResponse
		panel.eval(fmt.Sprintf("ccall(%q, %s)", path, args), &r)
		return r
	}
	jsonString := func(raw json.RawMessage, out any) {
		t.Helper()
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("result %s is not a JSON string: %v", raw, err)
		}
		if err := json.Unmarshal([]byte(s), out); err != nil {
			t.Fatalf("result %s: %v", s, err)
		}
	}
	var settings map[string]string
	jsonString(ccall("cti.getCallCenterSettings", "[]").Result, &settings)
	if settings["/reqGeneralInfo/reqSoftphoneWidth"] != "260" {
		t.Errorf("Classic getCallCenterSettings = %v", settings)
	}
	if r := ccall("isInConsole", "[]"); string(r.Result) != "true" {
		t.Errorf("isInConsole = %s", r.Result)
	}
	panel.eval(`sforce.interaction.onFocus(function (p) { navs.push(p); });
		sforce.interaction.cti.onClickToDial(function (p) { dials.push(p); }); true`, nil)

	// A pop opens a workspace tab.
	r := ccall("searchAndScreenPop", "['2015550123', '', 'inbound']")
	var found map[string]map[string]string
	jsonString(r.Result, &found)
	if found[janeID]["Name"] != "Jane Doe" {
		t.Errorf("Classic searchAndScreenPop = %s", r.Result)
	}
	waitJS(t, ctx, "Jane's tab", `document.querySelectorAll('#console-tabs .tab').length === 2 && document.querySelector('#console-panes .pane.active #record-name') && document.querySelector('#console-panes .pane.active #record-name').textContent === 'Jane Doe'`)
	var page map[string]string
	jsonString(ccall("getPageInfo", "[]").Result, &page)
	if page["objectId"] != janeID || page["object"] != "Contact" || page["objectName"] != "Jane Doe" {
		t.Errorf("getPageInfo = %v", page)
	}
	// Outbound searches never pop in Classic.
	ccall("searchAndScreenPop", "['"+samLeadID+"x', '', 'outbound']")
	ccall("searchAndScreenPop", "['4155551212', '', 'outbound']")
	if n := evalTop[int](t, ctx, `document.querySelectorAll('#console-tabs .tab').length`); n != 2 {
		t.Errorf("an outbound search opened a tab (%d tabs)", n)
	}
	// Focusing a tab tells onFocus.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#console-tabs .tab[aria-controls="pane-home"]`))); err != nil {
		t.Fatal(err)
	}
	var navs []classicResponse
	for deadline := time.Now().Add(10 * time.Second); len(navs) == 0 && time.Now().Before(deadline); {
		panel.eval("navs", &navs)
	}
	if len(navs) == 0 {
		t.Fatalf("no onFocus event on a tab switch")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#console-tabs .tab[aria-controls="pane-1"]`))); err != nil {
		t.Fatal(err)
	}
	// saveLog and refreshPage.
	r = ccall("saveLog", "['Task', 'Subject=Console+call&WhoId="+janeID+"&CallType=Inbound']")
	if string(r.Result) != "true" || !strings.HasPrefix(r.ID, PrefixTask) {
		t.Fatalf("Classic saveLog = %+v", r)
	}
	ccall("refreshPage", "[]")
	waitJS(t, ctx, "the Task in the tab", `document.querySelector('#console-panes .pane.active #activity').textContent.includes('Console call')`)
	// Click-to-dial in the tab.
	ccall("cti.enableClickToDial", "[]")
	waitJS(t, ctx, "click-to-dial links in the tab", `document.querySelectorAll('#console-panes .pane.active a.phone.ctd').length > 0`)
	browser.Screenshot(t, ctx, "", "devcrm-console")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#console-panes .pane.active a.phone.ctd[data-number="(201) 555-0123"]`))); err != nil {
		t.Fatal(err)
	}
	var dials []classicResponse
	for deadline := time.Now().Add(10 * time.Second); len(dials) == 0 && time.Now().Before(deadline); {
		panel.eval("dials", &dials)
	}
	if len(dials) != 1 {
		t.Fatalf("Classic onClickToDial events %v", dials)
	}
	var dial map[string]string
	jsonString(dials[0].Result, &dial)
	if dial["number"] != "(201) 555-0123" || dial["objectId"] != janeID || dial["object"] != "Contact" {
		t.Errorf("Classic onClickToDial payload %v", dial)
	}
	if r := ccall("runApex", "['A', 'm', 'a=1']"); r.Error == nil || !strings.Contains(*r.Error, "devcrm has no Apex method A.m") {
		t.Errorf("Classic runApex = %+v", r)
	}
	if r := ccall("runApex", "['ParleyUser', 'userName', '']"); r.Error != nil || string(r.Result) != `"`+aliceUser+`"` {
		t.Errorf("Classic runApex ParleyUser.userName = %+v, want %q", r, aliceUser)
	}
	if r := ccall("cti.setSoftphoneHeight", "[100]"); r.Error == nil || !strings.Contains(*r.Error, "240 to 2560") {
		t.Errorf("Classic setSoftphoneHeight(100) = %+v", r)
	}
	if panel.loads.Load() != 1 {
		t.Errorf("the console reloaded the softphone: %d loads", panel.loads.Load())
	}

	// Plain Classic pages reload everything on navigation, the softphone
	// too.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL()+"/"+janeID), chromedp.WaitVisible(chromedp.CSS("#softphone-frame"))); err != nil {
		t.Fatal(err)
	}
	var ok bool
	panel.eval("!!sforce.interaction", &ok)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#main .field a`)), chromedp.WaitVisible(chromedp.CSS(".related-contact"))); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(evalTop[string](t, ctx, "location.pathname"), "/"+acmeID) {
		t.Errorf("the Classic link did not load the Account page")
	}
	panel.eval("!!sforce.interaction", &ok)
	if panel.loads.Load() != 3 {
		t.Errorf("Classic pages: %d softphone loads, want 3 (console, Jane, Acme)", panel.loads.Load())
	}
}

func TestStandbyURLAfterTimeoutInChromium(t *testing.T) {
	panel := newFakePanel(t)
	e := newUIEnv(t, "")
	xml := strings.NewReplacer(
		"http://127.0.0.1:9/cti/salesforce.html?env=salesforce", panel.srv.URL+"/cti/salesforce.html?noinit=1&amp;env=salesforce",
		">10000<", ">800<",
		"ParleyAcme", "ParleyStandby",
	)
	ctx := context.Background()
	list, _ := e.srv.CallCenters(ctx)
	def := string(list[0].Definition.Marshal(""))
	if _, err := e.srv.ImportCallCenter(ctx, strings.NewReader(xml.Replace(def))); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.AssignCallCenterUsers(ctx, "ParleyStandby", aliceUser); err != nil {
		t.Fatal(err)
	}
	bctx := browser.New(t, browser.Options{})
	signIn(t, bctx, e.srv.URL(), aliceUser, "/lightning/page/home")
	waitJS(t, bctx, "the standby adapter", `document.getElementById('softphone-frame').src.includes('standby=true')`)
	if !evalTop[bool](t, bctx, `window.devcrm.state.standby && sessionStorage.getItem('devcrm-standby-ParleyStandby') === '1'`) {
		t.Errorf("the standby state is not kept for the browser session")
	}
}

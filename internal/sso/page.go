package sso

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/httpapi"
	"github.com/parley-cc/parley/internal/ratelimit"
)

// page is what one of the popup's pages shows. html/template escapes every
// field for where it lands (text, attribute, script).
type page struct {
	Title   string
	Message string
	Detail  string
	Command string // a command for an administrator, shown as code
	CSRF    string // set: the consent form
	// Claim, when set, is the CSRF token of the handoff: with an opener
	// the page's script takes the session from POST /sso/handoff, posts it
	// to TargetOrigin by window.opener and closes; with none it cancels.
	Claim string
	// Failed, when set, is posted to TargetOrigin by window.opener as
	// {type: "parley.sso.failed", message: Failed}, so that the panel says
	// why too; the window stays open for the agent to read (and copy the
	// command).
	Failed       string
	TargetOrigin string
	Nonce        string // the CSP nonce of the page's script and style
}

var pageTemplate = template.Must(template.New("sso").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - Parley</title>
<style nonce="{{.Nonce}}">body{font:15px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:34rem;padding:0 1rem;color:#1b1f24}
code{display:block;background:#f2f4f7;padding:.6rem;border-radius:4px;white-space:pre-wrap;word-break:break-all}
button{font:inherit;padding:.4rem 1rem;margin-right:.5rem}</style></head>
<body{{if .Claim}} data-handoff="{{.Claim}}"{{end}}><h1>{{.Title}}</h1><p id="message">{{.Message}}</p>
{{if .Detail}}<p>{{.Detail}}</p>{{end}}
{{if .Command}}<code id="command">{{.Command}}</code>{{end}}
{{if .CSRF}}<form method="post" action="/sso/consent"><input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" name="answer" value="allow">Allow</button><button type="submit" name="answer" value="deny">Deny</button></form>{{end}}
{{if .Claim}}<script nonce="{{.Nonce}}">(function(){var o={{.TargetOrigin}},c=document.body.dataset.handoff,m=document.getElementById("message");
function gone(){return !window.opener||window.opener.closed;}
function send(a){return fetch("/sso/handoff",{method:"POST",credentials:"same-origin",headers:{"Content-Type":"application/x-www-form-urlencoded"},body:"csrf="+encodeURIComponent(c)+"&answer="+a});}
if(gone()){send("cancel");document.title=document.querySelector("h1").textContent="Not signed in";m.textContent="This window was not opened by the Parley panel, or the panel is gone, so no session was kept: close this window and sign in from the panel.";return;}
send("take").then(function(r){return r.json().then(function(b){
if(!r.ok||b.type!=="parley.sso"){m.textContent=b.message||"Sign-in failed: sign in again from the panel.";if(!gone()){window.opener.postMessage({type:"parley.sso.failed",message:m.textContent},o);}return;}
if(gone()){fetch("/api/v1/sessions/current",{method:"DELETE",headers:{Authorization:"Bearer "+b.token}});m.textContent="The panel that opened this window is gone, so the session was ended: close this window and sign in from the panel.";return;}
window.opener.postMessage(b,o);window.close();});},function(){m.textContent="Parley did not answer: close this window and sign in again from the panel.";});})();</script>{{end}}
{{if .Failed}}<script nonce="{{.Nonce}}">if(window.opener){window.opener.postMessage({type:"parley.sso.failed",message:{{.Failed}}},{{.TargetOrigin}});}</script>{{end}}
</body></html>`))

// page writes p with a strict Content-Security-Policy: nothing loads, only
// the page's own nonce'd script and style run, forms post only to Parley,
// and no site may frame it.
func (h *Handler) page(w http.ResponseWriter, status int, p page) {
	p.Nonce = cc.RandomToken(18)
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+p.Nonce+"'; style-src 'nonce-"+p.Nonce+"'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, p); err != nil {
		h.log.Warn("SSO page not written", "error", err)
	}
}

// json writes v as the JSON answer of the handoff, never cached.
func (h *Handler) json(w http.ResponseWriter, status int, v any) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		h.log.Warn("SSO handoff not written", "error", err)
	}
}

// failJSON answers the handoff with err's user-safe message as
// {type: "parley.sso.failed", message}; the log gets the cause.
func (h *Handler) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	status := h.status(w, r, err)
	h.json(w, status, map[string]string{"type": "parley.sso.failed", "message": cc.ErrorMessage(err)})
}

// fail shows err's user-safe message on an error page; the log gets the cause.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := h.status(w, r, err)
	title := "Sign-in failed"
	if status == http.StatusTooManyRequests {
		title = "Too many sign-ins"
	}
	h.failPage(w, status, page{Title: title, Message: cc.ErrorMessage(err)})
}

// status returns the HTTP status of err, sets Retry-After when it has
// one, and logs err with its cause.
func (h *Handler) status(w http.ResponseWriter, r *http.Request, err error) int {
	status := httpapi.ErrorStatus(err)
	var ra cc.RetryAfter
	if errors.As(err, &ra) {
		if v := ratelimit.RetryAfterSeconds(ra); v != "" {
			w.Header().Set("Retry-After", v)
		}
	}
	if status == http.StatusInternalServerError {
		h.log.Error("SSO failed", "path", r.URL.Path, "error", err)
	} else {
		h.log.Info("SSO refused", "path", r.URL.Path, "error", err)
	}
	return status
}

// failPage shows a page that ends the sign-in without a session, and tells
// the panel why (its message and command).
func (h *Handler) failPage(w http.ResponseWriter, status int, p page) {
	p.Failed, p.TargetOrigin = p.Message, h.origin
	if p.Command != "" {
		p.Failed += " " + p.Command
	}
	h.page(w, status, p)
}

package sso

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/parley-cc/parley/internal/cc"
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
	// Handoff, when set, is posted to TargetOrigin by window.opener and
	// the window closes.
	Handoff *handoff
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
<body><h1>{{.Title}}</h1><p id="message">{{.Message}}</p>
{{if .Detail}}<p>{{.Detail}}</p>{{end}}
{{if .Command}}<code id="command">{{.Command}}</code>{{end}}
{{if .CSRF}}<form method="post" action="/sso/consent"><input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" name="answer" value="allow">Allow</button><button type="submit" name="answer" value="deny">Deny</button></form>{{end}}
{{if .Handoff}}<script nonce="{{.Nonce}}">(function(){var m={{.Handoff}};
if(window.opener){window.opener.postMessage(m,{{.TargetOrigin}});window.close();}
else{document.getElementById("message").textContent="Signed in, but the panel that opened this window is gone: close this window and sign in again from the panel.";}})();</script>{{end}}
{{if .Failed}}<script nonce="{{.Nonce}}">if(window.opener){window.opener.postMessage({type:"parley.sso.failed",message:{{.Failed}}},{{.TargetOrigin}});}</script>{{end}}
</body></html>`))

// page writes p with a strict Content-Security-Policy: nothing loads, only
// the page's own nonce'd script and style run, forms post only to Parley,
// and no site may frame it.
func (h *Handler) page(w http.ResponseWriter, status int, p page) {
	p.Nonce = cc.RandomToken(18)
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+p.Nonce+"'; style-src 'nonce-"+p.Nonce+"'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, p); err != nil {
		h.log.Warn("SSO page not written", "error", err)
	}
}

// fail shows err's user-safe message on an error page; the log gets the cause.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch cc.ErrorCode(err) {
	case cc.EINVALID:
		status = http.StatusBadRequest
	case cc.ENOTFOUND:
		status = http.StatusNotFound
	case cc.EUNAUTHORIZED:
		status = http.StatusUnauthorized
	case cc.EFORBIDDEN:
		status = http.StatusForbidden
	case cc.EUNAVAILABLE:
		status = http.StatusServiceUnavailable
	case cc.ERATELIMIT:
		status = http.StatusTooManyRequests
	}
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
	title := "Sign-in failed"
	if status == http.StatusTooManyRequests {
		title = "Too many sign-ins"
	}
	h.failPage(w, status, page{Title: title, Message: cc.ErrorMessage(err)})
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

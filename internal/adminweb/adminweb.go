// Package adminweb serves Parley's admin web pages. The first is the call
// center users page (GET /admin/call-center-users): the users of the
// tenant's CRM, each with the Parley user mapped to it or "not mapped", and
// the agents mapped to no CRM user, with buttons to map and unmap them.
//
// The page is a shell rendered with html/template (it shows only the
// tenant named in ?tenant=, escaped); a plain ES module signs in with the
// REST API (POST /api/v1/sessions), keeps the bearer token in localStorage
// (no cookie), and calls GET /api/v1/admin/crm-users and
// PUT|DELETE /api/v1/admin/users/{id}/integrations/salesforce with fetch,
// inserting everything it shows as text. The Content Security Policy allows
// only the page's own scripts, styles and API, and no framing.
package adminweb

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// CSP is the Content-Security-Policy of the admin pages and their assets.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed assets
var assetFS embed.FS

var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

// Handler serves /admin/call-center-users and /admin/assets/.
type Handler struct {
	mux    *http.ServeMux
	assets fs.FS
}

// New returns a Handler. It does no I/O.
func New() *Handler {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic("adminweb: embedded assets: " + err.Error())
	}
	h := &Handler{mux: http.NewServeMux(), assets: sub}
	h.mux.HandleFunc("GET /admin/call-center-users", h.page)
	h.mux.HandleFunc("GET /admin/assets/{name}", h.asset)
	return h
}

// ServeHTTP routes to a page or an asset; anything else is 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func setHeaders(hd http.Header, contentType string) {
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
}

// page renders the call center users page. A ?tenant= that is not a tenant
// slug is not shown (the sign-in form starts empty).
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	tenant := strings.TrimSpace(r.URL.Query().Get("tenant"))
	if len(tenant) > 63 || strings.ContainsFunc(tenant, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		tenant = ""
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, struct{ Tenant string }{tenant}); err != nil {
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	setHeaders(w.Header(), "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// asset serves one embedded file.
func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, err := fs.ReadFile(h.assets, name)
	if err != nil {
		http.Error(w, "no such asset", http.StatusNotFound)
		return
	}
	ct := "text/css; charset=utf-8"
	if path.Ext(name) == ".js" {
		ct = "text/javascript; charset=utf-8"
	}
	setHeaders(w.Header(), ct)
	_, _ = w.Write(b)
}

const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Call center users · Parley admin</title>
<link rel="stylesheet" href="/admin/assets/admin.css">
<script type="module" src="/admin/assets/callcenterusers.js"></script>
</head>
<body>
<header><h1>Call center users</h1><button id="sign-out" type="button" hidden>Sign out</button></header>
<p id="status" role="status" aria-live="polite"></p>
<form id="sign-in" hidden>
  <p>Sign in as an admin of the tenant.</p>
  <label>Tenant <input name="tenant" required autocomplete="organization" value="{{.Tenant}}"></label>
  <label>Username <input name="username" required autocomplete="username"></label>
  <label>Password <input name="password" type="password" required autocomplete="current-password"></label>
  <button type="submit">Sign in</button>
</form>
<main id="view" hidden>
  <p id="signed-in"></p>
  <h2>CRM users</h2>
  <p>Each CRM user signs in to Parley from the CRM as the Parley user mapped to it. Map an agent to the CRM user whose username the agent signs in to the CRM with.</p>
  <table id="crm-users">
    <thead><tr><th>CRM username</th><th>Email</th><th>Parley user</th><th></th></tr></thead>
    <tbody></tbody>
  </table>
  <h2>Parley agents mapped to no CRM user</h2>
  <table id="unmatched">
    <thead><tr><th>Parley user</th><th>Why</th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="all-mapped" hidden>Every Parley agent is mapped to a CRM user.</p>
  <button id="reload" type="button">Reload</button>
</main>
</body>
</html>
`

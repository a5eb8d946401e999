// Package panel serves the agent panel: the CTI adapter page that a CRM
// (Salesforce Lightning, Classic and Service Console, or devcrm) frames as
// its softphone, with the panel's embedded static assets (HTML, CSS and
// plain ES modules; no build step).
//
// GET /cti/salesforce.html checks the query string the CRM appends
// (sfdcIframeOrigin or sfdcIFrameOrigin, mode, nonce, isdtp) and the
// reference launcher parameters (env, companel, vccmode, vccDomain,
// ssoMode, sandbox, tenant). ssoMode=true for a legacy (kind 1) tenant
// gives the panel with the explanation that single sign-on is not
// available for legacy tenants above its password sign-in. A malformed or unknown parameter, or a CRM
// origin the tenant has not configured, gives a page that says what to fix
// and loads nothing else. A good request gets the panel, with a Content
// Security Policy whose frame-ancestors are exactly the tenant's CRM origins
// and whose script-src is the panel's own assets plus the CRM origin (for
// opencti_min.js or interaction.js).
//
// The panel is also the browser agent's softphone (assets/softphone.js):
// one WebRTC audio leg per agent, in one tab, signalled over the events
// WebSocket (softphone.offer / softphone.answer).
//
// The panel signs in with the REST API (POST /api/v1/sessions) and keeps
// its bearer token in localStorage, not in a cookie, so no cookie crosses
// the frame. Everything it shows that came from outside is inserted as
// text.
package panel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// Tenants finds tenants for the adapter page; cc.TenantStore satisfies it.
type Tenants interface {
	// TenantBySlug returns a tenant by slug. ENOTFOUND if none.
	TenantBySlug(ctx context.Context, slug string) (*cc.Tenant, error)
	// Tenants returns all tenants.
	Tenants(ctx context.Context) ([]*cc.Tenant, error)
}

// Options configure a Handler.
type Options struct {
	// Tenants resolves the tenant and its CRM origins. Required.
	Tenants Tenants
	// Logger receives failures to read tenants; nil discards.
	Logger *slog.Logger
}

// Handler serves /cti/salesforce.html and /cti/assets/.
type Handler struct {
	tenants Tenants
	log     *slog.Logger
	mux     *http.ServeMux
	// version is a hash of every asset; asset URLs carry it, so they can be
	// cached for a year and change when any asset does.
	version string
	assets  fs.FS
}

//go:embed assets
var assetFS embed.FS

// startTime is the modification time of the embedded assets.
var startTime = time.Now()

var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

// New returns a Handler. It does no I/O.
func New(opts Options) *Handler {
	if opts.Tenants == nil {
		panic("panel: Options.Tenants is nil")
	}
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic("panel: embedded assets: " + err.Error())
	}
	h := &Handler{tenants: opts.Tenants, log: opts.Logger, mux: http.NewServeMux(), assets: sub, version: assetsVersion(sub)}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.mux.HandleFunc("GET /cti/salesforce.html", h.page)
	h.mux.HandleFunc("GET /cti/assets/{version}/{name}", h.asset)
	return h
}

// ServeHTTP routes to the adapter page or an asset.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// assetsVersion hashes every embedded asset's name and content.
func assetsVersion(fsys fs.FS) string {
	sum := sha256.New()
	var names []string
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(fsys, n)
		fmt.Fprintf(sum, "%s\x00%d\x00", n, len(b))
		sum.Write(b)
	}
	return hex.EncodeToString(sum.Sum(nil))[:12]
}

// asset serves one embedded file. An old version is answered with the
// current file, uncached, so a page that outlived a deploy still works.
func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, err := fs.ReadFile(h.assets, name)
	if err != nil || strings.Contains(name, "/") {
		http.Error(w, "no such asset", http.StatusNotFound)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if path.Ext(name) == ".js" {
		ct = "text/javascript; charset=utf-8"
	}
	hd := w.Header()
	hd.Set("Content-Type", ct)
	hd.Set("X-Content-Type-Options", "nosniff")
	if r.PathValue("version") == h.version {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, startTime, bytes.NewReader(b))
}

// pageData fills the page template.
type pageData struct {
	Problem string // set: the page shows only this
	Assets  string // /cti/assets/<version>
	Config  *pageConfig
}

// pageConfig is what the panel's script reads from the page.
type pageConfig struct {
	Launch     *Launch `json:"launch"`
	ScriptURL  string  `json:"script_url"`
	APIVersion string  `json:"api_version"`
	Tenant     string  `json:"tenant"`
	TenantName string  `json:"tenant_name"`
	// TenantKind is the tenant's kind (1 legacy, 2 unified login, 3
	// unified login + UC); SSO is whether it may use single sign-on.
	TenantKind int  `json:"tenant_kind"`
	SSO        bool `json:"sso"`
	// SSONotice, set when the launch asks for single sign-on (ssoMode=true)
	// and the tenant's kind does not offer it, is the explanation the
	// panel shows above its password sign-in (cc.ErrSSONotAvailable).
	SSONotice string `json:"sso_notice,omitempty"`
}

// page serves the CTI adapter page.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	l, err := ParseLaunch(r.URL.Query())
	if err != nil {
		h.refuse(w, http.StatusBadRequest, nil, askedOrigin(r.URL.Query()), cc.ErrorMessage(err))
		return
	}
	t, err := h.tenantFor(r.Context(), l)
	if err != nil {
		status := http.StatusForbidden
		if cc.ErrorCode(err) == cc.EINTERNAL {
			h.log.ErrorContext(r.Context(), "panel: read tenants", "err", err)
			status = http.StatusInternalServerError
		}
		var origins []string
		if t != nil {
			origins = t.CRMOrigins
		}
		h.refuse(w, status, origins, l.Origin, cc.ErrorMessage(err))
		return
	}
	if l.VCCMode != 0 && l.VCCMode != int(t.Kind) {
		h.refuse(w, http.StatusBadRequest, t.CRMOrigins, l.Origin, fmt.Sprintf(
			"vccmode=%d: tenant %s is of kind %d; use vccmode=%d", l.VCCMode, t.Slug, t.Kind, t.Kind))
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP(t.CRMOrigins, l.Origin))
	setCommonHeaders(hd)
	name := t.DisplayName
	if name == "" {
		name = t.Slug
	}
	cfg := &pageConfig{
		Launch: l, ScriptURL: l.ScriptURL(), APIVersion: OpenCTIVersion, Tenant: t.Slug, TenantName: name,
		TenantKind: int(t.Kind), SSO: t.Kind.SSO(),
	}
	if l.SSO {
		cfg.SSONotice = cc.ErrorMessage(t.CheckSSO())
	}
	h.render(w, http.StatusOK, pageData{Assets: "/cti/assets/" + h.version, Config: cfg})
}

// tenantFor returns the tenant the launch names (or, without a tenant
// parameter, the one tenant whose CRM origins include the launch's origin)
// and checks that the origin is one of its CRM origins. The error is
// EFORBIDDEN naming the origin and the admin command that allows it; the
// tenant is returned with it when known.
func (h *Handler) tenantFor(ctx context.Context, l *Launch) (*cc.Tenant, error) {
	if l.Tenant != "" {
		t, err := h.tenants.TenantBySlug(ctx, l.Tenant)
		if cc.IsCode(err, cc.ENOTFOUND) {
			return nil, cc.Errorf(cc.EFORBIDDEN, "tenant=%s: no such contact center; check the tenant parameter of the CTI adapter URL", l.Tenant)
		}
		if err != nil {
			return nil, cc.WrapError(cc.EINTERNAL, err, "The contact center cannot read its tenants now: try again")
		}
		if !t.AllowsCRMOrigin(l.Origin) {
			return t, cc.Errorf(cc.EFORBIDDEN, "The CRM origin %s is not allowed for tenant %s: an administrator adds it with: parley admin tenant set --tenant %s --add-crm-origin %s", l.Origin, t.Slug, t.Slug, l.Origin)
		}
		return t, nil
	}
	ts, err := h.tenants.Tenants(ctx)
	if err != nil {
		return nil, cc.WrapError(cc.EINTERNAL, err, "The contact center cannot read its tenants now: try again")
	}
	var found []*cc.Tenant
	for _, t := range ts {
		if t.AllowsCRMOrigin(l.Origin) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, cc.Errorf(cc.EFORBIDDEN, "The CRM origin %s is not allowed for any tenant: an administrator adds it with: parley admin tenant set --tenant TENANT --add-crm-origin %s (and may add tenant=TENANT to the CTI adapter URL)", l.Origin, l.Origin)
	}
	return nil, cc.Errorf(cc.EFORBIDDEN, "The CRM origin %s belongs to %d tenants: add tenant=NAME to the CTI adapter URL", l.Origin, len(found))
}

// refuse writes a page that shows only the problem. It may be framed by
// the tenant's CRM origins and by the origin that asked (so the message
// shows where the panel was expected); it runs no script and loads nothing
// but the stylesheet.
func (h *Handler) refuse(w http.ResponseWriter, status int, origins []string, asked, problem string) {
	ancestors := append([]string(nil), origins...)
	if asked != "" && !contains(ancestors, asked) {
		ancestors = append(ancestors, asked)
	}
	fa := "'none'"
	if len(ancestors) > 0 {
		fa = strings.Join(ancestors, " ")
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors "+fa)
	setCommonHeaders(hd)
	h.render(w, status, pageData{Problem: problem, Assets: "/cti/assets/" + h.version})
}

func (h *Handler) render(w http.ResponseWriter, status int, d pageData) {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, d); err != nil {
		h.log.Error("panel: render page", "err", err)
		http.Error(w, "the panel page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// CSP is the Content-Security-Policy of the panel page for a tenant's CRM
// origins and the origin that frames it: frame-ancestors lists exactly the
// tenant's origins; scripts come from the panel itself and from the CRM
// origin (its Open CTI library); connections go to the panel's own origin
// (REST and the events WebSocket: 'self' covers ws: and wss: of the same
// host). The softphone needs nothing more: CSP does not govern
// getUserMedia, RTCPeerConnection or WebAudio, and the remote audio is a
// MediaStream set as the <audio> element's srcObject, not a URL that
// media-src would check.
func CSP(origins []string, crmOrigin string) string {
	fa := "'none'"
	if len(origins) > 0 {
		fa = strings.Join(origins, " ")
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self' " + crmOrigin,
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors " + fa,
	}, "; ")
}

func setCommonHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// askedOrigin is the origin a malformed launch names, loosely read (any
// http or https scheme://host[:port]), so that the page saying what is
// wrong can show in the frame that asked; "" when there is none.
func askedOrigin(q url.Values) string {
	for _, k := range []string{"sfdcIframeOrigin", "sfdcIFrameOrigin"} {
		u, err := url.Parse(strings.TrimSpace(q.Get(k)))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(u.Host, " ;,'\"") {
			continue
		}
		return u.Scheme + "://" + strings.ToLower(u.Host)
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

package devcrm

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/callcenter"
	"github.com/parley-cc/parley/internal/cc"
)

//go:embed web
var webFS embed.FS

// The record pages' constants.
const (
	sessionCookie = "devcrm_sid"
	sessionTTL    = 12 * time.Hour
	// partialHeader asks a page for its view only (the record area), which
	// the single-page shells swap in without reloading the softphone.
	partialHeader = "X-Devcrm-Partial"
	// apiHeader must be on the host script's calls to /devcrm/api/: a
	// cross-site form cannot set it.
	apiHeader = "X-Devcrm-Request"
	// lightningAppID is the ltn_app_id devcrm's one Lightning app passes.
	lightningAppID = "06mDv0000000001"
	// utilityLabel is the Open CTI Softphone utility item's default label.
	utilityLabel = "Phone"
)

// pageObjects are the objects with record pages, in navigation order.
var pageObjects = []string{objContact, objLead, objAccount}

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"lower":  strings.ToLower,
	"rowsOf": func(v *view, l relatedList) rowsData { return rowsData{View: v, List: l} },
}).ParseFS(webFS, "web/*.html"))

// rowsData is what the rows template renders: a list and the view whose
// Link makes its record links.
type rowsData struct {
	View *view
	List relatedList
}

// uiUser is the signed-in devcrm user.
type uiUser struct {
	ID, Username, Name string
}

// page is what a layout template renders.
type page struct {
	Title  string
	User   *uiUser
	Layout string // "lightning", "console" or "classic"
	View   *view
	// CTI configures the softphone frame; nil when the user is not in a
	// call center (the page then shows NotCallCenterUser).
	CTI               *ctiConfig
	NotCallCenterUser bool
	Objects           []string
}

// ctiConfig is what host.js reads from the page: where the softphone frame
// points and the call center's settings.
type ctiConfig struct {
	Mode          string            `json:"mode"` // "Lightning" or "Classic"
	AdapterURL    string            `json:"adapterUrl"`
	AdapterOrigin string            `json:"adapterOrigin"`
	StandbyURL    string            `json:"standbyUrl"`
	TimeoutMS     int               `json:"timeoutMs"`
	Width         int               `json:"width"`
	Height        int               `json:"height"`
	Label         string            `json:"label"`
	CallCenter    string            `json:"callCenter"`
	Settings      map[string]string `json:"settings"`
	Origin        string            `json:"origin"`
	Nonce         string            `json:"nonce"`
	AppID         string            `json:"appId"`
	Layout        string            `json:"layout"`
}

// view is the record area of a page.
type view struct {
	Kind       string // home, record, list, new, search, notice
	Title      string
	URL        string // for getAppViewInfo and onNavigationChange
	RecordID   string
	RecordName string
	ObjectType string
	Classic    bool // links go to /{Id}, as in Classic
	Fields     []fieldView
	Related    []relatedList
	Tasks      []taskView
	Lists      []relatedList // home and list pages, search results
	Query      string
	Form       []formField
	Error      string
	Notice     string
}

type fieldView struct {
	Label, Value string
	Phone        bool
	Link         string
}

type relatedList struct {
	Title  string
	Object string
	Rows   []rowView
}

type rowView struct {
	ID, Name, Object, Phone, Email string
}

type taskView struct {
	ID, Subject, CallType, Disposition, Created, Description, Status string
	Duration                                                         string
}

type formField struct {
	Name, Label, Value string
	Required           bool
	Long               bool
}

// Link returns the page of a record: /lightning/r/{Object}/{Id}/view, or
// /{Id} on Classic pages.
func (v *view) Link(object, id string) string {
	if v.Classic {
		return "/" + id
	}
	return "/lightning/r/" + object + "/" + id + "/view"
}

// uiRoutes registers the browser-facing routes.
func (s *Server) uiRoutes() {
	m := s.mux
	static, _ := fs.Sub(webFS, "web")
	m.Handle("GET /devcrm/static/", http.StripPrefix("/devcrm/static/", s.staticFiles(static)))
	m.HandleFunc("GET /support/api/{version}/lightning/opencti_min.js", s.handleCTIScript("opencti.js", 38))
	m.HandleFunc("GET /support/api/{version}/lightning/opencti.js", s.handleCTIScript("opencti.js", 38))
	m.HandleFunc("GET /support/api/{version}/interaction.js", s.handleCTIScript("interaction.js", 25))
	m.HandleFunc("GET /login", s.handleLoginPage)
	m.HandleFunc("POST /login", s.handleLogin)
	m.HandleFunc("POST /logout", s.handleLogout)
	m.HandleFunc("GET /{$}", s.signedIn(func(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
		http.Redirect(w, r, "/lightning/page/home", http.StatusSeeOther)
	}))
	m.HandleFunc("GET /lightning/page/home", s.signedIn(s.lightning(s.homeView)))
	m.HandleFunc("GET /lightning/r/{object}/{id}/view", s.signedIn(s.lightning(s.recordView)))
	m.HandleFunc("GET /lightning/o/{object}/home", s.signedIn(s.lightning(s.listView)))
	m.HandleFunc("GET /lightning/o/{object}/list", s.signedIn(s.lightning(s.listView)))
	m.HandleFunc("GET /lightning/o/{object}/new", s.signedIn(s.lightning(s.newView)))
	m.HandleFunc("POST /lightning/o/{object}/new", s.signedIn(s.handleNewRecord))
	m.HandleFunc("GET /lightning/search", s.signedIn(s.lightning(s.searchView)))
	m.HandleFunc("GET /console", s.signedIn(s.handleConsole))
	m.HandleFunc("GET /{id}", s.signedIn(s.handleClassicRecord))
	m.HandleFunc("GET /setup/callcenters", s.signedIn(s.administrator(s.handleCallCenters)))
	m.HandleFunc("POST /setup/callcenters", s.signedIn(s.administrator(s.handleImportCallCenter)))
	m.HandleFunc("GET /setup/callcenters/{name}/users", s.signedIn(s.administrator(s.handleCallCenterUsers)))
	m.HandleFunc("POST /setup/callcenters/{name}/users", s.signedIn(s.administrator(s.handleChangeCallCenterUsers)))
	m.HandleFunc("GET /setup/users", s.signedIn(s.administrator(s.handleUsers)))
	m.HandleFunc("POST /setup/users/{id}/password", s.signedIn(s.administrator(s.handleSetPassword)))
	m.HandleFunc("GET /setup/connectedapps", s.signedIn(s.administrator(s.handleConnectedApps)))
	m.HandleFunc("POST /setup/connectedapps", s.signedIn(s.administrator(s.handleCreateConnectedApp)))
	s.oidcPageRoutes()
	m.HandleFunc("GET /devcrm/api/search", s.hostAPI(s.handleAPISearch))
	m.HandleFunc("POST /devcrm/api/savelog", s.hostAPI(s.handleAPISaveLog))
	m.HandleFunc("POST /devcrm/api/apex", s.hostAPI(s.handleAPIApex))
}

// staticFiles serves the embedded CSS and scripts with a short cache
// lifetime (they change with devcrm's version, not often).
func (s *Server) staticFiles(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

// handleCTIScript serves devcrm's Open CTI library for one API version
// (from minVersion, when Salesforce introduced it, to devcrm's newest): the
// version in the path is the API_VERSION the script sends and accepts.
func (s *Server) handleCTIScript(name string, minVersion int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, ok := parseVersionNumber(r.PathValue("version"))
		if !ok || n < minVersion || n > s.maxVersion {
			http.Error(w, fmt.Sprintf("devcrm serves %s for API versions %d.0 to %d.0", name, minVersion, s.maxVersion), http.StatusNotFound)
			return
		}
		body, err := webFS.ReadFile("web/" + name)
		if err != nil {
			s.writePageError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		// The library may be loaded by a page of another origin (the
		// adapter); it is a static script, as Salesforce's is.
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		fmt.Fprintf(w, "/* devcrm build of Open CTI, API %d.0: Parley's Salesforce emulator, not Salesforce's library. */\n", n)
		fmt.Fprintf(w, "var __devcrmApiVersion = %d;\n", n)
		w.Write(body)
	}
}

// uiHandler is a page handler for a signed-in user.
type uiHandler func(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB)

// signedIn runs h for a signed-in user, and sends others to the sign-in
// page (which brings them back).
func (s *Server) signedIn(h uiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		db, err := s.database()
		if err != nil {
			http.Error(w, "devcrm is not started", http.StatusServiceUnavailable)
			return
		}
		u, err := s.sessionUser(r.Context(), db, r)
		if err != nil {
			s.writePageError(w, r, err)
			return
		}
		if u == nil {
			if r.Header.Get(partialHeader) != "" {
				http.Error(w, "your devcrm session ended: sign in again", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !s.sameOrigin(r) {
			http.Error(w, "cross-site form refused", http.StatusForbidden)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		// Clickjacking protection, as Salesforce's pages have: only devcrm
		// may frame devcrm.
		w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		h(w, r, u, db)
	}
}

// administrator runs h for a user who may use Setup, and answers others
// 403 with who may.
func (s *Server) administrator(h uiHandler) uiHandler {
	return func(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
		ok, err := isAdministrator(r.Context(), db, u.ID)
		if err != nil {
			s.writePageError(w, r, err)
			return
		}
		if !ok {
			p, err := s.newPage(r, u, db, "lightning", noticeView("Insufficient Privileges",
				"Setup is for devcrm administrators ("+DefaultAdministrator+" in the bundled records). Ask one to make you an administrator."))
			if err != nil {
				s.writePageError(w, r, err)
				return
			}
			s.renderTemplate(w, http.StatusForbidden, "lightning", p)
			return
		}
		h(w, r, u, db)
	}
}

// sameOrigin reports whether a POST comes from devcrm's own pages: its
// Origin header, when the browser sends one, is devcrm's.
func (s *Server) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	return o == s.origin(r)
}

// origin is devcrm's origin as the browser sees it.
func (s *Server) origin(r *http.Request) string {
	if u := s.URL(); u != "" && s.cfg.PublicURL != "" {
		return u
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// sessionUser returns the user of the request's session cookie, or nil.
func (s *Server) sessionUser(ctx context.Context, db *sql.DB, r *http.Request) (*uiUser, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	var id, username, name string
	err = db.QueryRowContext(ctx, `SELECT u."Id", u."Username", u."Name" FROM ui_session s JOIN "User" u ON u."Id" = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ? AND u."IsActive" = 1`, auth.HashToken(c.Value), s.now().UnixMilli()).Scan(&id, &username, &name)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up the devcrm session: %w", err)
	}
	return &uiUser{ID: id, Username: username, Name: name}, nil
}

type loginPage struct {
	Next, Username, Error string
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, http.StatusOK, loginPage{Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) renderLogin(w http.ResponseWriter, status int, p loginPage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if err := templates.ExecuteTemplate(w, "login", p); err != nil {
		s.log.Error("devcrm login page", "err", err)
	}
}

// safeNext keeps a post-sign-in target only when it is a path on devcrm.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/lightning/page/home"
	}
	return next
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	db, err := s.database()
	if err != nil {
		http.Error(w, "devcrm is not started", http.StatusServiceUnavailable)
		return
	}
	if !s.sameOrigin(r) {
		http.Error(w, "cross-site form refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, http.StatusBadRequest, loginPage{Error: "The form could not be read; try again."})
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	next := safeNext(r.PostForm.Get("next"))
	id, err := checkPassword(r.Context(), db, username, r.PostForm.Get("password"))
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	if id == "" {
		s.renderLogin(w, http.StatusUnauthorized, loginPage{Next: next, Username: username, Error: badPasswordMessage})
		return
	}
	if err := s.startSession(w, r, db, id); err != nil {
		s.writePageError(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// badPasswordMessage answers a wrong username or password.
const badPasswordMessage = "Please check your username and password. If you still can't log in, the demo prints the devcrm passwords (and keeps them in demo.json as crm_users)."

// checkPassword returns the Id of the active user with that username and
// password, or "" when there is none.
func checkPassword(ctx context.Context, db *sql.DB, username, password string) (string, error) {
	var id, hash string
	err := db.QueryRowContext(ctx, `SELECT u."Id", coalesce(p.password_hash, '') FROM "User" u LEFT JOIN ui_password p ON p.user_id = u."Id"
		WHERE u."Username" = ? AND u."IsActive" = 1`, username).Scan(&id, &hash)
	if err != nil && err != sql.ErrNoRows {
		return "", fmt.Errorf("look up user %s: %w", username, err)
	}
	if !auth.VerifyPassword(hash, password) {
		return "", nil
	}
	return id, nil
}

// startSession signs the user in to devcrm's pages: a new session and its
// cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, db *sql.DB, userID string) error {
	token, tokenHash := auth.NewToken()
	now := s.now()
	if _, err := db.ExecContext(r.Context(), `INSERT INTO ui_session (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash, userID, now.UnixMilli(), now.Add(sessionTTL).UnixMilli()); err != nil {
		return fmt.Errorf("store the devcrm session: %w", err)
	}
	if _, err := db.ExecContext(r.Context(), `DELETE FROM ui_session WHERE expires_at <= ?`, now.UnixMilli()); err != nil {
		s.log.Warn("devcrm: expired sessions not removed", "err", err)
	}
	// Max-Age, not Expires: the lifetime is relative, so a browser whose
	// clock differs from devcrm's (or devcrm's injected clock) keeps it.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(s.origin(r), "https:"), MaxAge: int(sessionTTL / time.Second)})
	return nil
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r) {
		http.Error(w, "cross-site form refused", http.StatusForbidden)
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if db, err := s.database(); err == nil {
			db.ExecContext(r.Context(), `DELETE FROM ui_session WHERE token_hash = ?`, auth.HashToken(c.Value))
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// writePageError logs an unexpected error and answers 500 with its id.
func (s *Server) writePageError(w http.ResponseWriter, r *http.Request, err error) {
	if code := cc.ErrorCode(err); code != cc.EINTERNAL {
		status := http.StatusBadRequest
		if code == cc.ENOTFOUND {
			status = http.StatusNotFound
		}
		http.Error(w, cc.ErrorMessage(err), status)
		return
	}
	errorID := cc.RandomToken(5)
	s.log.Error("devcrm page failed", "method", r.Method, "path", r.URL.Path, "error_id", errorID, "err", err)
	http.Error(w, "devcrm failed; the log has error "+errorID, http.StatusInternalServerError)
}

// viewFunc builds the record area of a page.
type viewFunc func(r *http.Request, u *uiUser, db *sql.DB, classic bool) (*view, int, error)

// lightning renders a view in the Lightning-like shell, or only the view
// when the shell asks for it (partialHeader).
func (s *Server) lightning(build viewFunc) uiHandler {
	return func(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
		v, status, err := build(r, u, db, false)
		if err != nil {
			s.writePageError(w, r, err)
			return
		}
		v.URL = r.URL.RequestURI()
		if r.Header.Get(partialHeader) != "" {
			s.renderTemplate(w, status, "view", v)
			return
		}
		p, err := s.newPage(r, u, db, "lightning", v)
		if err != nil {
			s.writePageError(w, r, err)
			return
		}
		s.renderTemplate(w, status, "lightning", p)
	}
}

func (s *Server) renderTemplate(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := templates.ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("devcrm template", "template", name, "err", err)
	}
}

// newPage builds a page for the user with the softphone of their call
// center, if they are in one.
func (s *Server) newPage(r *http.Request, u *uiUser, db *sql.DB, layout string, v *view) (*page, error) {
	p := &page{Title: v.Title, User: u, Layout: layout, View: v, Objects: pageObjects}
	c, err := userCallCenter(r.Context(), db, u.ID)
	if err != nil {
		return nil, err
	}
	if c == nil {
		p.NotCallCenterUser = true
		return p, nil
	}
	mode := "Lightning"
	if layout != "lightning" {
		mode = "Classic"
	}
	cfg, err := s.ctiConfig(r, c, mode, layout)
	if err != nil {
		return nil, err
	}
	p.CTI = cfg
	return p, nil
}

// ctiConfig is the softphone frame of a call center in one kind of page.
func (s *Server) ctiConfig(r *http.Request, c *CallCenter, mode, layout string) (*ctiConfig, error) {
	def := c.Definition
	adapter, err := url.Parse(def.AdapterURL())
	if err != nil {
		return nil, fmt.Errorf("call center %s adapter URL: %w", c.InternalName, err)
	}
	atoi := func(item string, d int) int {
		if n, err := strconv.Atoi(def.Value(callcenter.SectionGeneral, item)); err == nil {
			return n
		}
		return d
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	return &ctiConfig{
		Mode:          mode,
		AdapterURL:    def.AdapterURL(),
		AdapterOrigin: adapter.Scheme + "://" + adapter.Host,
		StandbyURL:    def.Value(callcenter.SectionGeneral, callcenter.ItemStandbyURL),
		TimeoutMS:     atoi(callcenter.ItemTimeout, 0),
		Width:         atoi(callcenter.ItemSoftphoneWidth, callcenter.SoftphoneWidth),
		Height:        atoi(callcenter.ItemSoftphoneHeight, callcenter.SoftphoneHeight),
		Label:         utilityLabel,
		CallCenter:    c.InternalName,
		Settings:      def.Settings(),
		Origin:        s.origin(r),
		Nonce:         hex.EncodeToString(nonce),
		AppID:         lightningAppID,
		Layout:        layout,
	}, nil
}

// handleConsole is the Classic Service Console: the softphone on the left,
// records in workspace tabs.
func (s *Server) handleConsole(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	v, status, err := s.homeView(r, u, db, false)
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	v.URL = "/lightning/page/home"
	p, err := s.newPage(r, u, db, "console", v)
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	s.renderTemplate(w, status, "console", p)
}

// handleClassicRecord is a plain Classic record page, /{Id}: every link
// loads a whole new page, softphone included, as in Classic.
func (s *Server) handleClassicRecord(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	id := r.PathValue("id")
	var v *view
	var status int
	var err error
	switch strings.ToLower(id) {
	case "home", "home.jsp":
		v, status, err = s.homeView(r, u, db, true)
	default:
		o := objectByPrefix(id)
		if o == nil || o.readOnly || o.name == objTask {
			http.NotFound(w, r)
			return
		}
		v, status, err = s.record(r.Context(), db, o, id, true)
	}
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	v.URL = r.URL.RequestURI()
	p, err := s.newPage(r, u, db, "classic", v)
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	s.renderTemplate(w, status, "classic", p)
}

// pageObject resolves the {object} path segment of a record page.
func pageObject(r *http.Request) *object {
	name := r.PathValue("object")
	for _, n := range pageObjects {
		if strings.EqualFold(n, name) {
			return objectByName(n)
		}
	}
	return nil
}

func noticeView(title, notice string) *view {
	return &view{Kind: "notice", Title: title, Notice: notice}
}

func (s *Server) homeView(r *http.Request, u *uiUser, db *sql.DB, classic bool) (*view, int, error) {
	v := &view{Kind: "home", Title: "Home", Classic: classic}
	for _, name := range pageObjects {
		rows, err := listRows(r.Context(), db, objectByName(name), 8)
		if err != nil {
			return nil, 0, err
		}
		v.Lists = append(v.Lists, relatedList{Title: "Recent " + name + "s", Object: name, Rows: rows})
	}
	return v, http.StatusOK, nil
}

func (s *Server) listView(r *http.Request, u *uiUser, db *sql.DB, classic bool) (*view, int, error) {
	o := pageObject(r)
	if o == nil {
		return noticeView("Not found", "devcrm has record pages for Contacts, Leads and Accounts."), http.StatusNotFound, nil
	}
	rows, err := listRows(r.Context(), db, o, 200)
	if err != nil {
		return nil, 0, err
	}
	v := &view{Kind: "list", Title: o.label + "s", ObjectType: o.name, Classic: classic,
		Lists: []relatedList{{Title: "All " + o.label + "s", Object: o.name, Rows: rows}}}
	return v, http.StatusOK, nil
}

func (s *Server) recordView(r *http.Request, u *uiUser, db *sql.DB, classic bool) (*view, int, error) {
	o := pageObject(r)
	if o == nil {
		return noticeView("Not found", "devcrm has record pages for Contacts, Leads and Accounts."), http.StatusNotFound, nil
	}
	return s.record(r.Context(), db, o, r.PathValue("id"), classic)
}

// record builds a record page: its fields, an Account's Contacts, and the
// record's Tasks, newest first.
func (s *Server) record(ctx context.Context, db *sql.DB, o *object, rawID string, classic bool) (*view, int, error) {
	id, err := ParseID(rawID)
	if err != nil || !strings.HasPrefix(id, o.prefix) {
		return noticeView("Not found", "There is no "+o.label+" with that Id."), http.StatusNotFound, nil
	}
	rec, err := getRecord(ctx, db, o, id)
	if err != nil {
		return nil, 0, err
	}
	if rec == nil {
		return noticeView("Record not found", "The record you're looking for has been deleted, or it never existed."), http.StatusNotFound, nil
	}
	name := text(rec["Name"])
	v := &view{Kind: "record", Title: name, RecordID: id, RecordName: name, ObjectType: o.name, Classic: classic}
	for _, f := range o.fields {
		if f.name == "Id" || f.name == "Name" && f.computed || f.name == "OwnerId" {
			continue
		}
		fv := fieldView{Label: f.label, Value: text(rec[f.name]), Phone: f.typ == typePhone}
		if f.typ == typeReference && fv.Value != "" {
			if target := objectByPrefix(fv.Value); target != nil {
				if parent, err := getRecord(ctx, db, target, fv.Value); err == nil && parent != nil {
					fv.Link = v.Link(target.name, fv.Value)
					fv.Value = text(parent["Name"])
				}
			}
		}
		if f.typ == typeDateTime {
			fv.Value = displayTime(fv.Value)
		}
		v.Fields = append(v.Fields, fv)
	}
	if o.name == objAccount {
		rows, err := recordRows(ctx, db, objectByName(objContact), `"AccountId" = ?`, id)
		if err != nil {
			return nil, 0, err
		}
		v.Related = append(v.Related, relatedList{Title: "Contacts", Object: objContact, Rows: rows})
	}
	if v.Tasks, err = recordTasks(ctx, db, o, id); err != nil {
		return nil, 0, err
	}
	return v, http.StatusOK, nil
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v)
}

func displayTime(v string) string {
	if t, ok := parseDateTime(v); ok {
		return t.UTC().Format("2006-01-02 15:04 UTC")
	}
	return v
}

func listRows(ctx context.Context, db *sql.DB, o *object, limit int) ([]rowView, error) {
	return recordRows(ctx, db, o, "1 = 1 ORDER BY "+quote("Name")+" LIMIT "+strconv.Itoa(limit))
}

// recordRows loads rows of o matching an SQL condition written here (never
// from a request) with its arguments.
func recordRows(ctx context.Context, db *sql.DB, o *object, where string, args ...any) ([]rowView, error) {
	rows, err := db.QueryContext(ctx, "SELECT "+o.selectList()+" FROM "+quote(o.name)+" WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", o.name, err)
	}
	recs, err := scanRecords(o, rows)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", o.name, err)
	}
	out := make([]rowView, 0, len(recs))
	for _, rec := range recs {
		out = append(out, toRow(o, rec))
	}
	return out, nil
}

func toRow(o *object, rec record) rowView {
	row := rowView{ID: text(rec["Id"]), Name: text(rec["Name"]), Object: o.name}
	if o.field("Phone") != nil {
		row.Phone = text(rec["Phone"])
	}
	if o.field("Email") != nil {
		row.Email = text(rec["Email"])
	}
	return row
}

// recordTasks are the Tasks of a record, newest first: by WhoId for
// people, by WhatId or the derived AccountId for an Account.
func recordTasks(ctx context.Context, db *sql.DB, o *object, id string) ([]taskView, error) {
	tasks := objectByName(objTask)
	cond := `"WhoId" = ?1`
	if o.name == objAccount {
		cond = `"WhatId" = ?1 OR "AccountId" = ?1`
	}
	rows, err := db.QueryContext(ctx, "SELECT "+tasks.selectList()+` FROM "Task" WHERE `+cond+` ORDER BY "CreatedDate" DESC, rowid DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("list the tasks of %s: %w", id, err)
	}
	recs, err := scanRecords(tasks, rows)
	if err != nil {
		return nil, fmt.Errorf("list the tasks of %s: %w", id, err)
	}
	out := make([]taskView, 0, len(recs))
	for _, rec := range recs {
		t := taskView{ID: text(rec["Id"]), Subject: text(rec["Subject"]), CallType: text(rec["CallType"]), Disposition: text(rec["CallDisposition"]),
			Created: displayTime(text(rec["CreatedDate"])), Description: text(rec["Description"]), Status: text(rec["Status"])}
		if d, ok := rec["CallDurationInSeconds"].(int64); ok {
			t.Duration = (time.Duration(d) * time.Second).String()
		}
		out = append(out, t)
	}
	return out, nil
}

// formFields are the fields a new-record form shows.
func formFields(o *object) []*field {
	var out []*field
	for _, f := range o.storedFields() {
		if f.createable && f.name != "OwnerId" && f.typ != typeBool {
			out = append(out, f)
		}
	}
	return out
}

// ParseDefaultFieldValues reads Lightning's defaultFieldValues parameter:
// Field=value pairs separated by commas, each value URL-encoded
// ("LastName=Doe,Phone=%28201%29%20555-0123").
func ParseDefaultFieldValues(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, cc.Errorf(cc.EINVALID, "defaultFieldValues %q: write Field=value pairs separated by commas", s)
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return nil, cc.Errorf(cc.EINVALID, "defaultFieldValues: the value of %s is not URL-encoded correctly", k)
		}
		out[k] = dv
	}
	return out, nil
}

func (s *Server) newView(r *http.Request, u *uiUser, db *sql.DB, classic bool) (*view, int, error) {
	o := pageObject(r)
	if o == nil {
		return noticeView("Not found", "devcrm creates Contacts, Leads and Accounts here."), http.StatusNotFound, nil
	}
	defaults, err := ParseDefaultFieldValues(r.URL.Query().Get("defaultFieldValues"))
	if err != nil {
		return noticeView("New "+o.label, cc.ErrorMessage(err)), http.StatusBadRequest, nil
	}
	v := &view{Kind: "new", Title: "New " + o.label, ObjectType: o.name}
	var unknown []string
	for k := range defaults {
		if f := o.field(k); f == nil || !f.createable {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		v.Error = fmt.Sprintf("defaultFieldValues names fields %s has not: %s", o.label, strings.Join(unknown, ", "))
	}
	for _, f := range formFields(o) {
		val := ""
		for k, dv := range defaults {
			if strings.EqualFold(k, f.name) {
				val = dv
			}
		}
		v.Form = append(v.Form, formField{Name: f.name, Label: f.label, Value: val, Required: f.required, Long: f.typ == typeTextArea})
	}
	return v, http.StatusOK, nil
}

// handleNewRecord creates a record from the new-record form, through the
// same code as REST, and shows it.
func (s *Server) handleNewRecord(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	o := pageObject(r)
	if o == nil {
		http.NotFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return
	}
	rec := record{}
	var problems []string
	v := &view{Kind: "new", Title: "New " + o.label, ObjectType: o.name}
	for _, f := range formFields(o) {
		raw := strings.TrimSpace(r.PostForm.Get(f.name))
		v.Form = append(v.Form, formField{Name: f.name, Label: f.label, Value: raw, Required: f.required, Long: f.typ == typeTextArea})
		val, apiErr := textValue(f, raw)
		if apiErr == nil && val != nil {
			val, apiErr = normalizeValue(f, val, s.cfg.DescriptionCapBytes)
		}
		if apiErr != nil {
			problems = append(problems, apiErr.Message)
			continue
		}
		if val != nil {
			rec[f.name] = val
		}
	}
	var id string
	if len(problems) == 0 {
		var err error
		id, err = s.createRecord(r.Context(), db, o, rec, u.ID)
		var ae *apiError
		var list errList
		switch {
		case errors.As(err, &list):
			for _, e := range list {
				problems = append(problems, e.Message)
			}
		case errors.As(err, &ae):
			problems = append(problems, ae.Message)
		case err != nil:
			s.writePageError(w, r, err)
			return
		}
	}
	if len(problems) > 0 {
		v.Error = "Review the errors on this page. " + strings.Join(problems, " ")
		v.URL = r.URL.Path
		if r.Header.Get(partialHeader) != "" {
			s.renderTemplate(w, http.StatusBadRequest, "view", v)
			return
		}
		p, err := s.newPage(r, u, db, "lightning", v)
		if err != nil {
			s.writePageError(w, r, err)
			return
		}
		s.renderTemplate(w, http.StatusBadRequest, "lightning", p)
		return
	}
	http.Redirect(w, r, "/lightning/r/"+o.name+"/"+id+"/view", http.StatusSeeOther)
}

func (s *Server) searchView(r *http.Request, u *uiUser, db *sql.DB, classic bool) (*view, int, error) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v := &view{Kind: "search", Title: "Search Results", Query: q, Classic: classic}
	if len([]rune(q)) < 2 {
		v.Notice = "Enter at least 2 characters to search."
		return v, http.StatusOK, nil
	}
	hits, err := searchRecords(r.Context(), db, q)
	if err != nil {
		return nil, 0, err
	}
	for _, name := range pageObjects {
		list := relatedList{Title: name + "s", Object: name}
		for _, h := range hits {
			if h.Object == name {
				list.Rows = append(list.Rows, h)
			}
		}
		v.Lists = append(v.Lists, list)
	}
	if len(hits) == 0 {
		v.Notice = "No results for \"" + q + "\" in Contacts, Leads or Accounts."
	}
	return v, http.StatusOK, nil
}

// searchRecords finds Contacts, Leads and Accounts whose name (whole
// words), e-mail or phone digits match q, with SOSL's matching rules.
func searchRecords(ctx context.Context, db *sql.DB, q string) ([]rowView, error) {
	node := &searchNode{op: "term", term: plainTerm(q)}
	var out []rowView
	for _, name := range pageObjects {
		o := objectByName(name)
		rows, err := db.QueryContext(ctx, "SELECT "+o.selectList()+" FROM "+quote(o.name)+" ORDER BY rowid")
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", o.name, err)
		}
		recs, err := scanRecords(o, rows)
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", o.name, err)
		}
		for _, rec := range recs {
			if node.matches(o, rec, "ALL") {
				out = append(out, toRow(o, rec))
			}
		}
	}
	return out, nil
}

package devcrm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/parley-cc/parley/internal/callcenter"
	"github.com/parley-cc/parley/internal/cc"
)

// setupPage is what the Setup templates render.
type setupPage struct {
	Title       string
	User        *uiUser
	CallCenters []CallCenter
	Imported    string
	Errors      []string
	Center      *CallCenter
	Members     []userRow
	Candidates  []userRow
	Filter      string
	Searched    bool
	Message     string
}

type userRow struct {
	ID, Name, Username, CallCenter string
}

func (s *Server) renderSetup(w http.ResponseWriter, status int, name string, p *setupPage) {
	w.Header().Set("X-Frame-Options", "DENY")
	s.renderTemplate(w, status, name, p)
}

func (s *Server) handleCallCenters(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	s.showCallCenters(w, r, u, http.StatusOK, &setupPage{Imported: r.URL.Query().Get("imported")})
}

func (s *Server) showCallCenters(w http.ResponseWriter, r *http.Request, u *uiUser, status int, p *setupPage) {
	list, err := s.CallCenters(r.Context())
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	p.Title, p.User, p.CallCenters = "Call Centers", u, list
	s.renderSetup(w, status, "callcenters", p)
}

// handleImportCallCenter imports an uploaded definition file (the form's
// "file" part) and lists Parse's problems, each with its line.
func (s *Server) handleImportCallCenter(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	r.Body = http.MaxBytesReader(w, r.Body, 2<<20)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		s.showCallCenters(w, r, u, http.StatusBadRequest, &setupPage{Errors: []string{"Choose a call center definition file (XML) to import."}})
		return
	}
	defer file.Close()
	c, err := s.ImportCallCenter(r.Context(), file)
	if err != nil {
		var problems callcenter.Problems
		switch {
		case errors.As(err, &problems):
			msgs := make([]string, len(problems))
			for i, p := range problems {
				msgs[i] = hdr.Filename + " " + p.String()
			}
			s.showCallCenters(w, r, u, http.StatusBadRequest, &setupPage{Errors: msgs})
		case cc.ErrorCode(err) != cc.EINTERNAL:
			s.showCallCenters(w, r, u, http.StatusBadRequest, &setupPage{Errors: []string{cc.ErrorMessage(err)}})
		default:
			s.writePageError(w, r, err)
		}
		return
	}
	http.Redirect(w, r, "/setup/callcenters?imported="+url.QueryEscape(c.InternalName), http.StatusSeeOther)
}

// handleCallCenterUsers is "Manage Call Center Users": the members, and a
// filter (name or username) to find users to add.
func (s *Server) handleCallCenterUsers(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	s.showCallCenterUsers(w, r, u, db, http.StatusOK, r.URL.Query().Get("message"))
}

func (s *Server) showCallCenterUsers(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB, status int, message string) {
	c, err := callCenterByName(r.Context(), db, r.PathValue("name"))
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	p := &setupPage{Title: "Manage Call Center Users", User: u, Center: c, Message: message}
	p.Filter = strings.TrimSpace(r.URL.Query().Get("q"))
	_, p.Searched = r.URL.Query()["q"]
	rows, err := db.QueryContext(r.Context(), `SELECT u."Id", u."Name", u."Username", coalesce(m.internal_name, '') FROM "User" u
		LEFT JOIN call_center_user m ON m.user_id = u."Id" WHERE u."IsActive" = 1 ORDER BY u."Name"`)
	if err != nil {
		s.writePageError(w, r, fmt.Errorf("list users: %w", err))
		return
	}
	defer rows.Close()
	filter := strings.ToLower(p.Filter)
	for rows.Next() {
		var row userRow
		if err := rows.Scan(&row.ID, &row.Name, &row.Username, &row.CallCenter); err != nil {
			s.writePageError(w, r, fmt.Errorf("list users: %w", err))
			return
		}
		switch {
		case strings.EqualFold(row.CallCenter, c.InternalName):
			p.Members = append(p.Members, row)
		case p.Searched && (filter == "" || strings.Contains(strings.ToLower(row.Name), filter) || strings.Contains(strings.ToLower(row.Username), filter)):
			p.Candidates = append(p.Candidates, row)
		}
	}
	if err := rows.Err(); err != nil {
		s.writePageError(w, r, fmt.Errorf("list users: %w", err))
		return
	}
	s.renderSetup(w, status, "callcenterusers", p)
}

// handleChangeCallCenterUsers adds (action=add) or removes (action=remove)
// the checked users (user=<Id>, repeated).
func (s *Server) handleChangeCallCenterUsers(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return
	}
	name := r.PathValue("name")
	ids := r.PostForm["user"]
	action := r.PostForm.Get("action")
	if action != "add" && action != "remove" {
		http.Error(w, "action must be add or remove", http.StatusBadRequest)
		return
	}
	if len(ids) == 0 {
		s.showCallCenterUsers(w, r, u, db, http.StatusBadRequest, "Select at least one user.")
		return
	}
	for i, id := range ids {
		canon, err := ParseID(id)
		if err != nil {
			s.showCallCenterUsers(w, r, u, db, http.StatusBadRequest, "No such user: "+id)
			return
		}
		ids[i] = canon
	}
	if err := s.changeCallCenterUserIDs(r.Context(), db, name, ids, action == "add"); err != nil {
		if cc.ErrorCode(err) != cc.EINTERNAL {
			s.showCallCenterUsers(w, r, u, db, http.StatusBadRequest, cc.ErrorMessage(err))
			return
		}
		s.writePageError(w, r, err)
		return
	}
	verb := "added to"
	if action == "remove" {
		verb = "removed from"
	}
	msg := fmt.Sprintf("%d user(s) %s the call center.", len(ids), verb)
	http.Redirect(w, r, "/setup/callcenters/"+url.PathEscape(name)+"/users?message="+url.QueryEscape(msg), http.StatusSeeOther)
}

// apiHandler is a call of host.js to devcrm.
type apiHandler func(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB)

// hostAPI runs h for host.js: a signed-in session and the apiHeader a
// cross-site page cannot send.
func (s *Server) hostAPI(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		db, err := s.database()
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, hostError("UNAVAILABLE", "devcrm is not started"))
			return
		}
		if r.Header.Get(apiHeader) == "" || !s.sameOrigin(r) {
			writeJSON(w, http.StatusForbidden, hostError("FORBIDDEN", "devcrm's host API answers its own pages only"))
			return
		}
		u, err := s.sessionUser(r.Context(), db, r)
		if err != nil {
			s.log.Error("devcrm host API", "err", err)
			writeJSON(w, http.StatusInternalServerError, hostError("INTERNAL", "devcrm failed; see its log"))
			return
		}
		if u == nil {
			writeJSON(w, http.StatusUnauthorized, hostError("INVALID_SESSION", "your devcrm session ended: sign in again"))
			return
		}
		h(w, r, u, db)
	}
}

// hostErrors is Open CTI's errors array: [{code, description}].
type hostErrors struct {
	Errors []hostErrorItem `json:"errors"`
}

type hostErrorItem struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

func hostError(code, description string) hostErrors {
	return hostErrors{Errors: []hostErrorItem{{code, description}}}
}

// searchHit is one record of searchAndScreenPop's result.
type searchHit struct {
	ID         string `json:"Id"`
	Name       string `json:"Name"`
	RecordType string `json:"RecordType"`
	Phone      string `json:"Phone,omitempty"`
	Email      string `json:"Email,omitempty"`
}

// handleAPISearch answers host.js's searchAndScreenPop: the matching
// Contacts, Leads and Accounts (the objects of devcrm's softphone layout).
func (s *Server) handleAPISearch(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len([]rune(q)) < 3 {
		writeJSON(w, http.StatusBadRequest, hostError("INVALID_PARAMETER", "searchParams must have at least 3 characters"))
		return
	}
	rows, err := searchRecords(r.Context(), db, q)
	if err != nil {
		s.log.Error("devcrm host search", "err", err)
		writeJSON(w, http.StatusInternalServerError, hostError("INTERNAL", "the search failed; see devcrm's log"))
		return
	}
	out := make([]searchHit, 0, len(rows))
	for _, row := range rows {
		out = append(out, searchHit{ID: row.ID, Name: row.Name, RecordType: row.Object, Phone: row.Phone, Email: row.Email})
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": out})
}

// handleAPIApex answers host.js's runApex: {"apexClass", "methodName"}
// runs one of devcrm's Apex methods as the user of the request's session,
// as Salesforce runs Apex as the session's user (a page loaded before
// another user signed in to the same browser gets the new user). devcrm has
// one class, the one Parley ships (docs/salesforce/ParleyUser.cls):
// ParleyUser.userName() returns UserInfo.getUserName().
func (s *Server) handleAPIApex(w http.ResponseWriter, r *http.Request, u *uiUser, _ *sql.DB) {
	var body struct {
		Class  string `json:"apexClass"`
		Method string `json:"methodName"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, hostError("INVALID_PARAMETER", "runApex needs apexClass and methodName"))
		return
	}
	if body.Class != "ParleyUser" || body.Method != "userName" {
		writeJSON(w, http.StatusBadRequest, hostError("APEX_ERROR",
			fmt.Sprintf("runApex: devcrm has no Apex method %s.%s (its only class is ParleyUser, with userName)", body.Class, body.Method)))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"result": u.Username})
}

// handleAPISaveLog answers host.js's saveLog: {"value": {...}} creates a
// record of value.entityApiName, or updates value.Id, with the other keys as
// field API names, through REST's code (the same checks and errors).
func (s *Server) handleAPISaveLog(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	var body struct {
		Value map[string]json.RawMessage `json:"value"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&body); err != nil || body.Value == nil {
		writeJSON(w, http.StatusBadRequest, hostError("INVALID_PARAMETER", "saveLog needs value: an object of field API names and values"))
		return
	}
	var entity, id string
	var fields []bodyField
	for k, raw := range body.Value {
		switch strings.ToLower(k) {
		case "entityapiname":
			json.Unmarshal(raw, &entity)
		case "id":
			json.Unmarshal(raw, &id)
		case "recordtypeid":
			// devcrm has no record types.
		default:
			fields = append(fields, bodyField{name: k, raw: raw})
		}
	}
	var o *object
	creating := id == ""
	if creating {
		o = objectByName(entity)
		if o == nil || o.readOnly {
			writeJSON(w, http.StatusBadRequest, hostError("INVALID_TYPE", fmt.Sprintf("saveLog: entityApiName %q is not an object devcrm can create (Task, Contact, Lead, Account)", entity)))
			return
		}
	} else {
		canon, err := ParseID(id)
		if err == nil {
			o = objectByPrefix(canon)
			id = canon
		}
		if o == nil || o.readOnly {
			writeJSON(w, http.StatusBadRequest, hostError("MALFORMED_ID", fmt.Sprintf("saveLog: Id %q is not the Id of a record devcrm can update", id)))
			return
		}
	}
	rec, errs := s.fieldsFromBody(o, fields, creating)
	if len(errs) > 0 {
		writeJSON(w, http.StatusBadRequest, apiErrorsToHost(errs))
		return
	}
	var err error
	if creating {
		id, err = s.createRecord(r.Context(), db, o, rec, u.ID)
	} else {
		err = s.updateRecordFields(r.Context(), db, o, id, rec)
	}
	if err != nil {
		var list errList
		var ae *apiError
		switch {
		case errors.As(err, &list):
			writeJSON(w, http.StatusBadRequest, apiErrorsToHost(list))
		case errors.As(err, &ae):
			writeJSON(w, http.StatusBadRequest, apiErrorsToHost([]*apiError{ae}))
		default:
			s.log.Error("devcrm saveLog", "err", err)
			writeJSON(w, http.StatusInternalServerError, hostError("INTERNAL", "saveLog failed; see devcrm's log"))
		}
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

func apiErrorsToHost(errs []*apiError) hostErrors {
	out := hostErrors{}
	for _, e := range errs {
		out.Errors = append(out.Errors, hostErrorItem{Code: e.Code, Description: e.Message})
	}
	return out
}

// appsPage is what the App Manager renders.
type appsPage struct {
	Title   string
	User    *uiUser
	Issuer  string
	Apps    []AppInfo
	Created *App
	Errors  []string
	Form    appForm
}

type appForm struct {
	Name, URLs          string
	RequirePKCE, Public bool
}

// AppInfo is a connected app as listed, without credentials.
type AppInfo struct {
	ClientID, Name string
	CallbackURLs   []string
	// Public apps have no secret; they always need PKCE.
	Public bool
	// RequirePKCE is true for apps that require PKCE, public ones included.
	RequirePKCE bool
	// JWTBearer tells whether the app has a key for the JWT bearer grant.
	JWTBearer bool
}

// ConnectedApps lists the connected apps by name.
func (s *Server) ConnectedApps(ctx context.Context) ([]AppInfo, error) {
	db, err := s.database()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT `+appColumns+` FROM connected_app ORDER BY name, client_id`)
	if err != nil {
		return nil, fmt.Errorf("list connected apps: %w", err)
	}
	defer rows.Close()
	var out []AppInfo
	for rows.Next() {
		a, err := scanApp(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("list connected apps: %w", err)
		}
		public := a.secretHash == ""
		out = append(out, AppInfo{ClientID: a.clientID, Name: a.displayName(), CallbackURLs: a.callbackURLs, Public: public,
			RequirePKCE: a.requirePKCE || public, JWTBearer: a.publicKey != ""})
	}
	return out, rows.Err()
}

func (s *Server) handleConnectedApps(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	s.showConnectedApps(w, r, u, http.StatusOK, &appsPage{Form: appForm{RequirePKCE: true}})
}

func (s *Server) showConnectedApps(w http.ResponseWriter, r *http.Request, u *uiUser, status int, p *appsPage) {
	apps, err := s.ConnectedApps(r.Context())
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	p.Title, p.User, p.Apps, p.Issuer = "App Manager", u, apps, s.Issuer()
	w.Header().Set("X-Frame-Options", "DENY")
	s.renderTemplate(w, status, "connectedapps", p)
}

// handleCreateConnectedApp creates an app from the App Manager's form and
// shows its consumer key and secret once.
func (s *Server) handleCreateConnectedApp(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.showConnectedApps(w, r, u, http.StatusBadRequest, &appsPage{Errors: []string{"The form could not be read; try again."}})
		return
	}
	f := appForm{Name: strings.TrimSpace(r.PostForm.Get("name")), URLs: r.PostForm.Get("callback_urls"),
		RequirePKCE: r.PostForm.Get("require_pkce") != "", Public: r.PostForm.Get("public") != ""}
	var problems []string
	if f.Name == "" {
		problems = append(problems, "Give the app a name: users see it on the consent page.")
	}
	urls := strings.Fields(f.URLs)
	if len(urls) == 0 {
		problems = append(problems, "Give at least one callback URL, such as https://parley.example.com/sso/callback.")
	}
	if len(problems) > 0 {
		s.showConnectedApps(w, r, u, http.StatusBadRequest, &appsPage{Errors: problems, Form: f})
		return
	}
	app, err := s.CreateApp(r.Context(), App{Name: f.Name, CallbackURLs: urls, RequirePKCE: f.RequirePKCE, Public: f.Public})
	if err != nil {
		if cc.ErrorCode(err) == cc.EINTERNAL {
			s.writePageError(w, r, err)
			return
		}
		s.showConnectedApps(w, r, u, http.StatusBadRequest, &appsPage{Errors: []string{cc.ErrorMessage(err)}, Form: f})
		return
	}
	s.showConnectedApps(w, r, u, http.StatusOK, &appsPage{Created: &app, Form: appForm{RequirePKCE: true}})
}

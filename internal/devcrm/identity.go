package devcrm

import (
	"net/http"
	"regexp"
)

// identity is Salesforce's identity service answer (GET on the identity
// URL, the token response's id).
type identity struct {
	ID               string            `json:"id"`
	AssertedUser     bool              `json:"asserted_user"`
	UserID           string            `json:"user_id"`
	OrganizationID   string            `json:"organization_id"`
	Username         string            `json:"username"`
	NickName         string            `json:"nick_name"`
	DisplayName      string            `json:"display_name"`
	Email            string            `json:"email"`
	EmailVerified    bool              `json:"email_verified"`
	FirstName        string            `json:"first_name"`
	LastName         string            `json:"last_name"`
	Active           bool              `json:"active"`
	UserType         string            `json:"user_type"`
	Language         string            `json:"language"`
	Locale           string            `json:"locale"`
	UTCOffset        int               `json:"utcOffset"`
	LastModifiedDate string            `json:"last_modified_date"`
	IsAppInstalled   bool              `json:"is_app_installed"`
	URLs             map[string]string `json:"urls"`
}

var versionParam = regexp.MustCompile(`^[0-9]{2,3}\.0$`)

// handleIdentity answers GET {issuer}/id/{orgId}/{userId} for a bearer
// token of the org: any user of the org may be looked up, as in Salesforce.
// The urls hold {version} unless ?version=NN.0 is given.
func (s *Server) handleIdentity(w http.ResponseWriter, r *http.Request) {
	db, err := s.database()
	if err != nil {
		writeErrors(w, newAPIError(http.StatusServiceUnavailable, codeServerUnavailable, "devcrm is not started"))
		return
	}
	if _, err := s.authenticate(r.Context(), db, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	org, err := ParseID(r.PathValue("org"))
	if err != nil || org != s.OrgID() {
		writeErrors(w, newAPIError(http.StatusForbidden, "Bad_Id", "the identity URL names another org: use "+s.Issuer()+"/id/"+s.OrgID()+"/{userId}"))
		return
	}
	userID, err := ParseID(r.PathValue("user"))
	var u record
	if err == nil {
		u, err = getRecord(r.Context(), db, objectByName(objUser), userID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if u == nil {
		writeErrors(w, newAPIError(http.StatusNotFound, "Bad_Id", "no user has Id "+r.PathValue("user")))
		return
	}
	version := "{version}"
	if v := r.URL.Query().Get("version"); versionParam.MatchString(v) {
		version = v
	}
	base, data := s.URL(), s.URL()+"/services/data/v"+version
	writeJSON(w, http.StatusOK, &identity{
		ID: s.identityURL(userID), AssertedUser: true, UserID: userID, OrganizationID: s.OrgID(),
		Username: text(u["Username"]), NickName: text(u["FirstName"]), DisplayName: text(u["Name"]), Email: text(u["Email"]),
		EmailVerified: true, FirstName: text(u["FirstName"]), LastName: text(u["LastName"]), Active: u["IsActive"] == true,
		UserType: "STANDARD", Language: "en_US", Locale: "en_US", LastModifiedDate: text(u["LastModifiedDate"]), IsAppInstalled: true,
		URLs: map[string]string{
			"rest":     data + "/",
			"sobjects": data + "/sobjects/",
			"search":   data + "/search/",
			"query":    data + "/query/",
			"profile":  base + "/" + userID,
		},
	})
}

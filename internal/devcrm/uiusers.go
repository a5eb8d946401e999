package devcrm

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/url"

	"github.com/parley-cc/parley/internal/cc"
)

// usersPage is Setup's Users page: every User with whether they can sign
// in to devcrm's pages, and a form per user to set that password.
type usersPage struct {
	Title   string
	User    *uiUser
	Users   []setupUser
	Message string
	Error   string
}

// setupUser is one row of the Users page.
type setupUser struct {
	ID, Name, Username, Email, CallCenter string
	Active, HasPassword, Administrator    bool
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	s.showUsers(w, r, u, db, http.StatusOK, &usersPage{Message: r.URL.Query().Get("message")})
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB, status int, p *usersPage) {
	rows, err := db.QueryContext(r.Context(), `SELECT u."Id", u."Name", u."Username", u."Email", u."IsActive",
		p.user_id IS NOT NULL, a.user_id IS NOT NULL, coalesce(c.display_name, '')
		FROM "User" u LEFT JOIN ui_password p ON p.user_id = u."Id" LEFT JOIN ui_admin a ON a.user_id = u."Id"
		LEFT JOIN call_center_user m ON m.user_id = u."Id" LEFT JOIN call_center c ON c.internal_name = m.internal_name
		ORDER BY u."Name", u."Username"`)
	if err != nil {
		s.writePageError(w, r, fmt.Errorf("list users: %w", err))
		return
	}
	defer rows.Close()
	for rows.Next() {
		var row setupUser
		if err := rows.Scan(&row.ID, &row.Name, &row.Username, &row.Email, &row.Active, &row.HasPassword, &row.Administrator, &row.CallCenter); err != nil {
			s.writePageError(w, r, fmt.Errorf("list users: %w", err))
			return
		}
		p.Users = append(p.Users, row)
	}
	if err := rows.Err(); err != nil {
		s.writePageError(w, r, fmt.Errorf("list users: %w", err))
		return
	}
	p.Title, p.User = "Users", u
	w.Header().Set("X-Frame-Options", "DENY")
	s.renderTemplate(w, status, "users", p)
}

// handleSetPassword sets the devcrm page password of the user in the path
// from the form's password field (the rules of internal/auth).
func (s *Server) handleSetPassword(w http.ResponseWriter, r *http.Request, u *uiUser, db *sql.DB) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.showUsers(w, r, u, db, http.StatusBadRequest, &usersPage{Error: "The form could not be read; try again."})
		return
	}
	id := r.PathValue("id")
	var username string
	err := db.QueryRowContext(r.Context(), `SELECT "Username" FROM "User" WHERE "Id" = ?`, id).Scan(&username)
	if err == sql.ErrNoRows {
		s.showUsers(w, r, u, db, http.StatusNotFound, &usersPage{Error: "There is no user " + id + ": reload the page."})
		return
	} else if err != nil {
		s.writePageError(w, r, fmt.Errorf("look up user %s: %w", id, err))
		return
	}
	if err := s.SetUserPassword(r.Context(), username, r.PostForm.Get("password")); err != nil {
		if cc.ErrorCode(err) == cc.EINTERNAL {
			s.writePageError(w, r, err)
			return
		}
		s.showUsers(w, r, u, db, http.StatusBadRequest, &usersPage{Error: "The password of " + username + " was not set: " + cc.ErrorMessage(err)})
		return
	}
	http.Redirect(w, r, "/setup/users?message="+url.QueryEscape("The password of "+username+" is set: they can sign in to devcrm with it."), http.StatusSeeOther)
}

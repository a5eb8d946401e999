package cc

import (
	"slices"
	"strings"
)

// CRMSalesforce is the name of the Salesforce CRM in integration entries.
const CRMSalesforce = "salesforce"

// MaxCRMUsernameLen is the longest CRM username Parley accepts, in bytes:
// Salesforce's limit for a username.
const MaxCRMUsernameLen = 80

// Integration is one of a user's third-party integration entries: the
// account the user signs in to a CRM with. Single sign-on from the CRM finds
// the Parley user by it (UserStore.UserByIntegration).
type Integration struct {
	CRM      string `json:"crm"`      // the CRM's name: "salesforce"
	Username string `json:"username"` // the CRM login, as NormalizeCRMUsername returns it
}

// NormalizeCRMUsername returns the form CRM usernames are stored and
// compared in: without surrounding spaces and lowercased, as e-mail-style
// usernames compare case-insensitively. It does not validate: Validate does.
func NormalizeCRMUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Normalize canonicalises the CRM name and the username.
func (i *Integration) Normalize() {
	i.CRM = strings.ToLower(strings.TrimSpace(i.CRM))
	i.Username = NormalizeCRMUsername(i.Username)
}

// Validate returns EINVALID saying what to fix: the CRM must be a known one
// and the username a login it accepts (for Salesforce an e-mail-style
// username of at most MaxCRMUsernameLen bytes). It expects a normalised
// entry.
func (i *Integration) Validate() error {
	if err := ValidateCRMName(i.CRM); err != nil {
		return err
	}
	return ValidateCRMUsername(i.CRM, i.Username)
}

// ValidateCRMName returns EINVALID unless crm names a CRM Parley maps users
// to (only "salesforce").
func ValidateCRMName(crm string) error {
	if crm != CRMSalesforce {
		return Errorf(EINVALID, "CRM %q: use %s", crm, CRMSalesforce)
	}
	return nil
}

// ValidateCRMUsername returns EINVALID unless username is a normalised login
// of the CRM: not empty, at most MaxCRMUsernameLen bytes, no spaces or
// control characters, and e-mail-style (name@domain.tld) as Salesforce
// usernames are.
func ValidateCRMUsername(crm, username string) error {
	switch {
	case username == "":
		return Errorf(EINVALID, "no %s username given: give the login the agent signs in to %s with, such as alice@acme.example", crm, crm)
	case len(username) > MaxCRMUsernameLen:
		return Errorf(EINVALID, "%s username %q is longer than %d bytes", crm, username, MaxCRMUsernameLen)
	case strings.ContainsFunc(username, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return Errorf(EINVALID, "%s username %q has spaces or control characters: give the login exactly as the agent types it", crm, username)
	case username != NormalizeCRMUsername(username):
		return Errorf(EINVALID, "%s username %q is not lowercase", crm, username)
	case !validEmailUsername(username) || strings.Count(username, "@") != 1:
		return Errorf(EINVALID, "%s username %q: give the login in e-mail form, such as alice@acme.example", crm, username)
	}
	return nil
}

// Integration returns the user's entry for the CRM, if any.
func (u *User) Integration(crm string) (Integration, bool) {
	i := slices.IndexFunc(u.Integrations, func(in Integration) bool { return in.CRM == crm })
	if i < 0 {
		return Integration{}, false
	}
	return u.Integrations[i], true
}

// SetIntegration sets the user's username for the CRM, replacing the entry
// it had; an empty username removes the entry. The result is normalised but
// not validated (Validate does).
func (u *User) SetIntegration(crm, username string) {
	in := Integration{CRM: crm, Username: username}
	in.Normalize()
	u.Integrations = slices.DeleteFunc(slices.Clone(u.Integrations), func(x Integration) bool { return x.CRM == in.CRM })
	if in.Username != "" {
		u.Integrations = append(u.Integrations, in)
	}
	sortIntegrations(u.Integrations)
}

func sortIntegrations(ins []Integration) {
	slices.SortFunc(ins, func(a, b Integration) int {
		if c := strings.Compare(a.CRM, b.CRM); c != 0 {
			return c
		}
		return strings.Compare(a.Username, b.Username)
	})
}

// validateIntegrations checks each entry and that the user has at most one
// username per CRM.
func (u *User) validateIntegrations() error {
	seen := map[string]string{}
	for _, in := range u.Integrations {
		if err := in.Validate(); err != nil {
			return Errorf(EINVALID, "user %s: %s", u.Username, ErrorMessage(err))
		}
		if prev, ok := seen[in.CRM]; ok {
			return Errorf(EINVALID, "user %s has two %s usernames (%s and %s): keep one", u.Username, in.CRM, prev, in.Username)
		}
		seen[in.CRM] = in.Username
	}
	return nil
}

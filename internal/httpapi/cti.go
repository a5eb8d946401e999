package httpapi

import (
	"net/http"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

// domainCheckView is the answer of GET /api/v1/cti/domain-check.
type domainCheckView struct {
	// Domain is the domain checked, trimmed (in the table's form when ok).
	Domain string `json:"domain"`
	// Tenant is the slug of the tenant it was checked for.
	Tenant string `json:"tenant"`
	// OK is whether Domain is the tenant's contact center domain.
	OK bool `json:"ok"`
	// Message, when not ok, says what is wrong and what to use.
	Message string `json:"message,omitempty"`
	// Expected is the tenant's contact center domain, when its cluster is
	// known.
	Expected string `json:"expected,omitempty"`
}

// domainCheck checks a contact center domain (the panel's Settings >
// Advanced field) against the signed-in user's tenant with the same rules
// as parley admin cti-url check (ctiurl.Clusters.CheckDomain). A domain that
// does not match is a 200 answer with ok false and the message: the check
// worked; only a missing or oversized parameter is a 400.
func (s *Server) domainCheck(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	q := r.URL.Query()
	if _, ok := q["domain"]; !ok {
		return cc.Errorf(cc.EINVALID, "give the domain to check: ?domain=https://...")
	}
	domain := strings.TrimSpace(q.Get("domain"))
	if len(domain) > 2048 {
		return cc.Errorf(cc.EINVALID, "the domain is %d bytes long: a contact center domain is a short https URL", len(domain))
	}
	v := domainCheckView{Domain: domain, Tenant: p.Tenant.Slug}
	if want, err := s.clusters.Domain(p.Tenant.Cluster, p.Tenant.Kind); err == nil {
		v.Expected = want
	}
	if err := s.clusters.CheckDomain(domain, p.Tenant); err != nil {
		if cc.ErrorCode(err) != cc.EINVALID {
			return err
		}
		v.Message = cc.ErrorMessage(err)
	} else {
		v.OK, v.Domain = true, v.Expected
	}
	s.writeJSON(w, r, http.StatusOK, v)
	return nil
}

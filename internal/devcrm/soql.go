package devcrm

import (
	"net/http"
	"strings"
)

// soqlQuery is a parsed SOQL statement of the subset devcrm serves:
//
//	SELECT COUNT() | field {, field} FROM object
//	  [WHERE field (= | != | <>) literal {AND ...}]
//	  [ORDER BY field [ASC | DESC] {, ...}] [LIMIT n]
//
// A field may be one parent relationship deep (Account.Name). Literals are
// 'quoted strings' (with \' \" \\ \n \r \t \b \f escapes), numbers, true,
// false, null, dates (2026-12-03) and datetimes (2026-12-03T17:00:00Z).
type soqlQuery struct {
	count bool
	clause
}

// parseSOQL parses a statement. Its errors are MALFORMED_QUERY.
func parseSOQL(src string) (*soqlQuery, *queryError) {
	toks, err := lex(src, 0)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	q := &soqlQuery{}
	if isKeyword(p.peek(), "COUNT") && p.toks[p.i+1].kind == tokPunct && p.toks[p.i+1].text == "(" {
		p.i += 2
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		q.count = true
	} else {
		fields, err := p.parseFieldList()
		if err != nil {
			return nil, err
		}
		q.fields = fields
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	obj, err := p.ident()
	if err != nil {
		return nil, err
	}
	if strings.Contains(obj.text, ".") {
		return nil, unexpected(obj)
	}
	q.object = obj
	if err := p.parseTail(&q.clause); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, unexpected(t)
	}
	return q, nil
}

// handleQuery answers GET /query?q=SOQL.
func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, c *call) {
	src := r.URL.Query().Get("q")
	if strings.TrimSpace(src) == "" {
		writeErrors(w, badRequest(codeMalformedQuery, "A query string has to be specified"))
		return
	}
	q, qerr := parseSOQL(src)
	if qerr != nil {
		writeErrors(w, qerr.apiError(src, codeMalformedQuery))
		return
	}
	sel, qerr := bindClause(&q.clause, q.count)
	if qerr != nil {
		writeErrors(w, qerr.apiError(src, codeMalformedQuery))
		return
	}
	recs, err := selectRecords(r.Context(), c.db, sel, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []*jsonRecord{}
	if !q.count {
		if out, err = project(r.Context(), c.db, sel, recs, c.version); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, queryResult{TotalSize: len(recs), Done: true, Records: out})
}

// queryResult is the response of /query. devcrm returns every row at once,
// so done is always true and there is no nextRecordsUrl.
type queryResult struct {
	TotalSize int           `json:"totalSize"`
	Done      bool          `json:"done"`
	Records   []*jsonRecord `json:"records"`
}

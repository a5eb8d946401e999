package devcrm

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// soslQuery is a parsed SOSL statement of the subset devcrm serves:
//
//	FIND {search expression} [IN ALL|NAME|EMAIL|PHONE|SIDEBAR FIELDS]
//	  [RETURNING object [(field {, field} [WHERE ...] [ORDER BY ...] [LIMIT n])] {, ...}]
//	  [LIMIT n]
//
// The search expression is words and "quoted phrases" joined by OR, AND,
// AND NOT or nothing (AND), grouped with parentheses. * and ? are wildcards;
// the other reserved characters ? & | ! { } [ ] ( ) ^ ~ * : \ " ' + - must be
// escaped with a backslash to be searched for.
type soslQuery struct {
	search    *searchNode
	group     string // ALL, NAME, EMAIL, PHONE or SIDEBAR
	returning []clause
	limit     int // -1 when absent
}

// maxSearchRows bounds a search's results, as in Salesforce.
const maxSearchRows = 2000

// soslReserved are the characters a search term must escape.
const soslReserved = `?&|!{}[]()^~*:\"'+-`

// searchNode is a node of a search expression.
type searchNode struct {
	op   string // "term", "and", "or", "andnot"
	term []tchar
	kids []*searchNode
}

// tchar is a character of a search term; wild marks an unescaped * or ?.
type tchar struct {
	r    rune
	wild bool
}

// parseSOSL parses a statement. Its syntax errors are MALFORMED_SEARCH.
func parseSOSL(src string) (*soslQuery, *queryError) {
	i := skipSpace(src, 0)
	if len(src)-i < 4 || !strings.EqualFold(src[i:i+4], "FIND") {
		return nil, malformed(i, "unexpected token: '%s' (a search starts with FIND)", firstWord(src[i:]))
	}
	i = skipSpace(src, i+4)
	if i >= len(src) || src[i] != '{' {
		return nil, malformed(i, "No search term found. The search term must be enclosed in braces.")
	}
	ts := &termScanner{src: src, i: i + 1}
	node, err := ts.parseOr()
	if err != nil {
		return nil, err
	}
	if ts.i >= len(src) || src[ts.i] != '}' {
		return nil, ts.mismatch("'}'")
	}
	if node == nil {
		return nil, malformed(ts.i, "search term must be longer than one character")
	}
	toks, err := lex(src, ts.i+1)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	q := &soslQuery{search: node, group: "ALL", limit: -1}
	if p.acceptKeyword("IN") {
		t, err := p.ident()
		if err != nil {
			return nil, err
		}
		switch g := strings.ToUpper(t.text); g {
		case "ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR":
			q.group = g
		default:
			return nil, unexpected(t)
		}
		if err := p.expectKeyword("FIELDS"); err != nil {
			return nil, err
		}
	}
	if p.acceptKeyword("RETURNING") {
		for {
			obj, err := p.ident()
			if err != nil {
				return nil, err
			}
			c := clause{object: obj, limit: -1}
			if p.acceptPunct("(") {
				if c.fields, err = p.parseFieldList(); err != nil {
					return nil, err
				}
				if err := p.parseTail(&c); err != nil {
					return nil, err
				}
				if err := p.expectPunct(")"); err != nil {
					return nil, err
				}
			}
			q.returning = append(q.returning, c)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	if isKeyword(p.peek(), "LIMIT") {
		n, err := p.parseLimit()
		if err != nil {
			return nil, err
		}
		q.limit = n
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, unexpected(t)
	}
	return q, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
		i++
	}
	return i
}

func firstWord(s string) string {
	if s == "" {
		return "<EOF>"
	}
	if end := strings.IndexAny(s, " \t\r\n{"); end > 0 {
		return s[:end]
	}
	return s
}

// termScanner parses the search expression between the braces.
type termScanner struct {
	src string
	i   int
}

func (ts *termScanner) peekRune() (rune, int) {
	if ts.i >= len(ts.src) {
		return 0, 0
	}
	return utf8.DecodeRuneInString(ts.src[ts.i:])
}

func (ts *termScanner) mismatch(expecting string) *queryError {
	r, _ := ts.peekRune()
	found := "<EOF>"
	if ts.i < len(ts.src) {
		found = string(r)
	}
	return &queryError{pos: ts.i, msg: "mismatched character '" + found + "' expecting " + expecting, antlr: true}
}

func (ts *termScanner) skipSpace() { ts.i = skipSpace(ts.src, ts.i) }

// operator reports whether the next word is the operator op (AND, OR, NOT):
// followed by a space, a parenthesis, a quote or the closing brace.
func (ts *termScanner) operator(op string) bool {
	ts.skipSpace()
	end := ts.i + len(op)
	if end > len(ts.src) || !strings.EqualFold(ts.src[ts.i:end], op) {
		return false
	}
	return end < len(ts.src) && strings.IndexByte(" \t\r\n()\"}", ts.src[end]) >= 0
}

// parseOr reads and { OR and }. It returns nil for an empty expression.
func (ts *termScanner) parseOr() (*searchNode, *queryError) {
	left, err := ts.parseAnd()
	if err != nil || left == nil {
		return left, err
	}
	kids := []*searchNode{left}
	for ts.operator("OR") {
		ts.i += 2
		right, err := ts.parseAnd()
		if err != nil {
			return nil, err
		}
		if right == nil {
			return nil, ts.mismatch("a search term after OR")
		}
		kids = append(kids, right)
	}
	if len(kids) == 1 {
		return left, nil
	}
	return &searchNode{op: "or", kids: kids}, nil
}

// parseAnd reads unit { [AND [NOT]] unit }.
func (ts *termScanner) parseAnd() (*searchNode, *queryError) {
	left, err := ts.parseUnit()
	if err != nil || left == nil {
		return left, err
	}
	for {
		if ts.operator("OR") {
			return left, nil
		}
		op, explicit := "and", false
		if ts.operator("AND") {
			ts.i += 3
			op, explicit = "and", true
			if ts.operator("NOT") {
				ts.i += 3
				op = "andnot"
			}
		}
		right, err := ts.parseUnit()
		if err != nil {
			return nil, err
		}
		if right == nil {
			if explicit {
				return nil, ts.mismatch("a search term after " + strings.ToUpper(strings.Replace(op, "andnot", "AND NOT", 1)))
			}
			return left, nil
		}
		left = &searchNode{op: op, kids: []*searchNode{left, right}}
	}
}

// parseUnit reads a word, a "phrase" or a parenthesised expression; nil at
// the end of the expression.
func (ts *termScanner) parseUnit() (*searchNode, *queryError) {
	ts.skipSpace()
	r, _ := ts.peekRune()
	switch {
	case ts.i >= len(ts.src), r == '}', r == ')':
		return nil, nil
	case r == '(':
		ts.i++
		node, err := ts.parseOr()
		if err != nil {
			return nil, err
		}
		ts.skipSpace()
		if node == nil || ts.i >= len(ts.src) || ts.src[ts.i] != ')' {
			return nil, ts.mismatch("')'")
		}
		ts.i++
		return node, nil
	case r == '"':
		start := ts.i
		ts.i++
		term, err := ts.readTerm(true)
		if err != nil {
			return nil, err
		}
		if ts.i >= len(ts.src) || ts.src[ts.i] != '"' {
			return nil, ts.mismatch(`'"'`)
		}
		ts.i++
		return termNode(term, start)
	}
	start := ts.i
	term, err := ts.readTerm(false)
	if err != nil {
		return nil, err
	}
	return termNode(term, start)
}

func termNode(term []tchar, pos int) (*searchNode, *queryError) {
	n := 0
	for _, c := range term {
		if !c.wild && !unicode.IsSpace(c.r) {
			n++
		}
	}
	if n < 2 {
		return nil, malformed(pos, "search term must be longer than one character")
	}
	return &searchNode{op: "term", term: term}, nil
}

// readTerm reads a word (up to a space, brace, parenthesis or quote) or,
// in a phrase, up to the closing quote, honouring backslash escapes.
func (ts *termScanner) readTerm(phrase bool) ([]tchar, *queryError) {
	var term []tchar
	for ts.i < len(ts.src) {
		r, size := ts.peekRune()
		switch {
		case r == '\\':
			next, nsize := utf8.DecodeRuneInString(ts.src[ts.i+size:])
			if ts.i+size >= len(ts.src) || !strings.ContainsRune(soslReserved, next) {
				return nil, &queryError{pos: ts.i, msg: "invalid escape sequence: only the reserved characters " + soslReserved + " may follow a backslash", antlr: true}
			}
			term = append(term, tchar{r: next})
			ts.i += size + nsize
			continue
		case r == '*' || r == '?':
			term = append(term, tchar{r: r, wild: true})
		case r == '"' && phrase:
			return term, nil
		case !phrase && (r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '}' || r == '(' || r == ')' || r == '"'):
			return term, nil
		case r == '}' && phrase:
			return nil, ts.mismatch(`'"'`)
		case strings.ContainsRune(soslReserved, r):
			return nil, ts.mismatch("'}'")
		default:
			term = append(term, tchar{r: r})
		}
		ts.i += size
	}
	return term, nil
}

// matches reports whether a record matches the expression in a search group.
func (n *searchNode) matches(o *object, rec record, group string) bool {
	switch n.op {
	case "or":
		for _, k := range n.kids {
			if k.matches(o, rec, group) {
				return true
			}
		}
		return false
	case "and":
		return n.kids[0].matches(o, rec, group) && n.kids[1].matches(o, rec, group)
	case "andnot":
		return n.kids[0].matches(o, rec, group) && !n.kids[1].matches(o, rec, group)
	}
	switch group {
	case "PHONE":
		return phoneTermMatches(n.term, o, rec)
	case "EMAIL":
		return emailTermMatches(n.term, o, rec)
	case "NAME":
		return nameTermMatches(n.term, o, rec)
	}
	return phoneTermMatches(n.term, o, rec) || emailTermMatches(n.term, o, rec) || nameTermMatches(n.term, o, rec)
}

// phoneTermMatches compares the term's digits with each phone field's by
// the digits rule (see phoneDigitsMatch); a term with wildcards is matched
// as a pattern over the digits.
func phoneTermMatches(term []tchar, o *object, rec record) bool {
	var digits []tchar
	wild, n := false, 0
	for _, c := range term {
		if c.wild || c.r >= '0' && c.r <= '9' {
			digits = append(digits, c)
			wild = wild || c.wild
		}
		if !c.wild && c.r >= '0' && c.r <= '9' {
			n++
		}
	}
	if n == 0 {
		return false
	}
	for _, name := range o.phoneFields {
		v, _ := rec[name].(string)
		pd := phoneDigits(v)
		if pd == "" {
			continue
		}
		if wild && globMatch(digits, []rune(pd)) || !wild && phoneDigitsMatch(plainText(digits), pd) {
			return true
		}
	}
	return false
}

// emailTermMatches compares the term with each e-mail field, ignoring case.
func emailTermMatches(term []tchar, o *object, rec record) bool {
	pat := lowerTerm(term)
	for _, name := range o.emailFields {
		if v, _ := rec[name].(string); v != "" && globMatch(pat, []rune(strings.ToLower(strings.TrimSpace(v)))) {
			return true
		}
	}
	return false
}

// nameTermMatches reports whether the term's words appear, in order and
// next to each other, among the words of a name field.
func nameTermMatches(term []tchar, o *object, rec record) bool {
	words := splitWords(lowerTerm(term))
	if len(words) == 0 {
		return false
	}
	for _, name := range o.nameFields {
		v, _ := rec[name].(string)
		var fieldWords [][]rune
		for _, w := range splitWords(lowerTerm(plainTerm(v))) {
			fieldWords = append(fieldWords, []rune(plainText(w)))
		}
		for start := 0; start+len(words) <= len(fieldWords); start++ {
			all := true
			for k, w := range words {
				if !globMatch(w, fieldWords[start+k]) {
					all = false
					break
				}
			}
			if all {
				return true
			}
		}
	}
	return false
}

func plainTerm(s string) []tchar {
	out := make([]tchar, 0, len(s))
	for _, r := range s {
		out = append(out, tchar{r: r})
	}
	return out
}

func plainText(t []tchar) string {
	var b strings.Builder
	for _, c := range t {
		b.WriteRune(c.r)
	}
	return b.String()
}

func lowerTerm(t []tchar) []tchar {
	out := make([]tchar, len(t))
	for i, c := range t {
		out[i] = tchar{r: unicode.ToLower(c.r), wild: c.wild}
	}
	return out
}

// splitWords splits a term into words of letters, digits and wildcards.
func splitWords(t []tchar) [][]tchar {
	var words [][]tchar
	var cur []tchar
	for _, c := range t {
		if c.wild || unicode.IsLetter(c.r) || unicode.IsDigit(c.r) {
			cur = append(cur, c)
			continue
		}
		if len(cur) > 0 {
			words = append(words, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		words = append(words, cur)
	}
	return words
}

// globMatch matches s against a pattern in which a wild * stands for any
// run of characters and a wild ? for one character.
func globMatch(pat []tchar, s []rune) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pat) && pat[p].wild && pat[p].r == '*':
			star, mark = p, i
			p++
		case p < len(pat) && (pat[p].wild && pat[p].r == '?' || !pat[p].wild && pat[p].r == s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pat) && pat[p].wild && pat[p].r == '*' {
		p++
	}
	return p == len(pat)
}

// searchRecord is one result row, whatever its object.
type searchResult struct {
	SearchRecords []*jsonRecord `json:"searchRecords"`
}

// defaultReturning is what a search without RETURNING returns.
var defaultReturning = []string{objAccount, objContact, objLead}

// handleSearch answers GET /search?q=SOSL.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, c *call) {
	src := r.URL.Query().Get("q")
	if strings.TrimSpace(src) == "" {
		writeErrors(w, badRequest(codeMalformedSearch, "A search string has to be specified"))
		return
	}
	q, qerr := parseSOSL(src)
	if qerr != nil {
		writeErrors(w, qerr.apiError(src, codeMalformedSearch))
		return
	}
	returning := q.returning
	if len(returning) == 0 {
		for _, name := range defaultReturning {
			returning = append(returning, clause{object: token{kind: tokIdent, text: name}, limit: -1})
		}
	}
	var sels []*selection
	for i := range returning {
		sel, qerr := bindClause(&returning[i], false)
		if qerr != nil {
			writeErrors(w, qerr.apiError(src, codeMalformedSearch))
			return
		}
		sels = append(sels, sel)
	}
	overall := maxSearchRows
	if q.limit >= 0 {
		overall = min(q.limit, maxSearchRows)
	}
	out := searchResult{SearchRecords: []*jsonRecord{}}
	for _, sel := range sels {
		recs, err := selectRecords(r.Context(), c.db, sel, false)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var hits []record
		for _, rec := range recs {
			if len(out.SearchRecords)+len(hits) >= overall || sel.limit >= 0 && len(hits) >= sel.limit {
				break
			}
			if q.search.matches(sel.obj, rec, q.group) {
				hits = append(hits, rec)
			}
		}
		rendered, err := project(r.Context(), c.db, sel, hits, c.version)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.SearchRecords = append(out.SearchRecords, rendered...)
	}
	writeJSON(w, http.StatusOK, out)
}

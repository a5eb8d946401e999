package devcrm

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds what SOQL and SOSL share: the tokens, the error format,
// and the grammar of field lists, WHERE, ORDER BY and LIMIT.

type tokKind int

const (
	tokEOF      tokKind = iota
	tokIdent            // a name or keyword; may hold dots (Account.Name)
	tokString           // 'text', with text holding the unescaped value
	tokNumber           // 42, -7, 1.5
	tokDate             // 2026-12-03
	tokDateTime         // 2026-12-03T17:00:00Z
	tokPunct            // ( ) , = != <> < > <= >=
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the statement
}

func (t token) String() string {
	if t.kind == tokEOF {
		return "<EOF>"
	}
	return t.text
}

// queryError is an error at a position of a SOQL or SOSL statement.
type queryError struct {
	code string // empty means the language's MALFORMED_QUERY or MALFORMED_SEARCH
	pos  int
	msg  string
	// antlr prefixes the message with "line R:C " (C counted from 0), as
	// Salesforce's search term parser does.
	antlr bool
}

func (e *queryError) Error() string { return e.msg }

func malformed(pos int, format string, args ...any) *queryError {
	return &queryError{pos: pos, msg: fmt.Sprintf(format, args...)}
}

func unexpected(t token) *queryError {
	if t.kind == tokEOF {
		return malformed(t.pos, "unexpected token: <EOF>")
	}
	return malformed(t.pos, "unexpected token: '%s'", t.text)
}

// apiError renders the error as Salesforce does: the statement's line, a
// caret under the column, the row and column, then the message.
func (e *queryError) apiError(src, defaultCode string) *apiError {
	pos := min(max(e.pos, 0), len(src))
	row := strings.Count(src[:pos], "\n") + 1
	lineStart := strings.LastIndexByte(src[:pos], '\n') + 1
	lineEnd := strings.IndexByte(src[lineStart:], '\n')
	if lineEnd < 0 {
		lineEnd = len(src) - lineStart
	}
	caret := utf8.RuneCountInString(src[lineStart:pos])
	col := caret + 1
	msg := e.msg
	if e.antlr {
		// The search term parser counts columns from 0.
		col = caret
		msg = fmt.Sprintf("line %d:%d %s", row, col, msg)
	}
	code := e.code
	if code == "" {
		code = defaultCode
	}
	text := fmt.Sprintf("\n%s\n%s^\nERROR at Row:%d:Column:%d\n%s", src[lineStart:lineStart+lineEnd], strings.Repeat(" ", caret), row, col, msg)
	return newAPIError(http.StatusBadRequest, code, text)
}

var (
	dateTimeLiteral = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})`)
	dateLiteral     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
	numberLiteral   = regexp.MustCompile(`^[+-]?\d+(\.\d+)?`)
)

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// lex splits src[from:] into tokens.
func lex(src string, from int) ([]token, *queryError) {
	var toks []token
	i := from
	for {
		for i < len(src) && strings.IndexByte(" \t\r\n", src[i]) >= 0 {
			i++
		}
		if i >= len(src) {
			return append(toks, token{kind: tokEOF, pos: i}), nil
		}
		c := src[i]
		switch {
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && (isIdentChar(src[j]) || src[j] == '.' && j+1 < len(src) && isIdentStart(src[j+1])) {
				j++
			}
			toks = append(toks, token{kind: tokIdent, text: src[i:j], pos: i})
			i = j
		case c == '\'':
			s, end, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokString, text: s, pos: i})
			i = end
		case c >= '0' && c <= '9' || (c == '-' || c == '+') && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			kind, m := tokNumber, numberLiteral.FindString(src[i:])
			if d := dateTimeLiteral.FindString(src[i:]); d != "" {
				kind, m = tokDateTime, d
			} else if d := dateLiteral.FindString(src[i:]); d != "" {
				kind, m = tokDate, d
			}
			toks = append(toks, token{kind: kind, text: m, pos: i})
			i += len(m)
		case strings.HasPrefix(src[i:], "!=") || strings.HasPrefix(src[i:], "<>") || strings.HasPrefix(src[i:], "<=") || strings.HasPrefix(src[i:], ">="):
			toks = append(toks, token{kind: tokPunct, text: src[i : i+2], pos: i})
			i += 2
		case strings.IndexByte("(),=<>", c) >= 0:
			toks = append(toks, token{kind: tokPunct, text: src[i : i+1], pos: i})
			i++
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			return nil, &queryError{pos: i, msg: fmt.Sprintf("no viable alternative at character '%c'", r), antlr: true}
		}
	}
}

// soqlEscapes are the escape sequences allowed in a quoted string.
var soqlEscapes = map[byte]string{'\'': "'", '"': `"`, '\\': `\`, 'n': "\n", 'r': "\r", 't': "\t", 'b': "\b", 'f': "\f"}

// lexString reads the quoted string starting at src[start] and returns its
// value and the offset after the closing quote.
func lexString(src string, start int) (string, int, *queryError) {
	var b strings.Builder
	for i := start + 1; i < len(src); i++ {
		switch src[i] {
		case '\'':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(src) {
				return "", 0, malformed(start, "unterminated string literal")
			}
			esc, ok := soqlEscapes[src[i+1]]
			if !ok {
				r, _ := utf8.DecodeRuneInString(src[i+1:])
				end := strings.IndexByte(src[i+1:], '\'')
				lit := src[start:]
				if end >= 0 {
					lit = src[start : i+1+end+1]
				}
				return "", 0, malformed(start, "Invalid string literal %s. Illegal character sequence '\\%c' in string literal.", lit, r)
			}
			b.WriteString(esc)
			i++
		default:
			b.WriteByte(src[i])
		}
	}
	return "", 0, malformed(start, "unterminated string literal: add the closing '")
}

// parser walks a token list.
type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func isKeyword(t token, kw string) bool { return t.kind == tokIdent && strings.EqualFold(t.text, kw) }

func (p *parser) acceptKeyword(kw string) bool {
	if isKeyword(p.peek(), kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKeyword(kw string) *queryError {
	if !p.acceptKeyword(kw) {
		return unexpected(p.peek())
	}
	return nil
}

func (p *parser) acceptPunct(s string) bool {
	if t := p.peek(); t.kind == tokPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectPunct(s string) *queryError {
	if !p.acceptPunct(s) {
		return unexpected(p.peek())
	}
	return nil
}

func (p *parser) ident() (token, *queryError) {
	t := p.next()
	if t.kind != tokIdent {
		return t, unexpected(t)
	}
	return t, nil
}

// clause is the part SOQL and a SOSL RETURNING item share: an object, its
// fields, and optional WHERE, ORDER BY and LIMIT.
type clause struct {
	object  token
	fields  []token
	where   []condition
	orderBy []orderItem
	limit   int // -1 when absent
}

type condition struct {
	field  token
	negate bool // != or <>
	value  token
}

type orderItem struct {
	field token
	desc  bool
}

// reservedWords cannot be field names in a field list.
var reservedWords = []string{"FROM", "WHERE", "ORDER", "LIMIT", "SELECT", "AND", "OR", "NOT"}

// parseFieldList reads name {, name}.
func (p *parser) parseFieldList() ([]token, *queryError) {
	var fields []token
	for {
		t, err := p.ident()
		if err != nil {
			return nil, err
		}
		for _, w := range reservedWords {
			if isKeyword(t, w) {
				return nil, unexpected(t)
			}
		}
		fields = append(fields, t)
		if !p.acceptPunct(",") {
			return fields, nil
		}
	}
}

// parseTail reads [WHERE c {AND c}] [ORDER BY f [ASC|DESC] {, ...}] [LIMIT n].
func (p *parser) parseTail(c *clause) *queryError {
	c.limit = -1
	if p.acceptKeyword("WHERE") {
		for {
			cond, err := p.parseCondition()
			if err != nil {
				return err
			}
			c.where = append(c.where, cond)
			if !p.acceptKeyword("AND") {
				break
			}
		}
		if t := p.peek(); isKeyword(t, "OR") {
			return malformed(t.pos, "unexpected token: '%s' (devcrm supports AND only)", t.text)
		}
	}
	if p.acceptKeyword("ORDER") {
		if err := p.expectKeyword("BY"); err != nil {
			return err
		}
		for {
			f, err := p.ident()
			if err != nil {
				return err
			}
			item := orderItem{field: f}
			if p.acceptKeyword("DESC") {
				item.desc = true
			} else {
				p.acceptKeyword("ASC")
			}
			c.orderBy = append(c.orderBy, item)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	if isKeyword(p.peek(), "LIMIT") {
		n, err := p.parseLimit()
		if err != nil {
			return err
		}
		c.limit = n
	}
	return nil
}

// parseLimit reads LIMIT n.
func (p *parser) parseLimit() (int, *queryError) {
	if err := p.expectKeyword("LIMIT"); err != nil {
		return 0, err
	}
	t := p.next()
	n, err := strconv.Atoi(t.text)
	if t.kind != tokNumber || err != nil || n < 0 {
		return 0, malformed(t.pos, "unexpected token: '%s' (LIMIT takes a whole number)", t)
	}
	return n, nil
}

func (p *parser) parseCondition() (condition, *queryError) {
	f, err := p.ident()
	if err != nil {
		return condition{}, err
	}
	op := p.next()
	cond := condition{field: f}
	switch {
	case op.kind == tokPunct && op.text == "=":
	case op.kind == tokPunct && (op.text == "!=" || op.text == "<>"):
		cond.negate = true
	case op.kind == tokPunct || op.kind == tokIdent:
		return condition{}, malformed(op.pos, "unexpected token: '%s' (devcrm supports = and != only)", op)
	default:
		return condition{}, unexpected(op)
	}
	v := p.next()
	switch {
	case v.kind == tokString, v.kind == tokNumber, v.kind == tokDate, v.kind == tokDateTime:
	case isKeyword(v, "true"), isKeyword(v, "false"), isKeyword(v, "null"):
	default:
		return condition{}, unexpected(v)
	}
	cond.value = v
	return cond, nil
}

package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ErrUndocumented is returned for a request whose path and method no
// operation of the document serves.
var ErrUndocumented = errors.New("no documented operation")

// Spec is an OpenAPI 3.1 document, read for checking requests and
// responses against it.
//
// The schema checker covers the subset of JSON Schema an API document
// typically uses: $ref (local), type (one or a list, "null" included),
// properties, required, additionalProperties, items, allOf, oneOf, enum,
// const, format date-time, pattern, minimum, maximum, minLength and
// maxLength; annotations (description, examples, default...) are ignored.
// It is stricter than JSON Schema in one way: an object schema without
// additionalProperties allows no properties beyond those it (and its allOf
// members) documents. A schema's own property overrides an allOf member's of
// the same name (the member still checks its own), so a variant can narrow a
// shared property to a const. Each oneOf alternative is checked as a whole
// schema, and exactly one must match. Check reports any keyword outside the
// subset, so the document cannot say something the checker silently ignores.
type Spec struct {
	doc map[string]any
}

// methods are the operation keys of a path item.
var methods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// LoadSpec reads an OpenAPI document in YAML or JSON.
func LoadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load spec: %w", err)
	}
	return ParseSpec(b)
}

// ParseSpec parses an OpenAPI document in YAML or JSON.
func ParseSpec(b []byte) (*Spec, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse spec: %w", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		return nil, fmt.Errorf("parse spec: openapi version %q: want 3.1.x", v)
	}
	if _, ok := doc["paths"].(map[string]any); !ok {
		return nil, errors.New("parse spec: no paths")
	}
	return &Spec{doc: doc}, nil
}

// Operations returns every documented operation as "METHOD /path", sorted,
// in the form of Go ServeMux patterns ("GET /api/v1/items/{id}").
func (s *Spec) Operations() []string {
	var out []string
	for path, item := range s.paths() {
		for _, m := range methods {
			if _, ok := item[m]; ok {
				out = append(out, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s *Spec) paths() map[string]map[string]any {
	out := map[string]map[string]any{}
	for path, item := range s.doc["paths"].(map[string]any) {
		if m, ok := item.(map[string]any); ok {
			out[path] = m
		}
	}
	return out
}

// Match returns the documented path template that serves method and path,
// preferring literal segments over templated ones.
func (s *Spec) Match(method, path string) (string, bool) {
	m := strings.ToLower(method)
	best, bestVars := "", -1
	segs := strings.Split(path, "/")
	for tmpl, item := range s.paths() {
		if _, ok := item[m]; !ok {
			continue
		}
		tsegs := strings.Split(tmpl, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		vars, ok := 0, true
		for i, ts := range tsegs {
			switch {
			case strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}"):
				if segs[i] == "" {
					ok = false
				}
				vars++
			case ts != segs[i]:
				ok = false
			}
		}
		if ok && (bestVars < 0 || vars < bestVars) {
			best, bestVars = tmpl, vars
		}
	}
	return best, bestVars >= 0
}

// operation returns the operation object for method and path.
func (s *Spec) operation(method, path string) (string, map[string]any, error) {
	tmpl, ok := s.Match(method, path)
	if !ok {
		return "", nil, fmt.Errorf("%s %s: %w", method, path, ErrUndocumented)
	}
	op, _ := s.paths()[tmpl][strings.ToLower(method)].(map[string]any)
	return strings.ToUpper(method) + " " + tmpl, op, nil
}

// CheckResponse checks a response to method and path: its status must be
// documented (or covered by default), its media type documented for that
// status, and its body valid against the schema. A response documented
// without content must have an empty body.
func (s *Spec) CheckResponse(method, path string, status int, header http.Header, body []byte) error {
	name, op, err := s.operation(method, path)
	if err != nil {
		return err
	}
	responses, _ := op["responses"].(map[string]any)
	code := strconv.Itoa(status)
	resp, ok := responses[code]
	if !ok {
		resp, ok = responses[code[:1]+"XX"]
	}
	if !ok {
		resp, ok = responses["default"]
	}
	if !ok {
		return fmt.Errorf("%s: status %d is not documented", name, status)
	}
	r, err := s.resolve(resp)
	if err != nil {
		return fmt.Errorf("%s: response %d: %w", name, status, err)
	}
	return s.checkContent(fmt.Sprintf("%s: response %d", name, status), r, header.Get("Content-Type"), body)
}

// CheckRequest checks a request body against the documented request body
// of method and path.
func (s *Spec) CheckRequest(method, path, contentType string, body []byte) error {
	name, op, err := s.operation(method, path)
	if err != nil {
		return err
	}
	rb, ok := op["requestBody"]
	if !ok {
		if len(body) > 0 {
			return fmt.Errorf("%s: a body is sent but none is documented", name)
		}
		return nil
	}
	r, err := s.resolve(rb)
	if err != nil {
		return fmt.Errorf("%s: request body: %w", name, err)
	}
	return s.checkContent(name+": request body", r, contentType, body)
}

// RequestProperties returns the property names of the JSON request body
// documented for method and path, sorted.
func (s *Spec) RequestProperties(method, path string) ([]string, error) {
	name, op, err := s.operation(method, path)
	if err != nil {
		return nil, err
	}
	rb, err := s.resolve(op["requestBody"])
	if err != nil {
		return nil, fmt.Errorf("%s: request body: %w", name, err)
	}
	content, _ := rb["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	schema, err := s.resolve(media["schema"])
	if err != nil {
		return nil, fmt.Errorf("%s: request schema: %w", name, err)
	}
	props, _ := schema["properties"].(map[string]any)
	var out []string
	for p := range props {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// SchemaFields returns the property names the component schema name
// documents, with those of its allOf members, and the names it requires,
// each sorted.
func (s *Spec) SchemaFields(name string) (props, required []string, err error) {
	schema, err := s.resolve(map[string]any{"$ref": "#/components/schemas/" + name})
	if err != nil {
		return nil, nil, err
	}
	members := []map[string]any{schema}
	for _, sub := range list(schema["allOf"]) {
		m, err := s.resolve(sub)
		if err != nil {
			return nil, nil, fmt.Errorf("schema %s: allOf: %w", name, err)
		}
		members = append(members, m)
	}
	for _, m := range members {
		p, _ := m["properties"].(map[string]any)
		props = append(props, keys(p)...)
		for _, r := range list(m["required"]) {
			if r, ok := r.(string); ok {
				required = append(required, r)
			}
		}
	}
	slices.Sort(props)
	slices.Sort(required)
	return slices.Compact(props), slices.Compact(required), nil
}

// CheckSchema checks a JSON body against the component schema name.
func (s *Spec) CheckSchema(name string, body []byte) error {
	schema, err := s.resolve(map[string]any{"$ref": "#/components/schemas/" + name})
	if err != nil {
		return err
	}
	v, err := decodeJSON(body)
	if err != nil {
		return fmt.Errorf("schema %s: %w", name, err)
	}
	return s.validate(schema, v, "$")
}

// checkContent checks a body against a response or request body object.
func (s *Spec) checkContent(what string, r map[string]any, contentType string, body []byte) error {
	content, _ := r["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("%s: documented without a body, got %d bytes", what, len(body))
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("%s: Content-Type %q: %w", what, contentType, err)
	}
	media, ok := content[mt].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: Content-Type %s is not documented (documented: %s)", what, mt, strings.Join(keys(content), ", "))
	}
	schema, err := s.resolve(media["schema"])
	if err != nil {
		return fmt.Errorf("%s: schema: %w", what, err)
	}
	var v any = string(body)
	if mt == "application/json" {
		if v, err = decodeJSON(body); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := s.validate(schema, v, "$"); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("body is not JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("body has data after the JSON value")
	}
	return v, nil
}

// resolve follows a local $ref ("#/components/..."), repeatedly.
func (s *Spec) resolve(v any) (map[string]any, error) {
	for range 32 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("expected an object, got %T", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		if v, ok = s.pointer(ref); !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
	}
	return nil, errors.New("$ref chain too long")
}

// pointer resolves a local JSON pointer such as #/components/schemas/Error.
func (s *Spec) pointer(ref string) (any, bool) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = s.doc
	for _, tok := range strings.Split(p, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// schemaKeywords are the keywords the checker understands; annotations are
// accepted and ignored.
var schemaKeywords = map[string]bool{
	"$ref": true, "type": true, "properties": true, "required": true, "additionalProperties": true,
	"items": true, "allOf": true, "oneOf": true, "enum": true, "const": true, "format": true, "pattern": true,
	"minimum": true, "maximum": true, "minLength": true, "maxLength": true,
}

var annotations = map[string]bool{
	"description": true, "title": true, "examples": true, "example": true, "default": true,
	"deprecated": true, "readOnly": true, "writeOnly": true,
}

// validate checks v against schema; at is the JSON path for messages.
func (s *Spec) validate(schema map[string]any, v any, at string) error {
	return s.validateIn(schema, v, at, false)
}

// validateIn is validate; member is set for an allOf member, whose object
// may hold the properties the other members document.
func (s *Spec) validateIn(schema map[string]any, v any, at string, member bool) error {
	if ref, ok := schema["$ref"]; ok {
		target, err := s.resolve(map[string]any{"$ref": ref})
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if err := s.validateIn(target, v, at, member); err != nil {
			return err
		}
	}
	for _, sub := range list(schema["allOf"]) {
		m, err := s.resolve(sub)
		if err != nil {
			return fmt.Errorf("%s: allOf: %w", at, err)
		}
		if err := s.validateIn(m, v, at, true); err != nil {
			return err
		}
	}
	if alts := list(schema["oneOf"]); len(alts) > 0 {
		if err := s.validateOneOf(alts, v, at, member); err != nil {
			return err
		}
	}
	if t, ok := schema["type"]; ok {
		types := list(t)
		if !slices.ContainsFunc(types, func(t any) bool { return isType(v, t) }) {
			return fmt.Errorf("%s: %s is not of type %v", at, describe(v), t)
		}
	}
	if e, ok := schema["enum"]; ok && !slices.ContainsFunc(list(e), func(x any) bool { return equal(x, v) }) {
		return fmt.Errorf("%s: %s is not one of %v", at, describe(v), e)
	}
	if c, ok := schema["const"]; ok && !equal(c, v) {
		return fmt.Errorf("%s: %s is not %v", at, describe(v), c)
	}
	switch x := v.(type) {
	case string:
		return s.validateString(schema, x, at)
	case json.Number:
		return validateNumber(schema, x, at)
	case []any:
		if items, ok := schema["items"]; ok {
			m, err := s.resolve(items)
			if err != nil {
				return fmt.Errorf("%s: items: %w", at, err)
			}
			for i, item := range x {
				if err := s.validate(m, item, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		return s.validateObject(schema, x, at, member)
	}
	return nil
}

// validateOneOf checks that v matches exactly one of the alternatives.
func (s *Spec) validateOneOf(alts []any, v any, at string, member bool) error {
	var matched, failed []string
	for i, sub := range alts {
		name := fmt.Sprintf("oneOf[%d]", i)
		if m, ok := sub.(map[string]any); ok {
			if ref, ok := m["$ref"].(string); ok {
				name = ref[strings.LastIndexByte(ref, '/')+1:]
			}
		}
		m, err := s.resolve(sub)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", at, name, err)
		}
		if err := s.validateIn(m, v, at, member); err != nil {
			failed = append(failed, name+": "+err.Error())
			continue
		}
		matched = append(matched, name)
	}
	switch len(matched) {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("%s: matches none of oneOf: %s", at, strings.Join(failed, "; "))
	}
	return fmt.Errorf("%s: matches %s; oneOf wants exactly one", at, strings.Join(matched, " and "))
}

func (s *Spec) validateString(schema map[string]any, x, at string) error {
	if f, _ := schema["format"].(string); f == "date-time" {
		if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
			return fmt.Errorf("%s: %q is not an RFC 3339 date-time", at, x)
		}
	}
	if p, ok := schema["pattern"].(string); ok {
		re, err := regexp.Compile(p)
		if err != nil {
			return fmt.Errorf("%s: pattern %q: %w", at, p, err)
		}
		if !re.MatchString(x) {
			return fmt.Errorf("%s: %q does not match %s", at, x, p)
		}
	}
	n := len([]rune(x))
	if max, ok := number(schema["maxLength"]); ok && float64(n) > max {
		return fmt.Errorf("%s: %d characters, more than maxLength %v", at, n, max)
	}
	if min, ok := number(schema["minLength"]); ok && float64(n) < min {
		return fmt.Errorf("%s: %d characters, fewer than minLength %v", at, n, min)
	}
	return nil
}

func validateNumber(schema map[string]any, x json.Number, at string) error {
	f, _ := x.Float64()
	if max, ok := number(schema["maximum"]); ok && f > max {
		return fmt.Errorf("%s: %s is more than maximum %v", at, x, max)
	}
	if min, ok := number(schema["minimum"]); ok && f < min {
		return fmt.Errorf("%s: %s is less than minimum %v", at, x, min)
	}
	return nil
}

// validateObject checks properties, required and additionalProperties,
// counting the properties documented by allOf members as documented. A
// member's object may hold undocumented properties: the whole checks them.
func (s *Spec) validateObject(schema map[string]any, x map[string]any, at string, member bool) error {
	props := map[string]any{}
	var required []any
	additional, hasAdditional := schema["additionalProperties"]
	collect := func(m map[string]any) {
		if p, ok := m["properties"].(map[string]any); ok {
			for k, v := range p {
				props[k] = v
			}
		}
		required = append(required, list(m["required"])...)
	}
	for _, sub := range list(schema["allOf"]) {
		if m, err := s.resolve(sub); err == nil {
			collect(m)
		}
	}
	collect(schema) // last: its own properties override the members'
	for _, r := range required {
		name, _ := r.(string)
		if _, ok := x[name]; !ok {
			return fmt.Errorf("%s: required property %q is missing", at, name)
		}
	}
	for _, name := range keys(x) {
		val := x[name]
		sub, documented := props[name]
		if !documented {
			switch a := additional.(type) {
			case bool:
				if a {
					continue
				}
			case map[string]any:
				sub = a
			}
			if !hasAdditional && (member || !isObjectSchema(schema)) {
				continue
			}
			if sub == nil {
				return fmt.Errorf("%s: property %q is not documented", at, name)
			}
		}
		m, err := s.resolve(sub)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", at, name, err)
		}
		if err := s.validate(m, val, at+"."+name); err != nil {
			return err
		}
	}
	return nil
}

// isObjectSchema reports whether a schema describes objects (by type,
// properties or allOf), which makes undocumented properties an error.
func isObjectSchema(schema map[string]any) bool {
	_, props := schema["properties"]
	_, allOf := schema["allOf"]
	return props || allOf || slices.Contains(list(schema["type"]), any("object"))
}

// Check checks the document itself: every $ref resolves, every schema uses
// only keywords the checker understands, and every operation has an
// operationId, a summary and at least one response.
func (s *Spec) Check() error {
	var errs []error
	s.walk(s.doc, "#", func(at string, m map[string]any) {
		if ref, ok := m["$ref"].(string); ok {
			if _, ok := s.pointer(ref); !ok {
				errs = append(errs, fmt.Errorf("%s: $ref %q does not resolve", at, ref))
			}
		}
	})
	comps, _ := s.doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	for _, name := range keys(schemas) {
		errs = append(errs, s.checkSchemaKeywords(schemas[name], "#/components/schemas/"+name)...)
	}
	for path, item := range s.paths() {
		for _, m := range methods {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			name := strings.ToUpper(m) + " " + path
			if id, _ := op["operationId"].(string); id == "" {
				errs = append(errs, fmt.Errorf("%s: no operationId", name))
			}
			if sum, _ := op["summary"].(string); sum == "" {
				errs = append(errs, fmt.Errorf("%s: no summary", name))
			}
			if rs, _ := op["responses"].(map[string]any); len(rs) == 0 {
				errs = append(errs, fmt.Errorf("%s: no responses", name))
			}
			s.walk(op, name, func(at string, m map[string]any) {
				if sc, ok := m["schema"]; ok {
					errs = append(errs, s.checkSchemaKeywords(sc, at+".schema")...)
				}
			})
		}
	}
	return errors.Join(errs...)
}

// checkSchemaKeywords reports keywords outside the checker's subset.
func (s *Spec) checkSchemaKeywords(v any, at string) []error {
	m, ok := v.(map[string]any)
	if !ok {
		return []error{fmt.Errorf("%s: a schema must be an object", at)}
	}
	var errs []error
	for _, k := range keys(m) {
		if !schemaKeywords[k] && !annotations[k] && !strings.HasPrefix(k, "x-") {
			errs = append(errs, fmt.Errorf("%s: schema keyword %q is not supported by the checker", at, k))
		}
	}
	if p, ok := m["properties"].(map[string]any); ok {
		for _, k := range keys(p) {
			errs = append(errs, s.checkSchemaKeywords(p[k], at+".properties."+k)...)
		}
	}
	if items, ok := m["items"]; ok {
		errs = append(errs, s.checkSchemaKeywords(items, at+".items")...)
	}
	if a, ok := m["additionalProperties"].(map[string]any); ok {
		errs = append(errs, s.checkSchemaKeywords(a, at+".additionalProperties")...)
	}
	for _, kw := range []string{"allOf", "oneOf"} {
		for i, sub := range list(m[kw]) {
			errs = append(errs, s.checkSchemaKeywords(sub, fmt.Sprintf("%s.%s[%d]", at, kw, i))...)
		}
	}
	return errs
}

// walk calls fn for every object in v, depth first.
func (s *Spec) walk(v any, at string, fn func(at string, m map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(at, x)
		for _, k := range keys(x) {
			s.walk(x[k], at+"/"+k, fn)
		}
	case []any:
		for i, e := range x {
			s.walk(e, fmt.Sprintf("%s/%d", at, i), fn)
		}
	}
}

func isType(v any, t any) bool {
	switch t {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && f == math.Trunc(f)
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

// equal compares a value from the document (YAML) with one from a body
// (JSON), numbers by value.
func equal(doc, body any) bool {
	if a, ok := number(doc); ok {
		b, ok := number(body)
		return ok && a == b
	}
	return doc == body
}

// number returns a YAML or JSON number as float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 80 {
		return fmt.Sprintf("a %T", v)
	}
	return string(b)
}

func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

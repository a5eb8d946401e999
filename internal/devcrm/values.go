package devcrm

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-cc/parley/internal/cc"
)

// sfDateTime is how Salesforce writes datetimes: 2026-12-03T17:00:00.000+0000.
const sfDateTime = "2006-01-02T15:04:05.000-0700"

// formatDateTime renders t as Salesforce does, in UTC.
func formatDateTime(t time.Time) string { return t.UTC().Format(sfDateTime) }

// dateTimeLayouts are the datetime forms accepted on input.
var dateTimeLayouts = []string{sfDateTime, "2006-01-02T15:04:05-0700", time.RFC3339Nano, "2006-01-02 15:04:05"}

func parseDateTime(s string) (time.Time, bool) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil && len(s) == len(time.DateOnly)
}

// deserializeError is the JSON_PARSER_ERROR Salesforce sends when a JSON value
// does not fit the field's type; the REST layer appends the position.
func deserializeError(f *field, token, value string) *apiError {
	return badRequest(codeJSONParser, fmt.Sprintf("Cannot deserialize instance of %s from %s value %s or request may be missing a required field", typeNames[f.typ].json, token, value))
}

// textValue converts text (a JSON string or a CSV cell) to the field's value.
// Empty text is null, as in Salesforce.
func textValue(f *field, s string) (any, *apiError) {
	if s == "" {
		return nil, nil
	}
	switch f.typ {
	case typeInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return nil, badRequest(codeInvalidTypeOnField, fmt.Sprintf("%s: value not of required type: %s", f.label, s), f.name)
		}
		return n, nil
	case typeBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, badRequest(codeInvalidTypeOnField, fmt.Sprintf("%s: value not of required type: %s", f.label, s), f.name)
	case typeDate:
		if !parseDate(s) {
			return nil, deserializeError(f, "VALUE_STRING", s)
		}
		return s, nil
	case typeDateTime:
		t, ok := parseDateTime(s)
		if !ok {
			return nil, deserializeError(f, "VALUE_STRING", s)
		}
		return formatDateTime(t), nil
	}
	return s, nil
}

// jsonValue converts a JSON value to the field's value.
func jsonValue(f *field, raw json.RawMessage) (any, *apiError) {
	text := string(raw)
	switch {
	case text == "null":
		return nil, nil
	case text[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, deserializeError(f, "VALUE_STRING", text)
		}
		return textValue(f, s)
	case text == "true" || text == "false":
		switch f.typ {
		case typeBool:
			return text == "true", nil
		case typeInt, typeDate, typeDateTime:
			return nil, deserializeError(f, "VALUE_"+strings.ToUpper(text), text)
		}
		return text, nil
	case text[0] == '{':
		return nil, deserializeError(f, "START_OBJECT", "{")
	case text[0] == '[':
		return nil, deserializeError(f, "START_ARRAY", "[")
	}
	// A number.
	integral := !strings.ContainsAny(text, ".eE")
	token := "VALUE_NUMBER_FLOAT"
	if integral {
		token = "VALUE_NUMBER_INT"
	}
	switch f.typ {
	case typeInt:
		n, err := strconv.ParseInt(text, 10, 32)
		if !integral || err != nil {
			return nil, deserializeError(f, token, text)
		}
		return n, nil
	case typeBool, typeDate, typeDateTime:
		return nil, deserializeError(f, token, text)
	}
	return text, nil
}

// shown cuts a value for an error message.
func shown(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	r := []rune(s)
	return string(r[:40]) + "..."
}

// normalizeValue checks a converted value against the field's rules and
// returns its canonical form: lengths (Description in bytes, up to capBytes;
// other text in characters), restricted picklists, e-mail syntax, and Id
// syntax and target type for references. Whether a referenced record exists
// is checked later, against the database.
func normalizeValue(f *field, v any, capBytes int) (any, *apiError) {
	s, ok := v.(string)
	if !ok {
		return v, nil
	}
	switch f.typ {
	case typeTextArea:
		if len(s) > capBytes {
			return nil, badRequest(codeStringTooLong, fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.label, shown(s), capBytes), f.name)
		}
		return s, nil
	case typeID, typeReference:
		id, err := ParseID(s)
		if err != nil && f.typ == typeID {
			return nil, badRequest(codeMalformedID, cc.ErrorMessage(err), f.name)
		}
		if err != nil {
			return nil, badRequest(codeMalformedID, fmt.Sprintf("%s ID: id value of incorrect type: %s", f.label, s), f.name)
		}
		if f.typ == typeReference && !refersTo(f, id) {
			return nil, badRequest(codeFieldIntegrity, fmt.Sprintf("%s ID: id value of incorrect type: %s", f.label, s), f.name)
		}
		return id, nil
	case typePicklist:
		for _, p := range f.picklist {
			if strings.EqualFold(p, s) {
				return p, nil
			}
		}
		return nil, badRequest(codeBadPicklist, fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.label, s), f.name)
	case typeEmail:
		if !validEmail(s) {
			return nil, badRequest(codeInvalidEmail, fmt.Sprintf("%s: invalid email address: %s", f.label, s), f.name)
		}
	}
	if f.maxLen > 0 && utf8.RuneCountInString(s) > f.maxLen {
		return nil, badRequest(codeStringTooLong, fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.label, shown(s), f.maxLen), f.name)
	}
	return s, nil
}

// refersTo reports whether a canonical Id belongs to one of the reference
// field's target objects.
func refersTo(f *field, id string) bool {
	o := objectByPrefix(id)
	if o == nil {
		return false
	}
	for _, r := range f.refs {
		if r == o.name {
			return true
		}
	}
	return false
}

// validEmail is a plain syntax check: one '@', a local part, a dotted domain
// and no spaces or angle brackets.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") || strings.ContainsAny(s, " \t\r\n<>,;\"") {
		return false
	}
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1
}

package cc

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of interaction data (Interaction.Data): what an entry point
// collected as digits or took from the X-Parley-Data SIP header.
const (
	MaxDataKeys     = 20  // pairs per interaction
	MaxDataKeyLen   = 40  // bytes of a key
	MaxDataValueLen = 256 // bytes of a value
)

// ValidDataKey reports whether k can name interaction data: 1-40 lowercase
// ASCII letters, digits and '_', starting with a letter ("account_number").
func ValidDataKey(k string) bool {
	if k == "" || len(k) > MaxDataKeyLen || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// ValidDataValue reports whether v can be interaction data: valid UTF-8, at
// most 256 bytes, no control characters, not only spaces.
func ValidDataValue(v string) bool {
	return strings.TrimSpace(v) != "" && len(v) <= MaxDataValueLen && utf8.ValidString(v) &&
		strings.IndexFunc(v, unicode.IsControl) < 0
}

// ScreenPop is when the agent's panel opens the caller's CRM record.
type ScreenPop string

// Screen pop timings.
const (
	ScreenPopOffer  ScreenPop = "offer"  // when the call rings the agent
	ScreenPopAnswer ScreenPop = "answer" // when the agent answers (the default)
)

// ParseScreenPop reads "offer" or "answer" (any case; empty is the default,
// answer).
func ParseScreenPop(s string) (ScreenPop, error) {
	switch p := ScreenPop(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return ScreenPopAnswer, nil
	case ScreenPopOffer, ScreenPopAnswer:
		return p, nil
	}
	return "", Errorf(EINVALID, "screen pop %q: use offer (pop when the call rings) or answer (pop when the agent answers)", s)
}

// SearchField maps a data key of an interaction to a CRM field: the CRM
// lookup of a call with that key searches Object.Field for its value before
// it falls back to the caller's number.
type SearchField struct {
	Key    string `json:"key"`    // the data key, e.g. account_number
	Object string `json:"object"` // Contact, Lead or Account
	Field  string `json:"field"`  // the field's API name, e.g. AccountNumber
}

// SearchObjects are the CRM objects a SearchField may name, in the order a
// lookup returns their records.
var SearchObjects = []string{"Contact", "Lead", "Account"}

// String returns "key=Object.Field", the form ParseSearchField reads.
func (f SearchField) String() string { return f.Key + "=" + f.Object + "." + f.Field }

// searchFieldForm is the expected form, for error messages.
const searchFieldForm = "use key=Object.Field, such as account_number=Account.AccountNumber (key: lowercase letters, digits and '_'; Object: Contact, Lead or Account; Field: the field's API name)"

// ParseSearchField reads "account_number=Account.AccountNumber". The
// object's case is corrected ("account" is Account); the field is kept as
// given, since CRM field names compare without case.
func ParseSearchField(s string) (SearchField, error) {
	k, of, ok := strings.Cut(strings.TrimSpace(s), "=")
	obj, fld, ok2 := strings.Cut(strings.TrimSpace(of), ".")
	if !ok || !ok2 {
		return SearchField{}, Errorf(EINVALID, "search field %q: %s", s, searchFieldForm)
	}
	f := SearchField{Key: strings.TrimSpace(k), Object: strings.TrimSpace(obj), Field: strings.TrimSpace(fld)}
	for _, o := range SearchObjects {
		if strings.EqualFold(o, f.Object) {
			f.Object = o
		}
	}
	if err := f.Validate(); err != nil {
		return SearchField{}, err
	}
	return f, nil
}

// Validate returns EINVALID naming what is wrong.
func (f SearchField) Validate() error {
	if !ValidDataKey(f.Key) {
		return Errorf(EINVALID, "search field %s: key %q: %s", f, f.Key, searchFieldForm)
	}
	known := false
	for _, o := range SearchObjects {
		known = known || o == f.Object
	}
	if !known {
		return Errorf(EINVALID, "search field %s: object %q: use Contact, Lead or Account", f, f.Object)
	}
	if !ValidFieldName(f.Field) {
		return Errorf(EINVALID, "search field %s: field %q: give a field API name such as AccountNumber or Customer_Number__c", f, f.Field)
	}
	return nil
}

// ValidFieldName reports whether s is a CRM field API name: a letter, then
// letters, digits and single underscores, at most 80 bytes (custom fields
// end in __c, which is allowed).
func ValidFieldName(s string) bool {
	base := strings.TrimSuffix(s, "__c")
	if base == "" || len(s) > 80 || !(base[0] >= 'a' && base[0] <= 'z' || base[0] >= 'A' && base[0] <= 'Z') ||
		strings.HasSuffix(base, "_") || strings.Contains(base, "__") {
		return false
	}
	for _, r := range base {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// FieldQuery is one search of a CRM field for a value: the interaction's
// data under Key, looked up in Object.Field.
type FieldQuery struct {
	SearchField
	Value string
}

// FieldSearcher is implemented by a CRM that can search records by field
// values. The contact center uses it for the queue's SearchFields before it
// falls back to FindByPhone.
type FieldSearcher interface {
	// FindByField returns the records of q.Object whose q.Field equals
	// q.Value exactly (case-insensitively, as the CRM compares text), by name
	// and id, each with MatchedBy set to q.Key. No match is an empty answer,
	// not an error; EINVALID if q does not validate or the CRM has no such
	// field.
	FindByField(ctx context.Context, q FieldQuery) ([]CRMRecord, error)
}

// DigitCollection is what an entry point asks the caller for before the
// call is queued: a prompt, then up to MaxDigits RFC 4733 digits ended
// early by '#', stored in the interaction's data under Key.
type DigitCollection struct {
	Key string `json:"key"` // data key, e.g. account_number
	// Prompt names a sound (a .wav in the sounds directory, or a bundled
	// one); empty is the bundled "enter your account number" prompt.
	Prompt    string `json:"prompt,omitempty"`
	MaxDigits int    `json:"max_digits"` // 1-32
	// Timeout is the longest wait for the next digit (and for the first,
	// after the prompt ends); 0 is DefaultDigitTimeout.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// DefaultDigitTimeout is the inter-digit timeout of a DigitCollection
// without one.
const DefaultDigitTimeout = 5 * time.Second

// ParseDigitCollection reads the admin form "key:max" ("account_number:8").
func ParseDigitCollection(s string) (*DigitCollection, error) {
	const form = "use key:max-digits, such as account_number:8 (key: lowercase letters, digits and '_'; 1 to 32 digits)"
	k, n, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return nil, Errorf(EINVALID, "collect %q: %s", s, form)
	}
	d := &DigitCollection{Key: strings.TrimSpace(k)}
	if _, err := fmt.Sscan(strings.TrimSpace(n), &d.MaxDigits); err != nil || strings.TrimSpace(n) != fmt.Sprint(d.MaxDigits) {
		return nil, Errorf(EINVALID, "collect %q: %s", s, form)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// Validate returns EINVALID naming the first field that is wrong.
func (d *DigitCollection) Validate() error {
	if !ValidDataKey(d.Key) {
		return Errorf(EINVALID, "digit collection key %q: use 1-40 lowercase letters, digits and '_', starting with a letter (account_number)", d.Key)
	}
	if d.MaxDigits < 1 || d.MaxDigits > 32 {
		return Errorf(EINVALID, "digit collection %s: %d digits: use 1 to 32", d.Key, d.MaxDigits)
	}
	if d.Timeout != 0 && (d.Timeout < time.Second || d.Timeout > time.Minute) {
		return Errorf(EINVALID, "digit collection %s: digit timeout %s: use 1s to 1m", d.Key, d.Timeout)
	}
	if d.Prompt != "" && !validSoundName(d.Prompt) {
		return Errorf(EINVALID, "digit collection %s: prompt %q: name a .wav file in the sounds directory, without a path", d.Key, d.Prompt)
	}
	return nil
}

// DigitTimeout returns Timeout, or the default when it is 0.
func (d *DigitCollection) DigitTimeout() time.Duration {
	if d.Timeout == 0 {
		return DefaultDigitTimeout
	}
	return d.Timeout
}

// validSoundName reports whether f names a .wav file without a path.
func validSoundName(f string) bool {
	return !strings.ContainsAny(f, `/\`) && !strings.HasPrefix(f, ".") && strings.HasSuffix(strings.ToLower(f), ".wav")
}

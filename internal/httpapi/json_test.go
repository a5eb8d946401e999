package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

// FuzzDecodeJSON feeds arbitrary bodies to the decoder of every request
// type: it must never panic, and every failure must be EINVALID with a
// message.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"tenant":"acme","username":"alice","password":"pw"}`,
		`{"state":"not_ready","reason":"lunch"}`,
		`{"notes":"n\u00e9","disposition":"Resolved","record_id":"003000000000001AAA"}`,
		`{"record_id":"003000000000001AAA"}`,
		`{"tenant":7}`, `{"x":1}`, `{`, `[]`, `null`, `"s"`, ``, ` `, `{}{}`, `{"notes":"\ud800"}`,
		`{"tenant":"a","tenant":"b"}`, "\xef\xbb\xbf{}", `{"record_id":null}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, dst := range []request{&signInRequest{}, &stateRequest{}, &wrapUpRequest{}, &linkRequest{}} {
			r := httptest.NewRequest("POST", "/", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			err := decodeJSON(httptest.NewRecorder(), r, maxBodyBytes, dst)
			if err == nil {
				continue
			}
			if !cc.IsCode(err, cc.EINVALID) {
				t.Fatalf("%T: %q: err code %s (%v), want invalid", dst, body, cc.ErrorCode(err), err)
			}
			if cc.ErrorMessage(err) == "" || cc.ErrorMessage(err) == "internal error" {
				t.Fatalf("%T: %q: no user-facing message: %v", dst, body, err)
			}
		}
	})
}

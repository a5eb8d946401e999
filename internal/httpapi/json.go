package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

// maxBodyBytes bounds a request body unless a route says otherwise.
const maxBodyBytes = 64 << 10

// request is a decoded request body that checks itself.
type request interface {
	validate() error
}

// decodeJSON reads a JSON object of at most limit bytes from the request body
// into dst and validates it. Every failure is EINVALID with a message that
// says what to fix.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, dst request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return cc.Errorf(cc.EINVALID, "request has no Content-Type: send the body as application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return cc.Errorf(cc.EINVALID, "Content-Type %q is not supported: send the body as application/json", ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return cc.Errorf(cc.EINVALID, "charset %q is not supported: send the body as UTF-8", cs)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return cc.Errorf(cc.EINVALID, "request body is larger than %s", byteSize(limit))
		}
		return cc.WrapError(cc.EINVALID, err, "request body could not be read")
	}
	if err := unmarshalStrict(body, dst); err != nil {
		return err
	}
	return dst.validate()
}

// unmarshalStrict decodes exactly one JSON object into dst, rejecting
// unknown fields and trailing data.
func unmarshalStrict(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return cc.Errorf(cc.EINVALID, "request body is empty: send a JSON object")
	}
	if bytes.TrimLeft(body, " \t\r\n")[0] != '{' {
		return cc.Errorf(cc.EINVALID, "request body must be a JSON object ({...})")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return cc.Errorf(cc.EINVALID, "request body has more data after the JSON object at byte %d: send one object", dec.InputOffset())
	}
	return nil
}

// jsonError turns a decoding error into an EINVALID that says what is wrong
// and where.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return cc.WrapError(cc.EINVALID, err, "request body is not valid JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return cc.WrapError(cc.EINVALID, err, "request body must be a JSON object, not %s", typ.Value)
		}
		return cc.WrapError(cc.EINVALID, err, "field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return cc.WrapError(cc.EINVALID, err, "request body ends in the middle of the JSON object")
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return cc.WrapError(cc.EINVALID, err, "unknown field %s: remove it (field names are snake_case)", name)
	}
	return cc.WrapError(cc.EINVALID, err, "request body is not a valid JSON object")
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	}
	return "a " + k.String()
}

func byteSize(n int64) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d bytes", n)
}

// writeJSON writes v as the JSON response body with the given status.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.ErrorContext(r.Context(), "encode response", "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

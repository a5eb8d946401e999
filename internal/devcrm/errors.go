package devcrm

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// Salesforce error codes devcrm sends.
const (
	codeNotFound            = "NOT_FOUND"
	codeMethodNotAllowed    = "METHOD_NOT_ALLOWED"
	codeInvalidSession      = "INVALID_SESSION_ID"
	codeRequestLimit        = "REQUEST_LIMIT_EXCEEDED"
	codeServerUnavailable   = "SERVER_UNAVAILABLE"
	codeUnknownException    = "UNKNOWN_EXCEPTION"
	codeMalformedQuery      = "MALFORMED_QUERY"
	codeMalformedSearch     = "MALFORMED_SEARCH"
	codeInvalidField        = "INVALID_FIELD"
	codeInvalidType         = "INVALID_TYPE"
	codeInvalidFilter       = "INVALID_QUERY_FILTER_OPERATOR"
	codeJSONParser          = "JSON_PARSER_ERROR"
	codeInvalidTypeOnField  = "INVALID_TYPE_ON_FIELD_IN_RECORD"
	codeStringTooLong       = "STRING_TOO_LONG"
	codeRequiredMissing     = "REQUIRED_FIELD_MISSING"
	codeFieldIntegrity      = "FIELD_INTEGRITY_EXCEPTION"
	codeMalformedID         = "MALFORMED_ID"
	codeInvalidCrossRef     = "INVALID_CROSS_REFERENCE_KEY"
	codeInvalidFieldInsert  = "INVALID_FIELD_FOR_INSERT_UPDATE"
	codeBadPicklist         = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
	codeInvalidEmail        = "INVALID_EMAIL_ADDRESS"
	codeReadOnly            = "INSUFFICIENT_ACCESS_OR_READONLY"
	codeUnsupportedMedia    = "UNSUPPORTED_MEDIA_TYPE"
	codeRequestTooLarge     = "REQUEST_ENTITY_TOO_LARGE"
	msgResourceDoesNotExist = "The requested resource does not exist"
)

// apiError is one element of a Salesforce REST error array.
type apiError struct {
	status  int
	Message string   `json:"message"`
	Code    string   `json:"errorCode"`
	Fields  []string `json:"fields,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newAPIError(status int, code, msg string, fields ...string) *apiError {
	return &apiError{status: status, Code: code, Message: msg, Fields: fields}
}

// badRequest is a 400 error about the given fields.
func badRequest(code, msg string, fields ...string) *apiError {
	return newAPIError(http.StatusBadRequest, code, msg, fields...)
}

func notFound() *apiError {
	return newAPIError(http.StatusNotFound, codeNotFound, msgResourceDoesNotExist)
}

func invalidSession() *apiError {
	return newAPIError(http.StatusUnauthorized, codeInvalidSession, "Session expired or invalid")
}

// writeJSON writes v as the JSON response body. Like Salesforce, it leaves
// <, > and & unescaped.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// marshalJSON is json.Marshal without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// writeErrors writes errors as Salesforce does: a JSON array, with the status
// of the first.
func writeErrors(w http.ResponseWriter, errs ...*apiError) {
	status := http.StatusBadRequest
	if len(errs) > 0 && errs[0].status != 0 {
		status = errs[0].status
	}
	writeJSON(w, status, errs)
}

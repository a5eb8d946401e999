package cc

import "strings"

// Endpoint is where an agent takes calls.
type Endpoint string

// Endpoints.
const (
	EndpointBrowser  Endpoint = "browser"  // the panel's softphone (default)
	EndpointSIP      Endpoint = "sip"      // registered SIP phone and/or static contact
	EndpointExternal Endpoint = "external" // Parley calls ExternalNumber through the tenant's trunk
)

// Valid reports whether e is a known endpoint ("" is not: read a user's
// endpoint with User.EndpointKind).
func (e Endpoint) Valid() bool {
	return e == EndpointBrowser || e == EndpointSIP || e == EndpointExternal
}

// ParseEndpoint parses "browser", "sip" or "external" (case and surrounding
// space ignored). Anything else is EINVALID naming the three values.
func ParseEndpoint(s string) (Endpoint, error) {
	e := Endpoint(strings.ToLower(strings.TrimSpace(s)))
	if !e.Valid() {
		return "", Errorf(EINVALID, "endpoint %q: use browser (the panel's softphone), sip (a SIP phone or static contact) or external (a phone number Parley calls through the tenant's trunk)", s)
	}
	return e, nil
}

// EndpointKind returns where u takes calls: u.Endpoint, or EndpointBrowser
// when it is empty.
func (u *User) EndpointKind() Endpoint {
	if u.Endpoint == "" {
		return EndpointBrowser
	}
	return u.Endpoint
}

// validateEndpoint returns EINVALID when u's endpoint is unknown or lacks
// what it needs: a SIP username or static contact for sip, an E.164
// external number for external.
func (u *User) validateEndpoint() error {
	if u.Endpoint != "" && !u.Endpoint.Valid() {
		_, err := ParseEndpoint(string(u.Endpoint))
		return err
	}
	if u.ExternalNumber != "" && !IsE164(u.ExternalNumber) {
		return Errorf(EINVALID, "external number %q: give the number in E.164 form, such as +12015550123", u.ExternalNumber)
	}
	switch u.EndpointKind() {
	case EndpointSIP:
		if u.SIPUsername == "" && u.StaticContact == "" {
			return Errorf(EINVALID, "user %s takes calls on a SIP phone but has no SIP username and no static contact: set --sip-username or --static-contact (or choose --endpoint browser)", u.Username)
		}
	case EndpointExternal:
		if u.ExternalNumber == "" {
			return Errorf(EINVALID, "user %s takes calls on an external number but has none: set --external-number, such as +12015550123", u.Username)
		}
	}
	return nil
}

// BrowserAudio tells whether an agent's panel has a live audio connection
// (the softphone hub implements it; nil means none has).
type BrowserAudio interface {
	AudioConnected(tenantID, userID string) bool
}

// DialURI returns the SIP URI that reaches number through the trunk: its
// OutboundURI with number (E.164) as the user part, replacing any user part
// the URI has; the URI's parameters are kept. The URI is assumed valid (see
// Trunk.Validate).
func (t *Trunk) DialURI(number string) string {
	scheme, rest := "sip:", t.OutboundURI
	if r, ok := strings.CutPrefix(rest, "sips:"); ok {
		scheme, rest = "sips:", r
	} else {
		rest = strings.TrimPrefix(rest, "sip:")
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	return scheme + number + "@" + rest
}

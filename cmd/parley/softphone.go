package main

import (
	"context"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/config"
	"github.com/parley-cc/parley/internal/httpapi"
	"github.com/parley-cc/parley/internal/softphone"
	"github.com/parley-cc/parley/internal/telephony"
)

// browserAudio joins the softphone hub (the panel's WebRTC audio) to the
// API (signalling on the events socket), the SIP side (the legs a call
// bridges) and the contact center (whether a browser agent can take calls).
type browserAudio struct {
	hub *softphone.Hub
	ice []httpapi.ICEServer
}

var (
	_ httpapi.Softphone     = (*browserAudio)(nil)
	_ telephony.BrowserLegs = (*browserAudio)(nil)
)

// newBrowserAudio builds the hub from the webrtc settings.
func newBrowserAudio(c config.Config, m *Main) (*browserAudio, error) {
	lo, hi, err := c.WebRTCPorts()
	if err != nil {
		return nil, err
	}
	var servers []softphone.ICEServer
	var ice []httpapi.ICEServer
	for _, u := range c.ICEServerURLs() {
		s := softphone.ICEServer{URLs: []string{u}}
		if strings.HasPrefix(u, "turn") {
			s.Username, s.Credential = c.WebRTC.ICEUsername, c.WebRTC.ICECredential
		}
		servers = append(servers, s)
		ice = append(ice, httpapi.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	hub, err := softphone.New(softphone.Config{
		ICEServers: servers, PublicIPs: c.WebRTCPublicIPs(), PortMin: uint16(lo), PortMax: uint16(hi),
		Grace: c.WebRTC.Grace.D(), Log: m.Logger.With("component", "softphone"),
	})
	if err != nil {
		return nil, err
	}
	return &browserAudio{hub: hub, ice: ice}, nil
}

func principalKey(p *cc.Principal) softphone.Key {
	return softphone.Key{TenantID: p.Tenant.ID, UserID: p.User.ID}
}

// Offer answers the panel's offer (httpapi.Softphone).
func (b *browserAudio) Offer(ctx context.Context, p *cc.Principal, owner, sdp string, ended func(string)) (string, error) {
	return b.hub.OfferNotify(ctx, principalKey(p), owner, sdp, ended)
}

// Release ends the socket's leg (httpapi.Softphone).
func (b *browserAudio) Release(p *cc.Principal, owner, reason string) {
	b.hub.Release(principalKey(p), owner, reason)
}

// ICEServers are what the panel configures (httpapi.Softphone).
func (b *browserAudio) ICEServers() []httpapi.ICEServer { return b.ice }

// Wait returns the agent's live leg (telephony.BrowserLegs).
func (b *browserAudio) Wait(ctx context.Context, tenantID, userID string) (telephony.BrowserLeg, error) {
	l, err := b.hub.Wait(ctx, softphone.Key{TenantID: tenantID, UserID: userID})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// register exposes the number of legs as parley_softphone_legs.
func (b *browserAudio) register(reg *prometheus.Registry) error {
	return reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_softphone_legs",
		Help: "Browser audio legs (the panels' WebRTC connections), live or connecting.",
	}, func() float64 { return float64(b.hub.Legs()) }))
}

package salesforce

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/parley-cc/parley/internal/cc"
)

// ProviderOptions configure the clients a Provider builds.
type ProviderOptions struct {
	// Options apply to every tenant's client; the provider adds the tenant
	// to the logger's attributes.
	Options
}

// Provider gives each tenant with a Salesforce connection its client. It
// keeps one client per tenant, with its signed-in session, and builds a new
// one when the tenant's connection or phone region changes. It implements
// cc.CRMProvider and is safe for concurrent use.
type Provider struct {
	opts ProviderOptions

	mu      sync.Mutex
	clients map[string]providerEntry // by tenant id
}

type providerEntry struct {
	hash   [sha256.Size]byte
	client *Client
}

var _ cc.CRMProvider = (*Provider)(nil)

// NewProvider returns a provider. It does no I/O.
func NewProvider(opts ProviderOptions) *Provider {
	return &Provider{opts: opts, clients: make(map[string]providerEntry)}
}

// CRM returns the tenant's Salesforce client, or nil (and no error) when the
// tenant has no CRM. It returns EINVALID when the connection is not usable.
func (p *Provider) CRM(ctx context.Context, t *cc.Tenant) (cc.CRM, error) {
	c, err := p.Client(t)
	if c == nil || err != nil {
		return nil, err
	}
	return c, nil
}

// Client is CRM with the concrete type, for readiness checks (Ping, Usage).
// It returns nil, nil when the tenant has no CRM.
func (p *Provider) Client(t *cc.Tenant) (*Client, error) {
	if t == nil {
		return nil, cc.Errorf(cc.EINVALID, "no tenant given")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.CRM.Kind == "" {
		delete(p.clients, t.ID)
		return nil, nil
	}
	h, err := connectionHash(t)
	if err != nil {
		return nil, err
	}
	if e, ok := p.clients[t.ID]; ok && e.hash == h {
		return e.client, nil
	}
	opts := p.opts.Options
	if opts.Logger != nil {
		opts.Logger = opts.Logger.With("tenant", t.Slug)
	}
	c, err := NewClient(t.CRM, t.Region, opts)
	if err != nil {
		delete(p.clients, t.ID)
		return nil, fmt.Errorf("salesforce connection of tenant %s: %w", t.Slug, err)
	}
	p.clients[t.ID] = providerEntry{hash: h, client: c}
	return c, nil
}

// connectionHash digests what a client is built from: the CRM connection
// and the phone region.
func connectionHash(t *cc.Tenant) ([sha256.Size]byte, error) {
	b, err := json.Marshal(struct {
		CRM    cc.CRMConnection
		Region string
	}{t.CRM, t.Region})
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("hash CRM connection: %w", err)
	}
	return sha256.Sum256(b), nil
}

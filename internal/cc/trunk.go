package cc

import (
	"context"
	"net/netip"
	"strings"
	"time"
)

// Trunk is a SIP peer (a carrier or a PBX) allowed to send calls to a tenant.
// It is defined by the source addresses it sends from.
type Trunk struct {
	ID       string
	TenantID string
	Name     string
	// CIDRs are the allowed source networks, e.g. "203.0.113.0/24" or "::1/128".
	CIDRs []netip.Prefix
	// OutboundURI is where Parley sends outbound calls, e.g.
	// "sip:gateway.example.net:5060"; the dialled number becomes the user part.
	OutboundURI string
	CreatedAt   time.Time
}

// Allows reports whether a source address belongs to the trunk.
func (t *Trunk) Allows(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range t.CIDRs {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ParseCIDRs parses a comma-separated list of networks or single addresses.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			if a := p.Addr(); a.Is4In6() {
				// Allows unmaps sources, so a v4-mapped network must be
				// stored as the IPv4 network it stands for.
				if p.Bits() < 96 {
					return nil, Errorf(EINVALID, "trunk source %q mixes IPv4-mapped and other IPv6 addresses: give the IPv4 network, such as 203.0.113.0/24", part)
				}
				p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, Errorf(EINVALID, "trunk source %q: give a network such as 203.0.113.0/24 or an address such as 198.51.100.7", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Validate returns EINVALID naming the first field that is wrong.
func (t *Trunk) Validate() error {
	if t.TenantID == "" {
		return Errorf(EINVALID, "trunk has no tenant")
	}
	if !validSlug(normalizeName(t.Name), 63) {
		return Errorf(EINVALID, "trunk name %q: use 1-63 letters, digits, '-', '_' or '.'", t.Name)
	}
	if len(t.CIDRs) == 0 {
		return Errorf(EINVALID, "trunk %s has no allowed source networks", t.Name)
	}
	if t.OutboundURI != "" {
		if err := ValidateSIPURI(t.OutboundURI); err != nil {
			return err
		}
	}
	return nil
}

// TrunkStore stores trunks.
type TrunkStore interface {
	// CreateTrunk stores a new trunk. ECONFLICT if the name is taken in the tenant.
	CreateTrunk(ctx context.Context, t *Trunk) error
	// UpdateTrunk replaces a trunk's fields. ENOTFOUND if absent.
	UpdateTrunk(ctx context.Context, t *Trunk) error
	// Trunks returns the tenant's trunks, or every tenant's when tenantID is
	// empty, ordered by tenant and name.
	Trunks(ctx context.Context, tenantID string) ([]*Trunk, error)
}

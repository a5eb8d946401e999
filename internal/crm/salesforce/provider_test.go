package salesforce

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func TestProvider(t *testing.T) {
	o := newFakeOrg(t)
	p := NewProvider(ProviderOptions{})
	ctx := context.Background()
	tenant := &cc.Tenant{ID: "ten_1", Slug: "acme", Region: "US", CRM: o.conn()}

	crm, err := p.CRM(ctx, tenant)
	if err != nil || crm == nil {
		t.Fatalf("CRM = %v, %v", crm, err)
	}
	again, err := p.CRM(ctx, tenant)
	if err != nil || again != crm {
		t.Errorf("second CRM = %p, %v; want the cached client %p", again, err, crm)
	}
	same := *tenant // an equal copy, as a store would load it
	same.CRM.PrivateKey = append([]byte(nil), tenant.CRM.PrivateKey...)
	if c, _ := p.CRM(ctx, &same); c != crm {
		t.Errorf("an equal connection built a new client")
	}

	changed := *tenant
	changed.CRM.APIVersion = "64.0"
	c2, err := p.CRM(ctx, &changed)
	if err != nil || c2 == crm || c2.(*Client).APIVersion() != "64.0" {
		t.Errorf("changed connection: %v, %v; want a new client on 64.0", c2, err)
	}
	region := changed
	region.Region = "GB"
	if c3, _ := p.CRM(ctx, &region); c3 == c2 {
		t.Errorf("a changed region kept the old client")
	}

	other := &cc.Tenant{ID: "ten_2", Slug: "globex", Region: "US", CRM: o.conn()}
	if c4, _ := p.CRM(ctx, other); c4 == nil || c4 == crm {
		t.Errorf("another tenant shares a client")
	}

	none := &cc.Tenant{ID: "ten_1", Slug: "acme", Region: "US"}
	c5, err := p.CRM(ctx, none)
	if err != nil || c5 != nil {
		t.Fatalf("CRM without a connection = %#v, %v; want nil, nil", c5, err)
	}
	if cl, err := p.Client(none); cl != nil || err != nil {
		t.Errorf("Client without a connection = %v, %v", cl, err)
	}

	bad := *tenant
	bad.CRM.ClientID = ""
	if c, err := p.CRM(ctx, &bad); c != nil || cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(err.Error(), "acme") {
		t.Errorf("bad connection = %v, %v; want EINVALID naming the tenant", c, err)
	}
	if _, err := p.CRM(ctx, nil); cc.ErrorCode(err) != cc.EINVALID {
		t.Errorf("nil tenant error %v", err)
	}
}

func TestProviderClientWorks(t *testing.T) {
	o := newFakeOrg(t)
	o.rest = searchServing(t)
	p := NewProvider(ProviderOptions{Options: Options{Logger: testLogger(t)}})
	crm, err := p.CRM(context.Background(), &cc.Tenant{ID: "ten_1", Slug: "acme", Region: "US", CRM: o.conn()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crm.FindByPhone(context.Background(), "+12015550123"); err != nil {
		t.Fatal(err)
	}
}

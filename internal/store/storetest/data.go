package storetest

import (
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// testSearchData checks what search on arbitrary data stores: a queue's
// screen-pop timing and search fields, an entry point's digit collection,
// and an interaction's data, screen pop and match keys.
func testSearchData(f *fixture) {
	acme := f.tenant("acme")
	q := f.queue(acme, "Support")
	got, err := f.s.Queue(f.ctx, acme.ID, q.ID)
	f.must(err, "read queue")
	if got.SearchFields != nil || got.PopTiming() != cc.ScreenPopAnswer {
		f.t.Errorf("a queue stored without them has search fields %v and screen pop %q", got.SearchFields, got.PopTiming())
	}

	q.ScreenPop = cc.ScreenPopOffer
	q.SearchFields = []cc.SearchField{
		{Key: "account_number", Object: "Account", Field: "AccountNumber"},
		{Key: "email", Object: "Contact", Field: "Email"},
	}
	f.must(f.s.UpdateQueue(f.ctx, q), "update queue with search fields")
	got, err = f.s.QueueByName(f.ctx, acme.ID, "support")
	f.must(err, "read queue")
	f.equal(got, q, "queue with screen pop and search fields")
	q.SearchFields = nil
	q.ScreenPop = cc.ScreenPopAnswer
	f.must(f.s.UpdateQueue(f.ctx, q), "clear search fields")
	got, err = f.s.Queue(f.ctx, acme.ID, q.ID)
	f.must(err, "read queue")
	f.equal(got, q, "queue with its search fields cleared")
	bad := *q
	bad.SearchFields = []cc.SearchField{{Key: "account_number", Object: "Account", Field: "Account Number"}}
	f.wantCode(f.s.UpdateQueue(f.ctx, &bad), cc.EINVALID, "update queue with a bad search field")
	bad.SearchFields, bad.ScreenPop = nil, "ring"
	f.wantCode(f.s.UpdateQueue(f.ctx, &bad), cc.EINVALID, "update queue with a bad screen pop")

	ep := &cc.EntryPoint{TenantID: acme.ID, Number: "+15550101", QueueID: q.ID, CreatedAt: t0,
		Collect: &cc.DigitCollection{Key: "account_number", Prompt: "enter-account.wav", MaxDigits: 8, Timeout: 4 * time.Second}}
	f.must(f.s.CreateEntryPoint(f.ctx, ep), "create entry point that collects digits")
	plain := f.entryPoint(acme, q, "+15550102")
	gotEP, err := f.s.EntryPointByNumber(f.ctx, acme.ID, "+15550101")
	f.must(err, "read entry point")
	f.equal(gotEP, ep, "entry point with a digit collection")
	list, err := f.s.EntryPoints(f.ctx, acme.ID)
	f.must(err, "list entry points")
	f.equal(list, []*cc.EntryPoint{ep, plain}, "entry points with and without a digit collection")
	f.wantCode(f.s.CreateEntryPoint(f.ctx, &cc.EntryPoint{TenantID: acme.ID, Number: "+15550103", QueueID: q.ID,
		Collect: &cc.DigitCollection{Key: "account_number", MaxDigits: 40}}), cc.EINVALID, "create entry point collecting 40 digits")

	it := newInteraction(acme, t0)
	it.Data = map[string]string{"account_number": "12345678", "note": `O'Brien \ 100% _x`}
	it.ScreenPop = cc.ScreenPopOffer
	it.Matches = []cc.CRMRecord{{Type: "Account", ID: "001x", Name: "Acme", MatchedBy: "account_number"}}
	it.LinkedRecord = &it.Matches[0]
	f.interaction(it)
	gotIt, err := f.s.Interaction(f.ctx, acme.ID, it.ID)
	f.must(err, "read interaction")
	f.equal(gotIt, it, "interaction with data, screen pop and match keys")
	it.ScreenPop = cc.ScreenPopAnswer
	it.Matches[0].MatchedBy = cc.MatchedByPhone
	f.must(f.s.UpdateInteraction(f.ctx, it, cc.InteractionChange{}), "update interaction")
	gotIt, err = f.s.Interaction(f.ctx, acme.ID, it.ID)
	f.must(err, "read interaction")
	f.equal(gotIt, it, "updated interaction's screen pop and match keys")
}

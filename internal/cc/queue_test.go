package cc_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// validQueue returns a normalised queue that passes Validate.
func validQueue() *cc.Queue {
	q := &cc.Queue{ID: "que_1", TenantID: "ten_1", Name: "Sales"}
	q.Normalize()
	return q
}

func TestQueueNormalize(t *testing.T) {
	q := &cc.Queue{Name: "  Sales  "}
	q.Normalize()
	if q.Name != "Sales" || q.ServiceLevel != cc.DefaultServiceLevel || q.OfferTimeout != cc.DefaultOfferTimeout || q.WrapUp != 0 {
		t.Errorf("normalised queue: %+v", q)
	}
	for _, tc := range []struct {
		name   string
		skills []string
		want   []string
	}{
		{"Sales", nil, []string{"sales"}},
		{"Sales Team", nil, []string{"sales-team"}},
		{"Support (EN)", nil, []string{"support-en"}},
		{"Après-vente / Suisse", nil, []string{"apr-s-vente-suisse"}},
		{"  --Sales--  ", nil, []string{"sales"}},
		{"_ (Sales)", nil, []string{"sales"}},
		{strings.Repeat("Long name ", 8), nil, []string{strings.Repeat("long-name-", 6) + "long"}},
		{"VIP", []string{" Gold ", "EN"}, []string{"gold", "en"}},
	} {
		q := &cc.Queue{TenantID: "ten_1", Name: tc.name, Skills: tc.skills}
		q.Normalize()
		if !slices.Equal(q.Skills, tc.want) {
			t.Errorf("queue %q with skills %v: normalised skills %v, want %v", tc.name, tc.skills, q.Skills, tc.want)
		}
		if err := q.Validate(); err != nil {
			t.Errorf("queue %q: %v", tc.name, err)
		}
	}
}

func TestQueueNormalizeNameWithoutASCII(t *testing.T) {
	q := &cc.Queue{TenantID: "ten_1", Name: "日本"}
	q.Normalize()
	checkErr(t, q.Validate(), cc.EINVALID, `queue 日本: skill "日本"`)
}

func TestQueueValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*cc.Queue)
		msg  string // "" when valid
	}{
		{"defaults", func(*cc.Queue) {}, ""},
		{"every limit at its edge", func(q *cc.Queue) {
			q.Name, q.Priority = strings.Repeat("q", 80), 100
			q.ServiceLevel, q.WrapUp, q.OfferTimeout, q.MaxWait = time.Hour, 2*time.Hour, 5*time.Minute, 24*time.Hour
			q.OverflowQueueID = "que_2"
			q.Dispositions = []string{"Sold", strings.Repeat("d", 255)}
			q.Announcement, q.HoldMusic = "welcome.wav", "Jazz.WAV"
		}, ""},
		{"no tenant", func(q *cc.Queue) { q.TenantID = "" }, "queue has no tenant"},
		{"no name", func(q *cc.Queue) { q.Name = "" }, `queue name ""`},
		{"81-byte name", func(q *cc.Queue) { q.Name = strings.Repeat("q", 81) }, "use 1-80 characters on one line"},
		{"name on two lines", func(q *cc.Queue) { q.Name = "Sales\nEU" }, `queue name "Sales\nEU"`},
		{"name with a tab", func(q *cc.Queue) { q.Name = "Sales\tEU" }, `queue name "Sales\tEU"`},
		{"negative priority", func(q *cc.Queue) { q.Priority = -1 }, "priority -1"},
		{"priority above 100", func(q *cc.Queue) { q.Priority = 101 }, "priority 101"},
		{"upper-case skill", func(q *cc.Queue) { q.Skills = []string{"Sales"} }, `skill "Sales"`},
		{"service level under a second", func(q *cc.Queue) { q.ServiceLevel = 500 * time.Millisecond }, "service level 500ms"},
		{"service level over an hour", func(q *cc.Queue) { q.ServiceLevel = time.Hour + time.Second }, "service level 1h0m1s"},
		{"negative wrap-up", func(q *cc.Queue) { q.WrapUp = -time.Second }, "wrap-up -1s"},
		{"wrap-up over two hours", func(q *cc.Queue) { q.WrapUp = 3 * time.Hour }, "wrap-up 3h0m0s"},
		{"offer timeout under 3s", func(q *cc.Queue) { q.OfferTimeout = 2 * time.Second }, "offer timeout 2s"},
		{"offer timeout over 5m", func(q *cc.Queue) { q.OfferTimeout = 6 * time.Minute }, "offer timeout 6m0s"},
		{"negative max wait", func(q *cc.Queue) { q.MaxWait = -time.Second }, "max wait -1s"},
		{"max wait over a day", func(q *cc.Queue) { q.MaxWait = 25 * time.Hour }, "max wait 25h0m0s"},
		{"overflow into itself", func(q *cc.Queue) { q.OverflowQueueID = q.ID }, "queue Sales overflows into itself"},
		{"blank disposition", func(q *cc.Queue) { q.Dispositions = []string{" "} }, `disposition " "`},
		{"256-byte disposition", func(q *cc.Queue) { q.Dispositions = []string{strings.Repeat("d", 256)} }, "use 1-255 characters"},
		{"announcement with a path", func(q *cc.Queue) { q.Announcement = "../secret.wav" }, `sound "../secret.wav"`},
		{"hold music in a folder", func(q *cc.Queue) { q.HoldMusic = "music/jazz.wav" }, `sound "music/jazz.wav"`},
		{"hold music with a backslash", func(q *cc.Queue) { q.HoldMusic = `music\jazz.wav` }, `sound "music\\jazz.wav"`},
		{"hidden sound file", func(q *cc.Queue) { q.Announcement = ".welcome.wav" }, `sound ".welcome.wav"`},
		{"not a WAV file", func(q *cc.Queue) { q.HoldMusic = "jazz.mp3" }, `sound "jazz.mp3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := validQueue()
			tc.edit(q)
			checkErr(t, q.Validate(), cc.EINVALID, tc.msg)
		})
	}
}

func TestQueueDispositionsFor(t *testing.T) {
	tenant := validTenant()
	if got := validQueue().DispositionsFor(tenant); !slices.Equal(got, cc.DefaultDispositions) {
		t.Errorf("queue without dispositions: %v, want the tenant's %v", got, cc.DefaultDispositions)
	}
	q := validQueue()
	q.Dispositions = []string{"Sold", "Not interested"}
	if got := q.DispositionsFor(tenant); !slices.Equal(got, q.Dispositions) {
		t.Errorf("queue with dispositions: %v, want its own %v", got, q.Dispositions)
	}
}

func TestEntryPointValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*cc.EntryPoint)
		msg  string // "" when valid
	}{
		{"E.164 number", func(*cc.EntryPoint) {}, ""},
		{"shortest E.164 number", func(e *cc.EntryPoint) { e.Number = "+12" }, ""},
		{"longest E.164 number", func(e *cc.EntryPoint) { e.Number = "+123456789012345" }, ""},
		{"alias", func(e *cc.EntryPoint) { e.Number = "sales" }, ""},
		{"alias with digits and punctuation", func(e *cc.EntryPoint) { e.Number = "sales-eu.2_b" }, ""},
		{"one-letter alias", func(e *cc.EntryPoint) { e.Number = "s" }, ""},
		{"32-byte alias", func(e *cc.EntryPoint) { e.Number = strings.Repeat("s", 32) }, ""},
		{"80-byte name", func(e *cc.EntryPoint) { e.Name = strings.Repeat("n", 80) }, ""},
		{"no tenant", func(e *cc.EntryPoint) { e.TenantID = "" }, "entry point +15550100 needs a tenant and a queue"},
		{"no queue", func(e *cc.EntryPoint) { e.QueueID = "" }, "needs a tenant and a queue"},
		{"empty number", func(e *cc.EntryPoint) { e.Number = "" }, `entry point number ""`},
		{"plus and one digit", func(e *cc.EntryPoint) { e.Number = "+1" }, `entry point number "+1"`},
		{"16 digits", func(e *cc.EntryPoint) { e.Number = "+1234567890123456" }, `entry point number "+1234567890123456"`},
		{"no plus", func(e *cc.EntryPoint) { e.Number = "15550100" }, `entry point number "15550100"`},
		{"number with a space", func(e *cc.EntryPoint) { e.Number = "+1 5550100" }, `entry point number "+1 5550100"`},
		{"number with a letter", func(e *cc.EntryPoint) { e.Number = "+1555CALLME" }, `entry point number "+1555CALLME"`},
		{"upper-case alias", func(e *cc.EntryPoint) { e.Number = "Sales" }, `entry point number "Sales"`},
		{"alias starting with a digit", func(e *cc.EntryPoint) { e.Number = "1800sales" }, `entry point number "1800sales"`},
		{"alias starting with punctuation", func(e *cc.EntryPoint) { e.Number = "_sales" }, `entry point number "_sales"`},
		{"33-byte alias", func(e *cc.EntryPoint) { e.Number = strings.Repeat("s", 33) }, "or a SIP alias such as sales"},
		{"alias with an at sign", func(e *cc.EntryPoint) { e.Number = "sales@pbx" }, `entry point number "sales@pbx"`},
		{"81-byte name", func(e *cc.EntryPoint) { e.Name = strings.Repeat("n", 81) }, "entry point name is longer than 80 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &cc.EntryPoint{TenantID: "ten_1", QueueID: "que_1", Number: "+15550100", Name: "Main line"}
			tc.edit(e)
			checkErr(t, e.Validate(), cc.EINVALID, tc.msg)
		})
	}
}

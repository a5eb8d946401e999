package cc_test

import (
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func TestWrapUpValidate(t *testing.T) {
	for _, tc := range []struct {
		name         string
		wrapUp       cc.WrapUp
		dispositions []string
		want         string // the disposition kept
		msg          string // "" when valid
	}{
		{"nothing", cc.WrapUp{}, cc.DefaultDispositions, "", ""},
		{"a disposition as listed", cc.WrapUp{Disposition: "Resolved"}, cc.DefaultDispositions, "Resolved", ""},
		{"a disposition in another case", cc.WrapUp{Disposition: "resolved"}, cc.DefaultDispositions, "Resolved", ""},
		{"a disposition with spaces around", cc.WrapUp{Disposition: "  wrong NUMBER "}, cc.DefaultDispositions, "Wrong number", ""},
		{"a blank disposition is none", cc.WrapUp{Disposition: "   "}, cc.DefaultDispositions, "", ""},
		{"an unknown disposition", cc.WrapUp{Disposition: "Sold"}, []string{"Resolved", "Follow-up"}, "",
			`disposition "Sold" is not one of this queue's: Resolved, Follow-up`},
		{"any disposition when there is no list", cc.WrapUp{Disposition: " Sold "}, nil, "Sold", ""},
		{"a 255-byte disposition when there is no list", cc.WrapUp{Disposition: strings.Repeat("d", 255)}, nil, strings.Repeat("d", 255), ""},
		{"a 256-byte disposition when there is no list", cc.WrapUp{Disposition: strings.Repeat("d", 256)}, nil, "", "disposition is 256 bytes; the limit is 255"},
		{"a disposition that is not UTF-8 when there is no list", cc.WrapUp{Disposition: "Sold \xff"}, nil, "", "disposition is not valid UTF-8 text"},
		{"notes at the limit", cc.WrapUp{Notes: strings.Repeat("é", cc.MaxNotesBytes/2)}, nil, "", ""},
		{"notes over the limit", cc.WrapUp{Notes: strings.Repeat("n", cc.MaxNotesBytes+1)}, nil, "", "notes are 65537 bytes; the limit is 65536 bytes"},
		{"notes that are not UTF-8", cc.WrapUp{Notes: "caller said \xff\xfe"}, nil, "", "notes are not valid UTF-8 text"},
		{"notes with a cut character", cc.WrapUp{Notes: "café"[:4]}, nil, "", "notes are not valid UTF-8 text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.wrapUp
			checkErr(t, w.Validate(tc.dispositions), cc.EINVALID, tc.msg)
			if tc.msg == "" && w.Disposition != tc.want {
				t.Errorf("disposition %q, want %q", w.Disposition, tc.want)
			}
		})
	}
}

package cc

import (
	"strings"
	"unicode/utf8"
)

// MaxNotesBytes bounds wrap-up notes kept in Parley (the CRM copy is cut to
// the tenant's cap; Parley keeps the whole text up to this size).
const MaxNotesBytes = 64 * 1024

// WrapUp is what an agent submits after an interaction.
type WrapUp struct {
	Notes       string
	Disposition string
	// RecordID links the interaction to one of its CRM matches (the agent's
	// pick when several matched). Empty keeps the current link.
	RecordID string
}

// Validate checks the wrap-up against the allowed dispositions.
func (w *WrapUp) Validate(dispositions []string) error {
	if !utf8.ValidString(w.Notes) {
		return Errorf(EINVALID, "notes are not valid UTF-8 text")
	}
	if len(w.Notes) > MaxNotesBytes {
		return Errorf(EINVALID, "notes are %d bytes; the limit is %d bytes", len(w.Notes), MaxNotesBytes)
	}
	w.Disposition = strings.TrimSpace(w.Disposition)
	if w.Disposition != "" && len(dispositions) > 0 {
		for _, d := range dispositions {
			if strings.EqualFold(d, w.Disposition) {
				w.Disposition = d
				return nil
			}
		}
		return Errorf(EINVALID, "disposition %q is not one of this queue's: %s", w.Disposition, strings.Join(dispositions, ", "))
	}
	// Without a list the disposition is free text, bounded as listed ones are
	// (the CRM's call disposition field holds 255 characters).
	if !utf8.ValidString(w.Disposition) {
		return Errorf(EINVALID, "disposition is not valid UTF-8 text")
	}
	if len(w.Disposition) > 255 {
		return Errorf(EINVALID, "disposition is %d bytes; the limit is 255 bytes", len(w.Disposition))
	}
	return nil
}

// Package crmlog builds the activity Parley writes to the CRM for a finished
// interaction (the auto-log): its Subject, its readable Description and the
// call fields, with the Description cut to the tenant's byte cap on a
// character and grapheme-cluster boundary, and a visible marker saying where
// the full text is kept.
package crmlog

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/phone"
)

// MaxSubjectChars is the length of the CRM's Subject and Disposition fields.
const MaxSubjectChars = 255

// Input is what Build needs besides the interaction's own fields.
type Input struct {
	Tenant      *cc.Tenant // time zone, region, CRM.LogCapBytes, CRM.BaseURL
	Interaction *cc.Interaction
	QueueName   string
	AgentName   string
}

// Build returns the CRM log for a finished interaction, and its full, uncut
// Description text.
//
// Subject is one line such as "Inbound call from (201) 555-0123 – Sales" or
// "Abandoned inbound call from Withheld number – Sales", cut to 255
// characters. Description is a multi-line text with the direction, the
// customer (the number formatted in the tenant's region, or "Withheld
// number"), the dialled number, queue, agent, start time in the tenant's time
// zone ("2026-12-03 12:34:56 EST"), wait, talk and wrap-up times ("1m05s"),
// outcome, disposition and the notes verbatim. It is cut to the tenant's
// CRM.LogCapBytes (cc.DefaultLogCapBytes when unset) with a marker that says
// it was cut and where the full text is: BaseURL +
// "/api/v1/interactions/<id>/log" when the tenant has a BaseURL, else "full
// text kept in Parley, interaction <id>"; Truncated is then set.
//
// DurationSec is the talk time in seconds; ActivityDate the start date in the
// tenant's zone (YYYY-MM-DD); Disposition is cut to 255 characters; a linked
// Contact or Lead becomes WhoID, any other linked record WhatID. A nil Tenant
// means UTC, no region and the default cap; Interaction must not be nil.
func Build(in Input) (log *cc.CallLog, full string) {
	t := in.Tenant
	if t == nil {
		t = &cc.Tenant{}
	}
	it := in.Interaction
	loc := t.Location()
	start := startTime(it).In(loc)
	full = description(in, t, start)

	limit := t.CRM.LogCapBytes
	if limit <= 0 {
		limit = cc.DefaultLogCapBytes
	}
	desc, cut := CutBytes(full, limit, marker(t, it.ID))

	log = &cc.CallLog{
		InteractionID: it.ID,
		Subject:       CutChars(subject(in, t), MaxSubjectChars),
		Description:   desc,
		Truncated:     cut,
		Direction:     it.Direction,
		DurationSec:   int(it.TalkTime().Round(time.Second) / time.Second),
		Disposition:   CutChars(it.Disposition, MaxSubjectChars),
		StartedAt:     startTime(it),
	}
	if !start.IsZero() {
		log.ActivityDate = start.Format(time.DateOnly)
	}
	if rec := it.LinkedRecord; rec != nil && rec.ID != "" {
		if strings.EqualFold(rec.Type, "Contact") || strings.EqualFold(rec.Type, "Lead") {
			log.WhoID = rec.ID
		} else {
			log.WhatID = rec.ID
		}
	}
	return log, full
}

// startTime is when the interaction began: its creation, or the first of
// its other timestamps that is set.
func startTime(it *cc.Interaction) time.Time {
	for _, at := range []time.Time{it.CreatedAt, it.QueuedAt, it.OfferedAt, it.AnsweredAt, it.EndedAt} {
		if !at.IsZero() {
			return at
		}
	}
	return time.Time{}
}

// marker is appended to a cut Description.
func marker(t *cc.Tenant, id string) string {
	if base := strings.TrimRight(t.CRM.BaseURL, "/"); base != "" {
		return "\n…(truncated; full text: " + base + "/api/v1/interactions/" + url.PathEscape(id) + "/log)"
	}
	return "\n…(truncated; full text kept in Parley, interaction " + id + ")"
}

// subject is the one-line summary, before cutting.
func subject(in Input, t *cc.Tenant) string {
	it := in.Interaction
	var b strings.Builder
	if p := outcomePrefix[it.Outcome]; p != "" {
		b.WriteString(p + " " + strings.ToLower(directionName(it.Direction)))
	} else {
		b.WriteString(directionName(it.Direction))
	}
	b.WriteString(" " + channelNoun(it.Channel))
	if it.Direction == cc.Outbound {
		b.WriteString(" to ")
	} else {
		b.WriteString(" from ")
	}
	b.WriteString(customerShort(it, t.Region))
	if q := oneLine(in.QueueName); q != "" {
		b.WriteString(" – " + q)
	}
	return b.String()
}

// outcomePrefix qualifies the Subject of interactions that did not end in a
// conversation.
var outcomePrefix = map[cc.Outcome]string{
	cc.OutcomeAbandoned: "Abandoned",
	cc.OutcomeMaxWait:   "Unanswered",
	cc.OutcomeFailed:    "Failed",
	cc.OutcomeSystem:    "Interrupted",
}

// outcomeText describes each outcome in the Description.
var outcomeText = map[cc.Outcome]string{
	cc.OutcomeAnswered:  "answered",
	cc.OutcomeAbandoned: "abandoned: the customer left before an agent answered",
	cc.OutcomeMaxWait:   "not answered: the queue's maximum wait ran out",
	cc.OutcomeFailed:    "not connected",
	cc.OutcomeSystem:    "interrupted: Parley stopped during the interaction",
}

func directionName(d cc.Direction) string {
	if d == cc.Outbound {
		return "Outbound"
	}
	return "Inbound"
}

func channelNoun(c cc.Channel) string {
	switch c {
	case cc.ChannelChat:
		return "chat"
	case cc.ChannelVoicemail:
		return "voicemail"
	}
	return "call"
}

// customerShort names the customer for the Subject: the number for calls
// and voicemail, the e-mail address (or name) for chats.
func customerShort(it *cc.Interaction, region string) string {
	c := it.Customer
	if it.Channel == cc.ChannelChat {
		if s := firstNonEmpty(oneLine(c.Email), oneLine(c.Name)); s != "" {
			return s
		}
		return "unknown customer"
	}
	return customerNumber(c, region)
}

// customerNumber formats the customer's number with internal/phone.
func customerNumber(c cc.Customer, region string) string {
	n := phone.Number{E164: c.Number, Extension: c.Extension, Raw: c.Raw, Withheld: c.Withheld}
	if !n.Withheld && n.E164 == "" && strings.TrimSpace(n.Raw) == "" {
		return "unknown number"
	}
	return oneLine(phone.Format(n, region))
}

// description is the full Description text.
func description(in Input, t *cc.Tenant, start time.Time) string {
	it := in.Interaction
	var b strings.Builder
	line := func(label, value string) {
		if value != "" {
			b.WriteString(label + ": " + value + "\n")
		}
	}
	line("Direction", directionName(it.Direction)+" "+channelNoun(it.Channel))
	c := it.Customer
	switch {
	case it.Channel == cc.ChannelChat:
		who := oneLine(c.Name)
		if e := oneLine(c.Email); e != "" {
			who = strings.TrimSpace(who + " <" + e + ">")
		}
		line("Customer", firstNonEmpty(who, "unknown customer"))
	default:
		label := "Caller"
		if it.Direction == cc.Outbound {
			label = "Called"
		}
		line(label, customerNumber(c, t.Region))
		line(label+" name", oneLine(c.Name))
		if it.Channel == cc.ChannelPhone && it.DialedNumber != "" {
			line("Dialled number", oneLine(phone.Format(phone.Number{E164: it.DialedNumber}, t.Region)))
		}
	}
	line("Queue", oneLine(in.QueueName))
	line("Agent", oneLine(in.AgentName))
	if !start.IsZero() {
		line("Started", start.Format("2006-01-02 15:04:05 MST"))
	}
	if !it.QueuedAt.IsZero() {
		line("Wait", formatDuration(it.WaitTime()))
	}
	if !it.AnsweredAt.IsZero() {
		line("Talk", formatDuration(it.TalkTime()))
		if !it.WrappedAt.IsZero() {
			line("Wrap-up", formatDuration(it.WrapTime()))
		}
	}
	line("Outcome", firstNonEmpty(outcomeText[it.Outcome], string(it.Outcome)))
	line("Disposition", oneLine(it.Disposition))
	line("Parley interaction", it.ID)
	if it.Notes != "" {
		b.WriteString("\nNotes:\n" + it.Notes)
		if !strings.HasSuffix(it.Notes, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// formatDuration writes d rounded to seconds as "12s", "1m05s" or "1h02m05s".
func formatDuration(d time.Duration) string {
	d = max(d.Round(time.Second), 0)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// oneLine trims s and turns its control characters (line breaks, tabs) into
// spaces, for values shown on one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r < 0x20 || r == 0x7F || r == '\u2028' || r == '\u2029' || r == 0x85
	}), " ")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

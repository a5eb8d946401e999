package crmlog

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests use America/New_York and Europe/Zurich on any machine
	"unicode/utf8"

	"github.com/parley-cc/parley/internal/cc"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedInteraction is an answered inbound call with an extension, wrap-up
// notes holding newlines and HTML-looking text, and a linked Contact.
func fixedInteraction() *cc.Interaction {
	at := time.Date(2026, 12, 3, 17, 34, 56, 0, time.UTC) // 12:34:56 EST
	return &cc.Interaction{
		ID:           "int_9d2k4m7q1x8c3v5b6n0p2r4t",
		TenantID:     "ten_1",
		Channel:      cc.ChannelPhone,
		Direction:    cc.Inbound,
		State:        cc.InteractionEnded,
		Outcome:      cc.OutcomeAnswered,
		Customer:     cc.Customer{Number: "+12015550123", Extension: "12", Raw: "2015550123 x12", Name: "Jane Roe"},
		DialedNumber: "+15550100",
		CreatedAt:    at,
		QueuedAt:     at.Add(time.Second),
		OfferedAt:    at.Add(10 * time.Second),
		AnsweredAt:   at.Add(13 * time.Second),
		EndedAt:      at.Add(13*time.Second + 65*time.Second),
		WrappedAt:    at.Add(13*time.Second + 65*time.Second + 30*time.Second),
		Disposition:  "Resolved",
		Notes:        "Customer asked about <b>invoice</b> #42 & \"late fees\".\nCall back Monday.\n\n  - indented line\r\nCRLF line",
		LinkedRecord: &cc.CRMRecord{Type: "Contact", ID: "003000000000001AAA", Name: "Jane Roe"},
	}
}

func usTenant() *cc.Tenant {
	return &cc.Tenant{
		Slug: "acme", Region: "US", TimeZone: "America/New_York",
		CRM: cc.CRMConnection{LogCapBytes: cc.DefaultLogCapBytes, BaseURL: "https://parley.example.com/"},
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name   string
		in     func() Input
		golden string
		check  func(t *testing.T, log *cc.CallLog, full string)
	}{
		{
			name:   "answered",
			golden: "answered.golden",
			in: func() Input {
				return Input{Tenant: usTenant(), Interaction: fixedInteraction(), QueueName: "Sales", AgentName: "Alice Agent"}
			},
			check: func(t *testing.T, log *cc.CallLog, full string) {
				want := cc.CallLog{
					InteractionID: "int_9d2k4m7q1x8c3v5b6n0p2r4t",
					Subject:       "Inbound call from (201) 555-0123 ext. 12 – Sales",
					Description:   full,
					Direction:     cc.Inbound,
					DurationSec:   65,
					Disposition:   "Resolved",
					ActivityDate:  "2026-12-03",
					StartedAt:     time.Date(2026, 12, 3, 17, 34, 56, 0, time.UTC),
					WhoID:         "003000000000001AAA",
				}
				if *log != want {
					t.Errorf("log =\n%+v\nwant\n%+v", *log, want)
				}
				if !strings.Contains(full, fixedInteraction().Notes) {
					t.Errorf("notes are not verbatim in the description")
				}
			},
		},
		{
			name:   "abandoned withheld",
			golden: "abandoned.golden",
			in: func() Input {
				it := fixedInteraction()
				it.Outcome = cc.OutcomeAbandoned
				it.Customer = cc.Customer{Raw: "anonymous", Withheld: true}
				it.OfferedAt, it.AnsweredAt, it.WrappedAt = time.Time{}, time.Time{}, time.Time{}
				it.EndedAt = it.QueuedAt.Add(42 * time.Second)
				it.Disposition, it.Notes, it.LinkedRecord = "", "", nil
				return Input{Tenant: usTenant(), Interaction: it, QueueName: "Sales"}
			},
			check: func(t *testing.T, log *cc.CallLog, full string) {
				if log.Subject != "Abandoned inbound call from Withheld number – Sales" {
					t.Errorf("Subject = %q", log.Subject)
				}
				if log.DurationSec != 0 || log.WhoID != "" || log.WhatID != "" || log.Truncated {
					t.Errorf("log = %+v: want no talk time, no link, not truncated", log)
				}
			},
		},
		{
			name:   "cut with base URL",
			golden: "cut-url.golden",
			in: func() Input {
				tn := usTenant()
				tn.CRM.LogCapBytes = 300
				it := fixedInteraction()
				it.Notes = strings.Repeat("Notes 日本語 👨\u200d👩\u200d👧 ", 40)
				it.LinkedRecord = &cc.CRMRecord{Type: "Account", ID: "001000000000001AAA"}
				return Input{Tenant: tn, Interaction: it, QueueName: "Sales", AgentName: "Alice Agent"}
			},
			check: func(t *testing.T, log *cc.CallLog, full string) {
				if !log.Truncated || len(log.Description) > 300 || !utf8.ValidString(log.Description) {
					t.Errorf("Description: %d bytes, truncated %v, valid %v; want cut to at most 300 bytes", len(log.Description), log.Truncated, utf8.ValidString(log.Description))
				}
				kept, ok := strings.CutSuffix(log.Description, "\n…(truncated; full text: https://parley.example.com/api/v1/interactions/int_9d2k4m7q1x8c3v5b6n0p2r4t/log)")
				if !ok {
					t.Errorf("Description does not end with the marker linking the full text: %q", log.Description)
				}
				if !strings.HasPrefix(full, kept) {
					t.Errorf("the cut Description is not a prefix of the full text")
				}
				if log.WhatID != "001000000000001AAA" || log.WhoID != "" {
					t.Errorf("an Account link goes to WhatID: got WhoID %q WhatID %q", log.WhoID, log.WhatID)
				}
			},
		},
		{
			name:   "cut without base URL",
			golden: "cut-nourl.golden",
			in: func() Input {
				tn := usTenant()
				tn.CRM.LogCapBytes, tn.CRM.BaseURL = 256, ""
				it := fixedInteraction()
				it.Notes = strings.Repeat("x", 1000)
				it.LinkedRecord = &cc.CRMRecord{Type: "Lead", ID: "00Q000000000001AAA"}
				return Input{Tenant: tn, Interaction: it, QueueName: "Sales"}
			},
			check: func(t *testing.T, log *cc.CallLog, full string) {
				if !log.Truncated || len(log.Description) > 256 || !strings.HasSuffix(log.Description, "\n…(truncated; full text kept in Parley, interaction int_9d2k4m7q1x8c3v5b6n0p2r4t)") {
					t.Errorf("Description (%d bytes) = %q", len(log.Description), log.Description)
				}
				if log.WhoID != "00Q000000000001AAA" {
					t.Errorf("a Lead link goes to WhoID: got %q", log.WhoID)
				}
				if !strings.HasSuffix(full, strings.Repeat("x", 1000)+"\n") {
					t.Errorf("the full text lost the notes")
				}
			},
		},
		{
			name: "4000-byte cap with CJK notes",
			in: func() Input {
				it := fixedInteraction()
				it.Notes = strings.Repeat("日", 1400)
				return Input{Tenant: usTenant(), Interaction: it, QueueName: "Sales"}
			},
			check: func(t *testing.T, log *cc.CallLog, full string) {
				kept, ok := strings.CutSuffix(log.Description, marker(usTenant(), log.InteractionID))
				if !ok || !log.Truncated || len(log.Description) > 4000 || !strings.HasPrefix(full, kept) {
					t.Fatalf("Description (%d bytes, truncated %v) is not a prefix of the full text plus the marker within 4000 bytes", len(log.Description), log.Truncated)
				}
				if !strings.HasSuffix(kept, "日") || len(log.Description) < 4000-2 {
					t.Errorf("cut %d bytes short of the cap, or not after a whole 日: %q", 4000-len(log.Description), kept[len(kept)-9:])
				}
			},
		},
		{
			name:   "outbound to Switzerland from a Zurich tenant",
			golden: "outbound.golden",
			in: func() Input {
				it := fixedInteraction()
				it.Direction = cc.Outbound
				it.Customer = cc.Customer{Number: "+41315550123", Raw: "031 555 01 23"}
				it.DialedNumber, it.QueuedAt = "", time.Time{}
				it.Disposition = strings.Repeat("D", 300)
				tn := &cc.Tenant{Slug: "zh", Region: "CH", TimeZone: "Europe/Zurich"}
				return Input{Tenant: tn, Interaction: it, AgentName: "Bea\nBauer"}
			},
			check: func(t *testing.T, log *cc.CallLog, full string) {
				if log.Subject != "Outbound call to 031 555 01 23" || log.Direction != cc.Outbound {
					t.Errorf("Subject %q, Direction %q", log.Subject, log.Direction)
				}
				if utf8.RuneCountInString(log.Disposition) != 255 {
					t.Errorf("Disposition has %d characters, want 255", utf8.RuneCountInString(log.Disposition))
				}
				if log.ActivityDate != "2026-12-03" || log.Truncated {
					t.Errorf("ActivityDate %q, Truncated %v", log.ActivityDate, log.Truncated)
				}
			},
		},
		{
			name:   "chat with a long subject",
			golden: "chat.golden",
			in: func() Input {
				it := fixedInteraction()
				it.Channel = cc.ChannelChat
				it.Customer = cc.Customer{Name: "Jane Roe", Email: "jane@" + strings.Repeat("a", 290) + ".example"}
				it.DialedNumber, it.Notes, it.LinkedRecord = "", "", nil
				return Input{Interaction: it, QueueName: "Support"} // no tenant: UTC, default cap
			},
			check: func(t *testing.T, log *cc.CallLog, full string) {
				if n := utf8.RuneCountInString(log.Subject); n != 255 || !strings.HasPrefix(log.Subject, "Inbound chat from jane@") {
					t.Errorf("Subject has %d characters: %q", n, log.Subject)
				}
				if log.ActivityDate != "2026-12-03" {
					t.Errorf("ActivityDate = %q", log.ActivityDate)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, full := Build(tt.in())
			got := "Subject: " + log.Subject + "\n\n" + log.Description
			if log.Truncated {
				got += "\n\n--- full text ---\n" + full
			}
			if tt.golden != "" {
				golden(t, tt.golden, got)
			}
			if !log.Truncated && log.Description != full {
				t.Errorf("not truncated, but the Description differs from the full text")
			}
			tt.check(t, log, full)
		})
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 400 * time.Millisecond: "0s", 12 * time.Second: "12s", 65 * time.Second: "1m05s",
		time.Hour + 2*time.Minute + 5*time.Second: "1h02m05s", -time.Second: "0s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

package cc

import (
	"context"
	"time"
)

// CallLog is the activity Parley writes to the CRM for one interaction.
type CallLog struct {
	InteractionID string    `json:"interaction_id"` // the idempotency key (CallObject)
	Subject       string    `json:"subject"`        // at most 255 characters
	Description   string    `json:"description"`    // within the tenant's byte cap
	Truncated     bool      `json:"truncated"`      // Description was cut; the full text is in Parley
	Direction     Direction `json:"direction"`
	DurationSec   int       `json:"duration_seconds"` // talk time
	Disposition   string    `json:"disposition,omitempty"`
	ActivityDate  string    `json:"activity_date"` // YYYY-MM-DD in the tenant's time zone
	StartedAt     time.Time `json:"started_at"`
	// WhoID links a Contact or Lead; WhatID an Account (or another object).
	WhoID  string `json:"who_id,omitempty"`
	WhatID string `json:"what_id,omitempty"`
}

// CRM is one tenant's CRM as Parley uses it.
type CRM interface {
	// FindByPhone returns every record whose phone fields match the E.164
	// number, Contacts first, then Leads, then Accounts, each by name and id.
	// (A CRM that can also search by field values implements FieldSearcher.)
	FindByPhone(ctx context.Context, e164 string) ([]CRMRecord, error)
	// WriteLog creates the log activity, or updates the one already written
	// for the same interaction, and returns its id. Retrying never creates a
	// duplicate.
	WriteLog(ctx context.Context, log *CallLog) (string, error)
}

// CRMProvider gives the CRM of a tenant.
type CRMProvider interface {
	// CRM returns the tenant's CRM, or nil when it has none configured.
	CRM(ctx context.Context, t *Tenant) (CRM, error)
}

// RetryAfter is implemented by errors that say when to try again.
type RetryAfter interface {
	RetryAfter() time.Duration
}

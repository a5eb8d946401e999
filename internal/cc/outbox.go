package cc

import (
	"context"
	"encoding/json"
	"time"
)

// Outbox kinds.
const (
	OutboxCRMLog = "crm.log"
)

// OutboxItem is a durable piece of work for an outside system, written in the
// same transaction as the change that caused it and retried until delivered.
type OutboxItem struct {
	ID            string
	TenantID      string
	InteractionID string
	Kind          string
	// Key makes the item idempotent: the store keeps one item per (Kind, Key).
	Key           string
	Payload       json.RawMessage
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   time.Time
	Result        string // e.g. the CRM record id
}

// OutboxStore stores outbox items.
type OutboxStore interface {
	// EnqueueOutbox stores a new item; an existing item with the same Kind
	// and Key is left alone (not an error).
	EnqueueOutbox(ctx context.Context, items ...*OutboxItem) error
	// DueOutbox returns undelivered items due at or before now, oldest first.
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]*OutboxItem, error)
	// OutboxItem returns an item by id. ENOTFOUND if none.
	OutboxItem(ctx context.Context, id string) (*OutboxItem, error)
	// CompleteOutbox marks an item delivered with its result.
	CompleteOutbox(ctx context.Context, id, result string, at time.Time) error
	// RetryOutbox records a failed attempt and when to try next.
	RetryOutbox(ctx context.Context, id, lastError string, next time.Time) error
	// PendingOutbox counts undelivered items (for metrics).
	PendingOutbox(ctx context.Context) (int, error)
}

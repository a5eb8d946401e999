package cc

import "context"

// Store is everything Parley persists. The SQLite store is the default; a
// PostgreSQL store implements the same interface, and both pass the one
// conformance suite in internal/store/storetest.
type Store interface {
	TenantStore
	UserStore
	PresenceStore
	QueueStore
	EntryPointStore
	TrunkStore
	InteractionStore
	EventStore
	OutboxStore
	SessionStore
	RegistrationStore
	Committer
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Sealer encrypts secrets at rest (CRM private keys and client secrets).
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// Change is a set of writes that one step of the contact center makes and
// that must land together: the interactions it created or changed, the
// agents' presence, the events that tell of it, and the outbox work it
// caused or finished.
type Change struct {
	Create    []*Interaction
	Update    []*Interaction
	Presences []*Presence
	Events    []*Event
	Outbox    []*OutboxItem
	Completed []*OutboxItem // ID, Result, DeliveredAt
}

// Empty reports whether the change writes nothing.
func (c *Change) Empty() bool {
	return len(c.Create)+len(c.Update)+len(c.Presences)+len(c.Events)+len(c.Outbox)+len(c.Completed) == 0
}

// Committer applies a Change in one transaction.
type Committer interface {
	// Commit writes everything in ch or nothing: creates (ECONFLICT if an
	// id exists), updates with optimistic concurrency (ECONFLICT when an
	// interaction's Version is not the stored one), presences (replacing),
	// events (sequences assigned), outbox items (idempotent by Kind and
	// Key) and deliveries (ENOTFOUND for an unknown item). On success each
	// updated interaction's Version is incremented and each event's Seq set.
	Commit(ctx context.Context, ch *Change) error
}

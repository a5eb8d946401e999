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

package cc

import (
	"context"
	"strings"
	"time"
)

// Queue is where interactions wait for an agent.
type Queue struct {
	ID       string
	TenantID string
	Name     string // unique per tenant, e.g. "Sales"
	// Priority orders queues for agents who serve several: higher first.
	Priority int
	// Skills an agent must all have to serve the queue.
	Skills []string
	// ServiceLevel is the answer-time target of the service-level metric.
	ServiceLevel time.Duration
	// WrapUp is the after-call work time; 0 logs the interaction at hang-up.
	WrapUp time.Duration
	// OfferTimeout is how long an agent's endpoint rings before ring-no-answer.
	OfferTimeout time.Duration
	// MaxWait is how long a caller may wait; 0 is unlimited. When it runs
	// out the caller moves to OverflowQueueID, or hears the closing message.
	MaxWait         time.Duration
	OverflowQueueID string
	// Dispositions are the wrap-up codes offered for this queue; empty means
	// the tenant's list.
	Dispositions []string
	// Announcement and HoldMusic name audio files (8 kHz mono WAV) in the
	// sounds directory; empty means the bundled defaults.
	Announcement string
	HoldMusic    string
	// ScreenPop is when agents' panels open the caller's record: on offer,
	// or on answer (the default; empty means answer, see PopTiming).
	ScreenPop ScreenPop
	// SearchFields map interaction data to CRM fields: the lookup searches
	// them, in order, before it falls back to the caller's number.
	SearchFields []SearchField
	CreatedAt    time.Time
}

// Queue defaults.
const (
	DefaultServiceLevel = 20 * time.Second
	DefaultWrapUp       = 60 * time.Second
	DefaultOfferTimeout = 20 * time.Second
)

// Normalize fills defaults.
func (q *Queue) Normalize() {
	q.Name = strings.TrimSpace(q.Name)
	if q.ServiceLevel == 0 {
		q.ServiceLevel = DefaultServiceLevel
	}
	if q.OfferTimeout == 0 {
		q.OfferTimeout = DefaultOfferTimeout
	}
	for i, s := range q.Skills {
		q.Skills[i] = normalizeName(s)
	}
	if len(q.Skills) == 0 && q.Name != "" {
		q.Skills = []string{nameSkill(q.Name)}
	}
	if q.ScreenPop == "" {
		q.ScreenPop = ScreenPopAnswer
	}
}

// nameSkill derives a queue's skill from its name: lowercase, each run of
// characters other than letters, digits, '_' and '.' becomes one '-', at most
// 64 bytes ("Support (EN)" is support-en). A name with no ASCII letter or
// digit gives a skill Validate refuses, so that the admin names the skills.
func nameSkill(name string) string {
	var b strings.Builder
	for _, r := range normalizeName(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '.':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > 64 {
		s = s[:64]
	}
	s = strings.TrimLeft(strings.TrimRight(s, "-"), "-_.")
	if s == "" {
		return normalizeName(name)
	}
	return s
}

// Validate returns EINVALID naming the first field that is wrong.
func (q *Queue) Validate() error {
	if q.TenantID == "" {
		return Errorf(EINVALID, "queue has no tenant")
	}
	if q.Name == "" || len(q.Name) > 80 || strings.ContainsAny(q.Name, "\r\n\t") {
		return Errorf(EINVALID, "queue name %q: use 1-80 characters on one line", q.Name)
	}
	if q.Priority < 0 || q.Priority > 100 {
		return Errorf(EINVALID, "queue %s: priority %d: use 0 to 100 (higher is served first)", q.Name, q.Priority)
	}
	for _, s := range q.Skills {
		if !validSlug(s, 64) {
			return Errorf(EINVALID, "queue %s: skill %q: use lowercase letters, digits, '-', '_' or '.'", q.Name, s)
		}
	}
	if q.ServiceLevel < time.Second || q.ServiceLevel > time.Hour {
		return Errorf(EINVALID, "queue %s: service level %s: use 1s to 1h", q.Name, q.ServiceLevel)
	}
	if q.WrapUp < 0 || q.WrapUp > 2*time.Hour {
		return Errorf(EINVALID, "queue %s: wrap-up %s: use 0 to 2h", q.Name, q.WrapUp)
	}
	if q.OfferTimeout < 3*time.Second || q.OfferTimeout > 5*time.Minute {
		return Errorf(EINVALID, "queue %s: offer timeout %s: use 3s to 5m", q.Name, q.OfferTimeout)
	}
	if q.MaxWait < 0 || q.MaxWait > 24*time.Hour {
		return Errorf(EINVALID, "queue %s: max wait %s: use 0 (unlimited) to 24h", q.Name, q.MaxWait)
	}
	if q.OverflowQueueID != "" && q.OverflowQueueID == q.ID {
		return Errorf(EINVALID, "queue %s overflows into itself", q.Name)
	}
	for _, d := range q.Dispositions {
		if strings.TrimSpace(d) == "" || len(d) > 255 {
			return Errorf(EINVALID, "queue %s: disposition %q: use 1-255 characters", q.Name, d)
		}
	}
	for _, f := range []string{q.Announcement, q.HoldMusic} {
		if f != "" && !validSoundName(f) {
			return Errorf(EINVALID, "queue %s: sound %q: name a .wav file in the sounds directory, without a path", q.Name, f)
		}
	}
	if q.ScreenPop != "" && q.ScreenPop != ScreenPopOffer && q.ScreenPop != ScreenPopAnswer {
		return Errorf(EINVALID, "queue %s: screen pop %q: use offer (pop when the call rings) or answer (pop when the agent answers)", q.Name, q.ScreenPop)
	}
	if len(q.SearchFields) > MaxDataKeys {
		return Errorf(EINVALID, "queue %s: %d search fields: use at most %d", q.Name, len(q.SearchFields), MaxDataKeys)
	}
	for i, f := range q.SearchFields {
		if err := f.Validate(); err != nil {
			return Errorf(EINVALID, "queue %s: %s", q.Name, ErrorMessage(err))
		}
		for _, g := range q.SearchFields[:i] {
			if g.Key == f.Key && g.Object == f.Object && strings.EqualFold(g.Field, f.Field) {
				return Errorf(EINVALID, "queue %s: search field %s is given twice", q.Name, f)
			}
		}
	}
	return nil
}

// PopTiming returns ScreenPop, or ScreenPopAnswer when it is empty.
func (q *Queue) PopTiming() ScreenPop {
	if q.ScreenPop == "" {
		return ScreenPopAnswer
	}
	return q.ScreenPop
}

// DispositionsFor returns the wrap-up codes of the queue, or the tenant's.
func (q *Queue) DispositionsFor(t *Tenant) []string {
	if len(q.Dispositions) > 0 {
		return q.Dispositions
	}
	return t.Dispositions
}

// QueueStore stores queues.
type QueueStore interface {
	// CreateQueue stores a new queue. ECONFLICT if the name is taken in the tenant.
	CreateQueue(ctx context.Context, q *Queue) error
	// UpdateQueue replaces a queue's fields. ENOTFOUND if absent.
	UpdateQueue(ctx context.Context, q *Queue) error
	// Queue returns a queue of the tenant by id. ENOTFOUND if none.
	Queue(ctx context.Context, tenantID, id string) (*Queue, error)
	// QueueByName returns a queue of the tenant by name (case-insensitive).
	QueueByName(ctx context.Context, tenantID, name string) (*Queue, error)
	// Queues returns the tenant's queues ordered by name.
	Queues(ctx context.Context, tenantID string) ([]*Queue, error)
}

// EntryPoint maps a dialled number to a queue.
type EntryPoint struct {
	ID       string
	TenantID string
	// Number is an E.164 number ("+15550100"), or a SIP user alias that a
	// PBX or trunk sends instead of digits ("sales"): lowercase, starting
	// with a letter.
	Number  string
	QueueID string
	Name    string
	// EarlyMedia plays the queue's audio as 183 early media and answers the
	// caller only when an agent answers. The default answers at once.
	EarlyMedia bool
	// Collect, when set, asks the caller for digits before the call is
	// queued (RFC 4733 only; a caller whose leg has no telephone-event is
	// queued without being asked).
	Collect   *DigitCollection
	CreatedAt time.Time
}

// Validate returns EINVALID naming the first field that is wrong.
func (e *EntryPoint) Validate() error {
	if e.TenantID == "" || e.QueueID == "" {
		return Errorf(EINVALID, "entry point %s needs a tenant and a queue", e.Number)
	}
	if !IsE164(e.Number) && !IsEntryAlias(e.Number) {
		return Errorf(EINVALID, "entry point number %q: give an E.164 number such as +15550100, or a SIP alias such as sales", e.Number)
	}
	if len(e.Name) > 80 {
		return Errorf(EINVALID, "entry point name is longer than 80 bytes")
	}
	if e.Collect != nil {
		if err := e.Collect.Validate(); err != nil {
			return Errorf(EINVALID, "entry point %s: %s", e.Number, ErrorMessage(err))
		}
	}
	return nil
}

// IsE164 reports whether s is "+" and 2 to 15 digits.
func IsE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// IsEntryAlias reports whether s is a SIP user alias usable as an entry
// point: 1-32 lowercase letters, digits, '.', '-' or '_', starting with a letter.
func IsEntryAlias(s string) bool {
	return s != "" && s[0] >= 'a' && s[0] <= 'z' && validSlug(s, 32)
}

// EntryPointStore stores entry points.
type EntryPointStore interface {
	// CreateEntryPoint stores a new entry point. ECONFLICT if the number is
	// taken in the tenant.
	CreateEntryPoint(ctx context.Context, e *EntryPoint) error
	// EntryPointByNumber returns the tenant's entry point for an E.164 number.
	EntryPointByNumber(ctx context.Context, tenantID, number string) (*EntryPoint, error)
	// EntryPoints returns the tenant's entry points ordered by number.
	EntryPoints(ctx context.Context, tenantID string) ([]*EntryPoint, error)
	// DeleteEntryPoint removes one. ENOTFOUND if absent.
	DeleteEntryPoint(ctx context.Context, tenantID, id string) error
}

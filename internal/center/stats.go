package center

import (
	"context"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// queueStats counts a queue's interactions of the current day in the
// tenant's time zone. They are rebuilt from the store at start.
type queueStats struct {
	day          string
	offered      int
	answered     int
	abandoned    int
	answeredInSL int
}

func (c *Center) statsLocked(ts *tenantState, queueID string) *queueStats {
	s := ts.stats[queueID]
	if s == nil {
		s = &queueStats{}
		ts.stats[queueID] = s
	}
	return s
}

func dayOf(t time.Time, tenant *cc.Tenant) string {
	return t.In(tenant.Location()).Format("2006-01-02")
}

func (s *queueStats) roll(now time.Time, t *cc.Tenant) {
	if d := dayOf(now, t); d != s.day {
		*s = queueStats{day: d}
	}
}

func (s *queueStats) arrive(at time.Time, t *cc.Tenant) {
	s.roll(at, t)
	s.offered++
}

func (s *queueStats) answer(it *cc.Interaction, q *cc.Queue, t *cc.Tenant) {
	s.roll(it.AnsweredAt, t)
	s.answered++
	if it.WaitTime() <= q.ServiceLevel {
		s.answeredInSL++
	}
}

func (s *queueStats) abandon(it *cc.Interaction, t *cc.Tenant) {
	s.roll(it.EndedAt, t)
	s.abandoned++
}

func (s *queueStats) fill(st *cc.QueueStatus, now time.Time, t *cc.Tenant) {
	s.roll(now, t)
	st.Offered, st.Answered, st.Abandoned, st.AnsweredInSL = s.offered, s.answered, s.abandoned, s.answeredInSL
}

// loadStats rebuilds today's counters from the store.
func (c *Center) loadStats(ctx context.Context, ts *tenantState) error {
	now := c.clock()
	loc := ts.tenant.Location()
	local := now.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	before := time.Time{}
	for {
		page, err := c.store.Interactions(ctx, cc.InteractionFilter{TenantID: ts.tenant.ID, Since: midnight, Before: before, Limit: 1000})
		if err != nil {
			return err
		}
		for _, it := range page {
			if it.Direction != cc.Inbound || it.QueueID == "" {
				continue
			}
			s := c.statsLocked(ts, it.QueueID)
			s.roll(now, ts.tenant)
			s.offered++
			q := ts.queues[it.QueueID]
			switch {
			case !it.AnsweredAt.IsZero():
				s.answered++
				if q != nil && it.WaitTime() <= q.ServiceLevel {
					s.answeredInSL++
				}
			case it.State == cc.InteractionEnded:
				s.abandoned++
			}
		}
		if len(page) < 1000 {
			return nil
		}
		before = page[len(page)-1].CreatedAt
	}
}

package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// usageWarnPercent is the share of the daily API allocation above which the
// client logs a warning.
const usageWarnPercent = 90

// Usage is the org's daily API usage as last reported by Salesforce in the
// Sforce-Limit-Info header ("api-usage=USED/MAX").
type Usage struct {
	Used int64
	Max  int64
	At   time.Time // when the answer carrying it arrived
}

// Percent returns Used as a whole percentage of Max (0 when Max is 0).
func (u Usage) Percent() int64 {
	if u.Max <= 0 {
		return 0
	}
	return u.Used * 100 / u.Max
}

// ParseLimitInfo reads the api-usage part of a Sforce-Limit-Info header
// value such as "api-usage=18/5000; per-app-api-usage=17/250(appName=x)".
// It reports false when there is none or it is malformed.
func ParseLimitInfo(v string) (used, limit int64, ok bool) {
	for _, part := range strings.Split(v, ";") {
		rest, found := strings.CutPrefix(strings.TrimSpace(part), "api-usage=")
		if !found {
			continue
		}
		u, m, found := strings.Cut(rest, "/")
		if !found {
			return 0, 0, false
		}
		used, err1 := strconv.ParseInt(strings.TrimSpace(u), 10, 64)
		limit, err2 := strconv.ParseInt(strings.TrimSpace(m), 10, 64)
		if err1 != nil || err2 != nil || used < 0 || limit <= 0 {
			return 0, 0, false
		}
		return used, limit, true
	}
	return 0, 0, false
}

// Usage returns the last API usage Salesforce reported, and false when no
// answer has carried one yet.
func (c *Client) Usage() (Usage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.usage, !c.usage.At.IsZero()
}

// recordUsage keeps the usage from a response header and warns, once per
// percentage point, while it is above usageWarnPercent.
func (c *Client) recordUsage(header string) {
	used, limit, ok := ParseLimitInfo(header)
	if !ok {
		return
	}
	u := Usage{Used: used, Max: limit, At: c.now()}
	pct := u.Percent()
	c.mu.Lock()
	c.usage = u
	warn := pct >= usageWarnPercent && pct > c.warnedPct
	if warn {
		c.warnedPct = pct
	} else if pct < usageWarnPercent {
		c.warnedPct = 0
	}
	c.mu.Unlock()
	if warn {
		c.log.Warn("salesforce daily API usage is high", "used", used, "max", limit, "percent", pct)
	}
}

// Limit is one entry of the org's limits resource.
type Limit struct {
	Max       int64 `json:"Max"`
	Remaining int64 `json:"Remaining"`
}

// Limits returns the org's limits (GET /services/data/vNN.N/limits/), such
// as "DailyApiRequests".
func (c *Client) Limits(ctx context.Context) (map[string]Limit, error) {
	var out map[string]Limit
	if err := c.do(ctx, request{method: http.MethodGet, path: "/limits/"}, &out); err != nil {
		return nil, fmt.Errorf("salesforce limits: %w", err)
	}
	return out, nil
}

// Ping signs in and reads the org's limits, for readiness checks. It
// returns the same errors as the other calls: EUNAUTHORIZED for refused
// credentials, EUNAVAILABLE when Salesforce cannot be reached.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Limits(ctx)
	return err
}

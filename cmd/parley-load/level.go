package main

import (
	"strconv"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

// Level is one bounded load level of the shared SIPp script: its four
// arguments.
type Level struct {
	// Name is how the level was written, e.g. "cps:70"; it labels results.
	Name  string
	CPS   int // new calls per second (sipp -r)
	Limit int // most simultaneous calls (sipp -l)
	Total int // calls placed, then the run stops (sipp -m)
	HoldS int // seconds of media per call (sipp -d)
}

// The shapes of run-matrix.sh: CPS levels place 45 s of arrivals of 10 s
// calls; concurrency levels place one generation of 60 s calls ramped at
// 30 calls/s.
const (
	cpsHoldS      = 10
	cpsArrivalS   = 45
	cpsLimitS     = 15
	concRampCPS   = 30
	concHoldS     = 60
	maxLevelValue = 100000
)

// ParseLevel reads a level written as "cps:N" (N calls/s of 10 s calls for
// 45 s, the matrix's CPS row), "conc:N" (N concurrent 60 s calls ramped at
// 30 calls/s, the matrix's concurrency row) or "CPS,LIMIT,TOTAL,HOLD" (the
// script's own arguments).
func ParseLevel(s string) (Level, error) {
	s = strings.TrimSpace(s)
	if kind, arg, ok := strings.Cut(s, ":"); ok {
		n, err := positive(arg)
		if err != nil {
			return Level{}, cc.Errorf(cc.EINVALID, "level %q: %s after %q", s, err.Message, kind+":")
		}
		switch kind {
		case "cps":
			return Level{Name: s, CPS: n, Limit: n * cpsLimitS, Total: n * cpsArrivalS, HoldS: cpsHoldS}, nil
		case "conc":
			return Level{Name: s, CPS: concRampCPS, Limit: n, Total: n, HoldS: concHoldS}, nil
		}
		return Level{}, cc.Errorf(cc.EINVALID, "level %q: use cps:N, conc:N or CPS,LIMIT,TOTAL,HOLD_S", s)
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return Level{}, cc.Errorf(cc.EINVALID, "level %q: use cps:N, conc:N or CPS,LIMIT,TOTAL,HOLD_S (four numbers)", s)
	}
	var v [4]int
	for i, p := range parts {
		n, err := positive(p)
		if err != nil {
			return Level{}, cc.Errorf(cc.EINVALID, "level %q: %s in place %d", s, err.Message, i+1)
		}
		v[i] = n
	}
	return Level{Name: s, CPS: v[0], Limit: v[1], Total: v[2], HoldS: v[3]}, nil
}

func positive(s string) (int, *cc.Error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 || n > maxLevelValue {
		return 0, cc.Errorf(cc.EINVALID, "%q is not a whole number from 1 to %d", s, maxLevelValue)
	}
	return n, nil
}

// Args returns the script's four arguments.
func (l Level) Args() []string {
	return []string{strconv.Itoa(l.CPS), strconv.Itoa(l.Limit), strconv.Itoa(l.Total), strconv.Itoa(l.HoldS)}
}

// Peak returns the most calls the level can have up at once: the limit,
// or fewer when calls end before that many have arrived, or fewer calls
// are placed.
func (l Level) Peak() int {
	return min(l.Limit, l.CPS*l.HoldS, l.Total)
}

// AgentsFor returns how many agents the levels need: every call up at once
// holds one agent (one call at a time, no wrap-up), and a tenth more (at
// least 10) stays free so that an offer never waits for an agent.
func AgentsFor(levels []Level) int {
	peak := 0
	for _, l := range levels {
		peak = max(peak, l.Peak())
	}
	return peak + max(10, peak/10)
}

package acd

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

func (a i128) big() *big.Int {
	v := new(big.Int).Lsh(big.NewInt(a.hi), 64)
	return v.Add(v, new(big.Int).SetUint64(a.lo))
}

func bigRank(t time.Time, prio int64, step int64) *big.Int {
	v := new(big.Int).Mul(big.NewInt(t.Unix()), big.NewInt(1e9))
	v.Add(v, big.NewInt(int64(t.Nanosecond())))
	return v.Sub(v, new(big.Int).Mul(big.NewInt(prio), big.NewInt(step)))
}

// TestRankMatchesBig checks the 128-bit rank arithmetic against math/big,
// at the extremes and at random.
func TestRankMatchesBig(t *testing.T) {
	times := []time.Time{
		{},
		time.Unix(0, 0),
		time.Unix(-1, 999_999_999),
		time.Date(1677, 9, 21, 0, 0, 0, 0, time.UTC), // before UnixNano's range
		time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC), // after it
		time.Date(-4000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(99999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		t0,
	}
	ints := []int64{0, 1, -1, 100, -100, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(rng.Int64N(1<<40)-1<<39, rng.Int64N(1e9)))
		ints = append(ints, int64(rng.Uint64()))
	}
	for i, tm := range times {
		p, s := ints[i%len(ints)], ints[(i*7+3)%len(ints)]
		if s < 0 {
			s = -s - 1 // PriorityStep is never negative
		}
		got := instant(tm).sub(offset(int(p), time.Duration(s)))
		want := bigRank(tm, p, s)
		if got.big().Cmp(want) != 0 {
			t.Fatalf("rank(%v, %d, %d) = %v, want %v", tm, p, s, got.big(), want)
		}
	}
	for i, a := range ints {
		b := ints[(i*13+5)%len(ints)]
		p := mul64(a, b)
		want := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
		if p.big().Cmp(want) != 0 {
			t.Fatalf("mul64(%d, %d) = %v, want %v", a, b, p.big(), want)
		}
		q := mul64(b, -7)
		if got, want := p.cmp(q), p.big().Cmp(q.big()); got != want {
			t.Fatalf("cmp(%v, %v) = %d, want %d", p.big(), q.big(), got, want)
		}
		if got, want := p.add(q).big(), new(big.Int).Add(p.big(), q.big()); got.Cmp(want) != 0 {
			t.Fatalf("add(%v, %v) = %v, want %v", p.big(), q.big(), got, want)
		}
	}
}

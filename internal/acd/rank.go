package acd

import (
	"math/bits"
	"time"
)

// i128 is a signed 128-bit integer. Ranks are computed in 128 bits so that
// any enqueue time, any priority and any PriorityStep (up to the largest
// time.Duration) order correctly without overflow.
type i128 struct {
	hi int64
	lo uint64
}

func (a i128) cmp(b i128) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

func (a i128) add(b i128) i128 {
	lo, carry := bits.Add64(a.lo, b.lo, 0)
	return i128{hi: a.hi + b.hi + int64(carry), lo: lo}
}

func (a i128) sub(b i128) i128 {
	lo, borrow := bits.Sub64(a.lo, b.lo, 0)
	return i128{hi: a.hi - b.hi - int64(borrow), lo: lo}
}

func (a i128) neg() i128 { return i128{}.sub(a) }

// mul64 returns the exact product of two int64 values.
func mul64(a, b int64) i128 {
	ua, ub := uint64(a), uint64(b)
	if a < 0 {
		ua = -ua
	}
	if b < 0 {
		ub = -ub
	}
	hi, lo := bits.Mul64(ua, ub)
	p := i128{hi: int64(hi), lo: lo}
	if (a < 0) != (b < 0) {
		return p.neg()
	}
	return p
}

// instant returns t as nanoseconds since the Unix epoch, exactly, for every
// time.Time (UnixNano overflows outside 1678-2262).
func instant(t time.Time) i128 {
	return mul64(t.Unix(), int64(time.Second)).add(i128{lo: uint64(t.Nanosecond())})
}

// offset returns how far a priority moves a queue's items forward:
// priority * step.
func offset(priority int, step time.Duration) i128 {
	return mul64(int64(priority), int64(step))
}

package api

import (
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is a token bucket: PerSecond requests per second on average, bursts of Burst.
// A PerSecond of zero disables the limit.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// limiter keeps one token bucket per key in memory. The buckets live in this process only:
// several API replicas each enforce the limit separately, so a deployment with N replicas
// behind a load balancer allows up to N times the configured rate unless the limiter is moved
// to a shared store (PostgreSQL or Redis).
type limiter struct {
	limit RateLimit
	// idle is how long an untouched bucket is kept: long enough to refill completely, so
	// forgetting it changes nothing.
	idle time.Duration

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(limit RateLimit) *limiter {
	burst := max(limit.Burst, 1)
	limit.Burst = burst
	idle := time.Minute
	if limit.PerSecond > 0 {
		refill := time.Duration(float64(burst) / limit.PerSecond * float64(time.Second))
		idle = max(idle, refill+time.Minute)
	}
	return &limiter{limit: limit, idle: idle, buckets: map[string]*bucket{}}
}

// allow takes one token from key's bucket. When none is available it returns false and how
// long until one is.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l.limit.PerSecond <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		l.sweep(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.limit.PerSecond), l.limit.Burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Duration(math.MaxInt64)
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets buckets untouched for longer than idle. Called with mu held, at most once a
// minute, so memory is bounded by the keys seen in the last few minutes.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.seen) > l.idle {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// ipKey is the per-IP rate-limit key: the address for IPv4, its /64 for IPv6 (one host
// usually owns a whole /64, so per-address keys would be trivial to evade).
func ipKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

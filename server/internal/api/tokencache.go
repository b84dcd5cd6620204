package api

import (
	"sync"
	"time"

	"github.com/securecodehq/server-audit/server/internal/store"
)

// DefaultTokenCacheTTL is how long an upload may be authenticated from memory.
const DefaultTokenCacheTTL = 10 * time.Second

// maxCachedTokens bounds the cache; past it, the cache starts over.
const maxCachedTokens = 100_000

// tokenCache remembers successful token lookups for a short time, so that an upload does
// not pay a database round trip to authenticate. It is used for POST /v1/audits only, whose
// ingest transaction checks again that the token is valid (store.InsertAudit), so a
// revocation still takes effect at once; report reads always look the token up. Keys are
// token hashes, never secrets.
type tokenCache struct {
	ttl time.Duration

	mu        sync.Mutex
	entries   map[[32]byte]cachedToken
	lastSweep time.Time
}

type cachedToken struct {
	p       store.Principal
	expires time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, entries: map[[32]byte]cachedToken{}}
}

func (c *tokenCache) get(hash [32]byte, now time.Time) (store.Principal, bool) {
	if c.ttl <= 0 {
		return store.Principal{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || now.After(e.expires) {
		return store.Principal{}, false
	}
	return e.p, true
}

func (c *tokenCache) put(hash [32]byte, p store.Principal, now time.Time) {
	if c.ttl <= 0 || p.Revoked {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastSweep) > c.ttl {
		for k, e := range c.entries {
			if now.After(e.expires) {
				delete(c.entries, k)
			}
		}
		c.lastSweep = now
	}
	if len(c.entries) >= maxCachedTokens {
		clear(c.entries)
	}
	c.entries[hash] = cachedToken{p: p, expires: now.Add(c.ttl)}
}

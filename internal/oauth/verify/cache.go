package verify

import (
	"sync"
	"time"
)

// cache keeps verification results keyed by the SHA-256 of the token (the
// token itself is never stored), each until its own deadline (at most the
// token's exp). It is bounded: when full, expired entries go first, then an
// arbitrary eighth of the rest.
type cache struct {
	max int
	mu  sync.Mutex
	m   map[[32]byte]cacheEntry
}

type cacheEntry struct {
	r     *Result
	until time.Time
}

func newCache(max int) *cache {
	return &cache{max: max, m: make(map[[32]byte]cacheEntry)}
}

func (c *cache) get(k [32]byte, now time.Time) (*Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil, false
	}
	if !now.Before(e.until) {
		delete(c.m, k)
		return nil, false
	}
	return e.r, true
}

func (c *cache) put(k [32]byte, r *Result, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, exists := c.m[k]; !exists && len(c.m) >= c.max {
		for key, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) <= c.max-max(1, c.max/8) {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = cacheEntry{r: r.clone(), until: until}
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// negCache remembers, by token hash, tokens introspection called inactive,
// each until its deadline, so that an unknown token sent again and again
// costs one introspection call per lifetime. Bounded like cache.
type negCache struct {
	max int
	mu  sync.Mutex
	m   map[[32]byte]time.Time
}

func newNegCache(max int) *negCache {
	return &negCache{max: max, m: make(map[[32]byte]time.Time)}
}

func (c *negCache) has(k [32]byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.m[k]
	if ok && !now.Before(until) {
		delete(c.m, k)
		return false
	}
	return ok
}

func (c *negCache) put(k [32]byte, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, exists := c.m[k]; !exists && len(c.m) >= c.max {
		for key, u := range c.m {
			if !now.Before(u) {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) <= c.max-max(1, c.max/8) {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = until
}

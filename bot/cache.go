package bot

import (
	"sync"
	"time"
)

// maxCacheEntries bounds every look-up cache; expired entries are dropped
// first, then, if the cache is still full, all of them.
const maxCacheEntries = 10000

// ttlCache is a bounded map whose entries expire after ttl. It is safe for
// concurrent use; the bot caches DingTalk look-ups in it because they count
// against the organisation's API quota.
type ttlCache[V any] struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	value   V
	expires time.Time
}

func newTTLCache[V any](ttl time.Duration, now func() time.Time) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, now: now, m: make(map[string]ttlEntry[V])}
}

// get returns the value stored under key unless it has expired.
func (c *ttlCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !c.now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// put stores value under key until ttl from now.
func (c *ttlCache[V]) put(key string, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= maxCacheEntries {
		for k, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCacheEntries {
			clear(c.m)
		}
	}
	c.m[key] = ttlEntry[V]{value: value, expires: now.Add(c.ttl)}
}

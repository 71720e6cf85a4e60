package tiles

import (
	"container/list"
	"sync"
)

// DefaultCacheBytes is the size of a Cache made with NewCache(0).
const DefaultCacheBytes = 256 << 20

// Cache keeps full tiles and entry bundles, read and verified once, in
// memory, least recently used out first, within a byte budget. Full tiles
// never change, so nothing in it is ever stale. One Cache serves every log
// of a process.
type Cache struct {
	mu     sync.Mutex
	budget int
	used   int
	order  *list.List // front: most recently used
	items  map[cacheKey]*list.Element
}

type cacheKey struct {
	log     *Tree
	level   int
	n       uint64
	entries bool
}

type cacheItem struct {
	key   cacheKey
	value any
	size  int
}

// NewCache returns a cache of at most budget bytes (0: DefaultCacheBytes).
func NewCache(budget int) *Cache {
	if budget <= 0 {
		budget = DefaultCacheBytes
	}
	return &Cache{budget: budget, order: list.New(), items: map[cacheKey]*list.Element{}}
}

func (c *Cache) get(k cacheKey) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheItem).value, true
}

func (c *Cache) put(k cacheKey, v any, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.order.PushFront(&cacheItem{key: k, value: v, size: size})
	c.used += size
	for c.used > c.budget && c.order.Len() > 1 {
		last := c.order.Back()
		it := last.Value.(*cacheItem)
		c.order.Remove(last)
		delete(c.items, it.key)
		c.used -= it.size
	}
}

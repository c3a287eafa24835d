package store

import "sync"

// taskCache keeps tasks in memory so that Task, the API's hottest read,
// costs a map lookup instead of a query. Only the writer goroutine puts
// tasks in it, after each commit and before the writing caller is
// answered, so entries change in commit order: a reader never sees a task
// go back to an older version, and a caller reads its own writes. Readers
// never fill it: a reader's query races the writer, and a fill could put
// back a version older than one another reader was already given. A miss
// (a task not written since Open, or evicted) is a query.
type taskCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]Task
}

// newTaskCache returns a cache of at most max tasks, or nil (no caching)
// for max < 0.
func newTaskCache(max int) *taskCache {
	if max < 0 {
		return nil
	}
	return &taskCache{max: max, m: make(map[string]Task)}
}

func (c *taskCache) get(id string) (Task, bool) {
	if c == nil {
		return Task{}, false
	}
	c.mu.RLock()
	t, ok := c.m[id]
	c.mu.RUnlock()
	return t, ok
}

// set caches t as just committed, evicting an arbitrary entry when full.
func (c *taskCache) set(t Task) {
	if c == nil || c.max == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[t.ID]; !ok && len(c.m) >= c.max {
		for id := range c.m {
			delete(c.m, id)
			break
		}
	}
	c.m[t.ID] = t
}

// update applies a committed change to the cached task id, if cached.
func (c *taskCache) update(id string, fn func(*Task)) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.m[id]; ok {
		fn(&t)
		c.m[id] = t
	}
}

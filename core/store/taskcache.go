package store

import "sync"

// taskCache keeps recently read or written tasks in memory so that Task,
// the API's hottest read, costs a map lookup instead of a query. It is
// written through by the writer goroutine after each commit (before the
// writing caller is answered, so a caller reads its own writes), and
// filled by readers on a miss.
//
// A reader's fill must not overwrite a newer value with the older one it
// read: every write bumps gen under mu, and a fill is dropped if gen moved
// since the reader looked it up before querying. So the cache only ever
// holds a task as some commit left it, and never one older than the last
// write-through of that task.
type taskCache struct {
	mu  sync.RWMutex
	max int
	gen uint64
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

// generation is read before querying for a fill.
func (c *taskCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// fill caches t as read from the database, unless a write happened since
// gen was read.
func (c *taskCache) fill(t Task, gen uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.put(t)
	}
}

// set caches t as just committed.
func (c *taskCache) set(t Task) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.put(t)
}

// drop forgets a task a commit changed in a way the writer did not read
// back.
func (c *taskCache) drop(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, id)
}

// put stores t, evicting an arbitrary entry when full. Called with mu held.
func (c *taskCache) put(t Task) {
	if _, ok := c.m[t.ID]; !ok && len(c.m) >= c.max {
		for id := range c.m {
			delete(c.m, id)
			break
		}
	}
	if c.max > 0 {
		c.m[t.ID] = t
	}
}

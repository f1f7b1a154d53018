package serve

import (
	"bytes"
	"context"
	"sync"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/snapshot"
	"github.com/ksym-dev/ksym/store"
)

// loaded is a snapshot's parsed table and manifest.
type loaded struct {
	meta  store.Snapshot
	info  snapshot.Info
	table *kallsyms.Table
}

// tableCache keeps the tables of the snapshots used last, parsed: parsing
// one takes tens of milliseconds, a decode with a warm cache none.
type tableCache struct {
	max   int
	mu    sync.Mutex
	order []string // least recently used first
	byID  map[string]*loaded
}

func newTableCache(max int) *tableCache {
	return &tableCache{max: max, byID: map[string]*loaded{}}
}

func (c *tableCache) get(id string) *loaded {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.byID[id]
	if l != nil {
		c.touch(id)
	}
	return l
}

func (c *tableCache) put(l *loaded) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byID[l.meta.ID]; !ok && len(c.order) >= c.max {
		delete(c.byID, c.order[0])
		c.order = c.order[1:]
	}
	c.byID[l.meta.ID] = l
	c.touch(l.meta.ID)
}

func (c *tableCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byID, id)
	c.remove(id)
}

func (c *tableCache) touch(id string) {
	c.remove(id)
	c.order = append(c.order, id)
}

func (c *tableCache) remove(id string) {
	for i, o := range c.order {
		if o == id {
			c.order = append(c.order[:i], c.order[i+1:]...)
			return
		}
	}
}

// table returns the parsed snapshot id, from the cache or the store.
func (s *Server) table(ctx context.Context, id string) (*loaded, error) {
	if l := s.tables.get(id); l != nil {
		return l, nil
	}
	meta, err := s.st.Snapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	data, err := s.st.SnapshotData(ctx, id)
	if err != nil {
		return nil, err
	}
	snap, err := snapshot.Read(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	t, err := snap.Table("snapshot " + id)
	if err != nil {
		return nil, err
	}
	l := &loaded{meta: meta, info: snap.Info, table: t}
	s.tables.put(l)
	return l, nil
}

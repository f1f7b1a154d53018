package kmem

import (
	"bufio"
	"fmt"
	"io"
	"math/bits"
	"sort"
	"strconv"
	"strings"
)

// SlabCache is one line of /proc/slabinfo (version 2.1, mm/slab_common.c):
//
//	# name <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>
//
// SLUB prints zero tunables; its active_objs counts the objects of the
// per-CPU slabs as in use.
type SlabCache struct {
	Name         string `json:"name"`
	ActiveObjs   uint64 `json:"active_objs"`
	NumObjs      uint64 `json:"num_objs"`
	ObjSize      uint64 `json:"objsize"`
	ObjPerSlab   uint64 `json:"objperslab"`
	PagesPerSlab uint64 `json:"pagesperslab"`
	ActiveSlabs  uint64 `json:"active_slabs"`
	NumSlabs     uint64 `json:"num_slabs"`
}

// InUseBytes is the memory of the objects in use: active_objs * objsize.
func (c SlabCache) InUseBytes() uint64 { return c.ActiveObjs * c.ObjSize }

// ObjectBytes is the memory of all objects, used or free: num_objs * objsize.
func (c SlabCache) ObjectBytes() uint64 { return c.NumObjs * c.ObjSize }

// SlabBytes is the memory of the cache's slabs, metadata and padding
// included: num_slabs * pagesperslab * pageSize.
func (c SlabCache) SlabBytes(pageSize uint64) uint64 {
	return c.NumSlabs * c.PagesPerSlab * pageSize
}

// ParseSlabinfo parses the text of /proc/slabinfo. It accepts version 2.1
// (every kernel since 2.6.x); another version, or a malformed line, is an
// error naming the line.
func ParseSlabinfo(r io.Reader) ([]SlabCache, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("slabinfo: %w", err)
		}
		return nil, fmt.Errorf("slabinfo: empty, want the line \"slabinfo - version: 2.1\"")
	}
	if v := strings.TrimSpace(sc.Text()); v != "slabinfo - version: 2.1" {
		return nil, fmt.Errorf("slabinfo line 1: %q, want \"slabinfo - version: 2.1\"", v)
	}
	var caches []SlabCache
	for line := 2; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		c, err := parseSlabLine(text)
		if err != nil {
			return nil, fmt.Errorf("slabinfo line %d: %w: %q", line, err, text)
		}
		caches = append(caches, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("slabinfo: %w", err)
	}
	return caches, nil
}

// parseSlabLine parses one cache's line of 16 fields.
func parseSlabLine(text string) (SlabCache, error) {
	f := strings.Fields(text)
	if len(f) != 16 || f[6] != ":" || f[7] != "tunables" || f[11] != ":" || f[12] != "slabdata" {
		return SlabCache{}, fmt.Errorf("want NAME and 5 numbers, \": tunables\" and 3, \": slabdata\" and 3")
	}
	c := SlabCache{Name: f[0]}
	nums := []*uint64{&c.ActiveObjs, &c.NumObjs, &c.ObjSize, &c.ObjPerSlab, &c.PagesPerSlab}
	for i, p := range nums {
		if err := parseCount(f[1+i], p); err != nil {
			return SlabCache{}, err
		}
	}
	var ignored uint64
	for _, s := range f[8:11] {
		if err := parseCount(s, &ignored); err != nil {
			return SlabCache{}, err
		}
	}
	if err := parseCount(f[13], &c.ActiveSlabs); err != nil {
		return SlabCache{}, err
	}
	if err := parseCount(f[14], &c.NumSlabs); err != nil {
		return SlabCache{}, err
	}
	if err := parseCount(f[15], &ignored); err != nil {
		return SlabCache{}, err
	}
	if c.ActiveObjs > c.NumObjs {
		return SlabCache{}, fmt.Errorf("%d active objects of %d", c.ActiveObjs, c.NumObjs)
	}
	if hi, _ := bits.Mul64(c.NumObjs, c.ObjSize); hi != 0 {
		return SlabCache{}, fmt.Errorf("%d objects of %d bytes overflow 64 bits", c.NumObjs, c.ObjSize)
	}
	if hi, lo := bits.Mul64(c.NumSlabs, c.PagesPerSlab); hi != 0 || lo > 1<<40 {
		return SlabCache{}, fmt.Errorf("%d slabs of %d pages is more than any machine has", c.NumSlabs, c.PagesPerSlab)
	}
	return c, nil
}

// parseCount parses a decimal count into *p.
func parseCount(s string, p *uint64) error {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a count", s)
	}
	*p = v
	return nil
}

// SortSlabByInUse sorts caches by bytes in use, largest first, then by name.
func SortSlabByInUse(caches []SlabCache) {
	sort.Slice(caches, func(i, j int) bool {
		a, b := caches[i].InUseBytes(), caches[j].InUseBytes()
		if a != b {
			return a > b
		}
		return caches[i].Name < caches[j].Name
	})
}

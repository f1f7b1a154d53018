package kallsyms

import (
	"bytes"
	"errors"
	"runtime"
	"sync"
)

// minPartSize is the least input worth a goroutine of its own.
const minPartSize = 512 << 10

// parallelism returns how many parts to parse an input of n bytes in.
func parallelism(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), 8, n/minPartSize))
}

// splitParts cuts data into about k parts that end at line boundaries.
func splitParts(data []byte, k int) [][]byte {
	parts := make([][]byte, 0, k)
	for k > 1 && len(data) > 0 {
		cut := len(data) / k
		nl := bytes.IndexByte(data[cut:], '\n')
		if nl < 0 {
			break
		}
		cut += nl + 1
		parts = append(parts, data[:cut])
		data = data[cut:]
		k--
	}
	return append(parts, data)
}

// parseParallel parses each part into its own builder, writing the columns
// straight into shared arrays, then joins the parts.
//
// The names go into one shared arena too: each part gets the region its
// names take if every line has the common shape (arenaSize), so that in the
// common case the parts' names end up back to back where they were written.
func parseParallel(data []byte, parts [][]byte, opts Options) (*Table, error) {
	lines := make([]int, len(parts))
	forEach(len(parts), func(i int) { lines[i] = countLines(parts[i]) })
	digits := addrDigits(data)
	total, arenaTotal := 0, 0
	for i, part := range parts {
		total += lines[i]
		arenaTotal += arenaSize(len(part), lines[i], digits)
	}
	nameOff := make([]uint32, total+1) // a zero, then nameEnd
	addrs, types, nameEnd := make([]uint64, total), make([]byte, total), nameOff[1:]
	arena := make([]byte, arenaTotal+64)
	builders := make([]*builder, len(parts))
	errs := make([]error, len(parts))
	regions := make([]int, len(parts)) // where each part's names start in arena
	base, arenaBase := 0, 0
	for i, part := range parts {
		regions[i] = arenaBase
		arenaEnd := arenaBase + arenaSize(len(part), lines[i], digits)
		if i == len(parts)-1 {
			arenaEnd = len(arena)
		}
		builders[i] = newBuilderInto(opts, addrs[base:base:base+lines[i]], types[base:base:base+lines[i]],
			nameEnd[base:base:base+lines[i]], arena[arenaBase:arenaBase:arenaEnd])
		base, arenaBase = base+lines[i], arenaEnd
	}
	forEach(len(parts), func(i int) { errs[i] = builders[i].parseAll(parts[i]) })
	line := 0
	for i, err := range errs {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Line += line
		}
		if err != nil {
			return nil, err
		}
		line += builders[i].line
	}
	first := joinBuilders(builders, addrs, types, nameEnd, arena, regions)
	first.nameOff = nameOff
	return first.finish()
}

// countLines returns the number of lines in part, a last one without
// newline included.
func countLines(part []byte) int {
	n := bytes.Count(part, []byte{'\n'})
	if len(part) > 0 && part[len(part)-1] != '\n' {
		n++
	}
	return n
}

// forEach runs f(0..n-1) concurrently and waits.
func forEach(n int, f func(int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

// joinBuilders appends the later builders to the first: columns already
// share their arrays (a part may have parsed fewer symbols than it has
// lines, when some are blank), names are moved together in the shared arena,
// modules and layout facts are merged.
func joinBuilders(bs []*builder, addrs []uint64, types []byte, nameEnd []uint32, arena []byte, regions []int) *builder {
	first := bs[0]
	names := joinNames(bs, arena, regions)
	n, pos := 0, 0
	for _, b := range bs {
		m := len(b.addrs)
		copy(addrs[n:], b.addrs) // no-op unless an earlier part had blank lines
		copy(types[n:], b.types)
		if n > 0 || pos > 0 {
			for j, e := range b.nameEnd {
				nameEnd[n+j] = e + uint32(pos)
			}
		}
		if b != first {
			first.core.merge(&b.core)
			first.joinModules(b, n)
		}
		n += m
		pos += len(b.arena)
	}
	first.addrs, first.types, first.nameEnd, first.arena = addrs[:n], types[:n], nameEnd[:n], names
	return first
}

// joinNames puts the parts' names back to back. Each part wrote its names at
// the start of its region of the shared arena; when a part had more than its
// region holds, append moved its names elsewhere and they are copied back.
func joinNames(bs []*builder, arena []byte, regions []int) []byte {
	total, inPlace := 0, true
	for i, b := range bs {
		total += len(b.arena)
		inPlace = inPlace && (len(b.arena) == 0 || &b.arena[0] == &arena[regions[i]])
	}
	if !inPlace || total > len(arena) {
		out := make([]byte, 0, total)
		for _, b := range bs {
			out = append(out, b.arena...)
		}
		return out
	}
	pos := 0
	for i, b := range bs { // regions are in order, so moves go left only
		if pos != regions[i] {
			copy(arena[pos:], b.arena)
		}
		pos += len(b.arena)
	}
	return arena[:pos]
}

// joinModules maps a later builder's module runs, which start at symbol
// offset base, to first's module ids.
func (b *builder) joinModules(o *builder, base int) {
	if b.mods.ends == nil { // b saw only the core: take o's names and ids as they are
		b.mods, o.mods = o.mods, modNames{}
		for _, r := range o.fileMod {
			b.fileMod = append(b.fileMod, fileRun{first: base + r.first, mod: r.mod})
		}
		return
	}
	for _, r := range o.fileMod {
		id, _ := b.mods.id(o.mods.name(r.mod)) // both hold fewer than maxModules
		b.fileMod = append(b.fileMod, fileRun{first: base + r.first, mod: id})
	}
}

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
func parseParallel(data []byte, parts [][]byte, opts Options) (*Table, error) {
	counts := make([]int, len(parts))
	forEach(len(parts), func(i int) { counts[i] = bytes.Count(parts[i], []byte{'\n'}) + 1 })
	total := 0
	for _, c := range counts {
		total += c
	}
	digits := addrDigits(data)
	addrs, types, nameEnd := make([]uint64, total), make([]byte, total), make([]uint32, total)
	builders := make([]*builder, len(parts))
	errs := make([]error, len(parts))
	base := 0
	for i, part := range parts {
		arenaBytes, arenaLines := len(part), counts[i]
		if i == 0 { // the first part's arena receives all names in the end
			arenaBytes, arenaLines = len(data), total
		}
		b := newBuilderInto(opts, addrs[base:base:base+counts[i]], types[base:base:base+counts[i]],
			nameEnd[base:base:base+counts[i]], arenaBytes, arenaLines, digits)
		builders[i] = b
		base += counts[i]
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
	return joinBuilders(builders, addrs, types, nameEnd).finish()
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
// lines, when some are blank), names, modules and layout facts are merged.
func joinBuilders(bs []*builder, addrs []uint64, types []byte, nameEnd []uint32) *builder {
	first := bs[0]
	n := 0
	for _, b := range bs {
		var arenaBase uint32
		if b != first {
			arenaBase = uint32(len(first.arena))
			first.arena = append(first.arena, b.arena...)
			first.core.merge(&b.core)
		}
		m := len(b.addrs)
		copy(addrs[n:], b.addrs) // no-op unless an earlier part had blank lines
		copy(types[n:], b.types)
		for j, e := range b.nameEnd {
			nameEnd[n+j] = e + arenaBase
		}
		if b != first {
			first.joinModules(b, n)
		}
		n += m
	}
	first.addrs, first.types, first.nameEnd = addrs[:n], types[:n], nameEnd[:n]
	return first
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

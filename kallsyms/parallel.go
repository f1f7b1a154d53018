package kallsyms

import (
	"bytes"
	"errors"
	"runtime"
)

// minPartSize is the least input worth a goroutine of its own.
const minPartSize = 512 << 10

// parallelism returns how many parts to parse an input of n bytes in.
func parallelism(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), 8, n/minPartSize))
}

// splitParts cuts data into about k parts that end at line boundaries. When
// the text ends with module lines, whose sorting the last part takes on
// (takeRestEarly), the last part parses less by about as much as that costs:
// a module line's sorting and copying costs about 4/5 of parsing it.
func splitParts(data []byte, k int) [][]byte {
	if k > 1 {
		mods := moduleTail(data)
		cost := mods * 4 / 5
		if last := (len(data)+cost)/k - cost; mods > 0 && last >= mods {
			cut := len(data) - last
			if nl := bytes.IndexByte(data[cut:], '\n'); nl >= 0 {
				return append(evenParts(make([][]byte, 0, k), data[:cut+nl+1], k-1), data[cut+nl+1:])
			}
		}
	}
	return evenParts(make([][]byte, 0, k), data, k)
}

// moduleTail returns the length of the run of module lines ("...\t[mod]")
// that ends data, found by bisection: the kernel prints the core's lines
// first and the modules' after them. It is a guess for balancing the parts,
// never relied on otherwise.
func moduleTail(data []byte) int {
	isModule := func(line []byte) bool {
		line = bytes.TrimRight(line, "\r\n")
		return len(line) > 0 && line[len(line)-1] == ']'
	}
	lo, hi := 0, len(data) // lines starting before lo are not module lines; those from hi on are
	for lo < hi {
		mid := lo + (hi-lo)/2
		start := bytes.LastIndexByte(data[:mid], '\n') + 1
		end := len(data)
		if nl := bytes.IndexByte(data[mid:], '\n'); nl >= 0 {
			end = mid + nl + 1
		}
		if isModule(data[start:end]) {
			hi = start
		} else {
			lo = end
		}
	}
	return len(data) - hi
}

// evenParts appends to parts about k parts of data of about equal length
// that end at line boundaries.
func evenParts(parts [][]byte, data []byte, k int) [][]byte {
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

// part is one piece of the input parsed on its own goroutine.
type part struct {
	text   []byte
	lines  int
	region int // where its names start in the shared arena
	b      *builder
	err    error
}

// parseParallel parses each part into its own builder, writing the columns
// straight into shared arrays, then joins the parts.
//
// The names go into one shared arena too: each part gets the region its
// names take if every line has the common shape (arenaSize), so that in the
// common case the parts' names end up back to back where they were written.
func parseParallel(data []byte, texts [][]byte, opts Options) (*Table, error) {
	b, err := parseParts(data, texts, opts)
	if err != nil {
		return nil, err
	}
	return b.finish()
}

// parseParts parses the parts in parallel and joins them into one builder.
func parseParts(data []byte, texts [][]byte, opts Options) (*builder, error) {
	parts := make([]part, len(texts))
	for i, text := range texts {
		parts[i].text = text
	}
	forEach(len(parts), func(i int) { parts[i].lines = countLines(parts[i].text) })
	digits := addrDigits(data)
	total, arenaTotal := 0, 0
	for _, p := range parts {
		total += p.lines
		arenaTotal += arenaSize(len(p.text), p.lines, digits)
	}
	front := newFrontRoom(total, arenaTotal+64)
	addrs, types, nameOff, arena := front.columns() // nameOff: a zero, then nameEnd
	nameEnd := nameOff[1:]
	base, arenaBase := 0, 0
	for i := range parts {
		p := &parts[i]
		arenaEnd := arenaBase + arenaSize(len(p.text), p.lines, digits)
		if i == len(parts)-1 {
			arenaEnd = len(arena)
		}
		p.region = arenaBase
		p.b = newBuilderInto(opts, addrs[base:base:base+p.lines], types[base:base:base+p.lines],
			nameEnd[base:base:base+p.lines], arena[arenaBase:arenaBase:arenaEnd])
		base, arenaBase = base+p.lines, arenaEnd
	}
	last := len(parts) - 1
	forEach(len(parts), func(i int) {
		p := &parts[i]
		if p.err = p.b.parseAll(p.text); p.err == nil && i == last && i > 0 {
			p.b.takeRestEarly()
		}
	})
	line := 0
	for _, p := range parts {
		var pe *ParseError
		if errors.As(p.err, &pe) {
			pe.Line += line
		}
		if p.err != nil {
			return nil, p.err
		}
		line += p.b.line
	}
	first := joinBuilders(parts, addrs, types, nameEnd, arena)
	first.nameOff, first.front = nameOff, front
	return first, nil
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

// forEach runs f(0..n-1) concurrently, f(0) on the calling goroutine, and
// waits. A fault reading a mapped file (see parseMapped) in any of them
// panics on the calling goroutine once all have stopped.
func forEach(n int, f func(int)) {
	var g group
	for i := 1; i < n; i++ {
		g.goRun(f, i)
	}
	if n > 0 {
		g.run(func() { f(0) })
	}
	g.wait()
}

// joinBuilders appends the later parts' builders to the first: columns
// already share their arrays (a part may have parsed fewer symbols than it
// has lines, when some are blank), names are moved together in the shared
// arena, modules and layout facts are merged.
func joinBuilders(parts []part, addrs []uint64, types []byte, nameEnd []uint32, arena []byte) *builder {
	first := parts[0].b
	names := joinNames(parts, arena)
	n, pos := 0, 0
	for _, p := range parts {
		b := p.b
		m := len(b.addrs)
		// A part's columns start where its lines do: after an earlier
		// part's blank lines they start past the symbols before, and move
		// down (the copies are no-ops otherwise).
		copy(addrs[n:], b.addrs)
		copy(types[n:], b.types)
		if m > 0 && (pos > 0 || &b.nameEnd[0] != &nameEnd[n]) {
			for j, e := range b.nameEnd {
				nameEnd[n+j] = e + uint32(pos)
			}
		}
		if b != first {
			first.core.merge(&b.core)
			ids := first.joinModules(b, n)
			if b.early.from > 0 {
				first.early = earlyRest{from: n + b.early.from, rest: b.early.rest, mods: ids}
			}
		}
		n += m
		pos += len(b.arena)
	}
	first.sorted = sortedAcross(parts, addrs) // before first's columns become the joined ones
	first.addrs, first.types, first.nameEnd, first.arena = addrs[:n], types[:n], nameEnd[:n], names
	return first
}

// sortedAcross returns the length of the sorted prefix of the joined
// addresses (each part's own columns copied into addrs one after the other)
// from each part's own, and ORs the parts' nonZero into the first.
func sortedAcross(parts []part, addrs []uint64) int {
	first := parts[0].b
	sorted, n, broken := 0, 0, false
	for _, p := range parts {
		b := p.b
		first.nonZero |= b.nonZero
		if !broken {
			if n > 0 && len(b.addrs) > 0 && addrs[n] < addrs[n-1] {
				broken = true
			} else {
				sorted = n + b.sorted
				broken = b.sorted < len(b.addrs)
			}
		}
		n += len(b.addrs)
	}
	return sorted
}

// joinNames puts the parts' names back to back. Each part wrote its names at
// the start of its region of the shared arena; when a part had more than its
// region holds, append moved its names elsewhere and they are copied back.
func joinNames(parts []part, arena []byte) []byte {
	total, inPlace := 0, true
	for _, p := range parts {
		total += len(p.b.arena)
		inPlace = inPlace && (len(p.b.arena) == 0 || &p.b.arena[0] == &arena[p.region])
	}
	if !inPlace || total > len(arena) {
		out := make([]byte, 0, total)
		for _, p := range parts {
			out = append(out, p.b.arena...)
		}
		return out
	}
	pos := 0
	for _, p := range parts { // regions are in order, so moves go left only
		if pos != p.region {
			copy(arena[pos:], p.b.arena)
		}
		pos += len(p.b.arena)
	}
	return arena[:pos]
}

// joinModules maps a later builder's module runs, which start at symbol
// offset base, to first's module ids, and returns the map from o's ids to
// b's (nil when they are the same).
func (b *builder) joinModules(o *builder, base int) []uint16 {
	if b.mods.ends == nil { // b saw only the core: take o's names and ids as they are
		b.mods, o.mods = o.mods, modNames{}
		for _, r := range o.fileMod {
			b.fileMod = append(b.fileMod, fileRun{first: base + r.first, mod: r.mod})
		}
		return nil
	}
	ids := make([]uint16, max(1, len(o.mods.ends))) // id 0, the core, is 0 in both
	for id := range ids[1:] {
		ids[id+1], _ = b.mods.id(o.mods.name(uint16(id + 1))) // both hold fewer than maxModules
	}
	for _, r := range o.fileMod {
		b.fileMod = append(b.fileMod, fileRun{first: base + r.first, mod: ids[r.mod]})
	}
	return ids
}

package kallsyms

import "bytes"

// marker is a linker symbol that bounds a part of the kernel image.
type marker int

const (
	mText marker = iota
	mStext
	mEtext
	mSinittext
	mEinittext
	mEnd
	mStartRodata
	mEndRodata
	mStartROAfterInit
	mEndROAfterInit
	mSdata
	mEdata
	mInitBegin
	mInitEnd
	mBssStart
	mBssStop
	mPerCPUStart
	mPerCPUEnd
	mStartKsymtab
	mStopKsymtab
	mStartKsymtabGPL
	mStopKsymtabGPL
	numMarkers
)

// longestMarker is the length of the longest marker name: most names that
// start with '_' (6.18's __pfx_ padding symbols, one per function) are
// longer, and are turned away before the switch.
const longestMarker = len("__start___ksymtab_gpl")

// markerOf returns the marker a core symbol name denotes.
func markerOf(name []byte) (marker, bool) {
	if len(name) < 4 || len(name) > longestMarker || name[0] != '_' {
		return 0, false
	}
	switch string(name) {
	case "_text":
		return mText, true
	case "_stext":
		return mStext, true
	case "_etext":
		return mEtext, true
	case "_sinittext":
		return mSinittext, true
	case "_einittext":
		return mEinittext, true
	case "_end":
		return mEnd, true
	case "__start_rodata":
		return mStartRodata, true
	case "__end_rodata":
		return mEndRodata, true
	case "__start_ro_after_init":
		return mStartROAfterInit, true
	case "__end_ro_after_init":
		return mEndROAfterInit, true
	case "_sdata":
		return mSdata, true
	case "_edata":
		return mEdata, true
	case "__init_begin":
		return mInitBegin, true
	case "__init_end":
		return mInitEnd, true
	case "__bss_start":
		return mBssStart, true
	case "__bss_stop":
		return mBssStop, true
	case "__per_cpu_start":
		return mPerCPUStart, true
	case "__per_cpu_end":
		return mPerCPUEnd, true
	case "__start___ksymtab":
		return mStartKsymtab, true
	case "__stop___ksymtab":
		return mStopKsymtab, true
	case "__start___ksymtab_gpl":
		return mStartKsymtabGPL, true
	case "__stop___ksymtab_gpl":
		return mStopKsymtabGPL, true
	}
	return 0, false
}

// coreLayout is what the marker symbols say about the kernel image.
type coreLayout struct {
	addr    [numMarkers]uint64
	has     [numMarkers]bool
	hasData bool // data symbols present (CONFIG_KALLSYMS_ALL, or a System.map)
	// ranges the kernel resolves addresses in (is_ksym_addr).
	ranges [2]addrRange
	// fallback is true when markers were missing and the ranges were
	// derived from the symbols themselves.
	fallback bool
}

type addrRange struct{ start, end uint64 } // [start, end)

func (r addrRange) contains(a uint64) bool { return a >= r.start && a < r.end }

// get returns a marker's address if the table has it.
func (l *coreLayout) get(m marker) (uint64, bool) { return l.addr[m], l.has[m] }

// in reports whether a lies in [from, to) with both markers present.
func (l *coreLayout) in(a uint64, from, to marker) bool {
	return l.has[from] && l.has[to] && a >= l.addr[from] && a < l.addr[to]
}

// coreScan collects, while parsing, the addresses of the marker symbols.
type coreScan struct {
	addr [numMarkers]uint64
	has  [numMarkers]bool
}

// noteMarker records a core symbol if it is a marker (first one wins).
func (s *coreScan) noteMarker(name []byte, addr uint64) {
	if m, ok := markerOf(name); ok && !s.has[m] {
		s.addr[m], s.has[m] = addr, true
	}
}

// coreLayout computes the core layout from the markers and the core symbols.
func (t *Table) coreLayout(s *coreScan) coreLayout {
	l := coreLayout{addr: s.addr, has: s.has}
	l.hasData = l.has[mEnd] && t.coreDataSymbols() > 64
	if !l.setRanges() {
		// No markers (a partial table): resolve between the first and the
		// last symbol; the last symbol's size is then unknown.
		var lo, hi uint64 = ^uint64(0), 0
		t.forCore(func(i int) {
			if !isAbsolute(t.types[i]) {
				lo, hi = min(lo, t.addrs.at(i)), max(hi, t.addrs.at(i))
			}
		})
		if lo <= hi {
			l.ranges[0], l.fallback = addrRange{lo, hi + 1}, true
		}
	}
	return l
}

// coreDataSymbols counts the core kernel's data and bss symbols (type
// letters d, D, b, B), a byte count at a time over each core run.
func (t *Table) coreDataSymbols() int {
	n := 0
	for r, rn := range t.runs {
		if rn.mod != 0 {
			continue
		}
		types := t.types[rn.first:t.runEnd(r)]
		for _, c := range []byte("dDbB") {
			n += bytes.Count(types, []byte{c})
		}
	}
	return n
}

// forCore calls f with the index of every core-kernel symbol.
func (t *Table) forCore(f func(i int)) {
	for r, rn := range t.runs {
		if rn.mod == 0 {
			for i := int(rn.first); i < t.runEnd(r); i++ {
				f(i)
			}
		}
	}
}

// setRanges mirrors the kernel's is_ksym_addr(): with data symbols every
// address in [_stext, _end), otherwise [_stext, _etext) and
// [_sinittext, _einittext). It reports false when the markers are missing.
func (l *coreLayout) setRanges() bool {
	switch {
	case l.hasData && l.has[mStext]:
		l.ranges[0] = addrRange{l.addr[mStext], l.addr[mEnd]}
	case l.has[mStext] && l.has[mEtext]:
		l.ranges[0] = addrRange{l.addr[mStext], l.addr[mEtext]}
		if l.has[mSinittext] && l.has[mEinittext] {
			l.ranges[1] = addrRange{l.addr[mSinittext], l.addr[mEinittext]}
		}
	default:
		return false
	}
	return true
}

// resolvable reports whether the kernel would resolve a core address.
func (l *coreLayout) resolvable(a uint64) bool {
	return l.ranges[0].contains(a) || l.ranges[1].contains(a)
}

// endAfterLast is where the last core symbol ends for an address a
// (get_symbol_pos: _einittext, else _end with data symbols, else _etext).
func (l *coreLayout) endAfterLast(a uint64) (uint64, bool) {
	switch {
	case l.in(a, mSinittext, mEinittext):
		return l.addr[mEinittext], true
	case l.hasData:
		return l.addr[mEnd], true
	case l.has[mEtext] && !l.fallback:
		return l.addr[mEtext], true
	}
	return 0, false
}

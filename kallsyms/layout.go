package kallsyms

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

var markerNames = [numMarkers]string{
	mText: "_text", mStext: "_stext", mEtext: "_etext",
	mSinittext: "_sinittext", mEinittext: "_einittext", mEnd: "_end",
	mStartRodata: "__start_rodata", mEndRodata: "__end_rodata",
	mStartROAfterInit: "__start_ro_after_init", mEndROAfterInit: "__end_ro_after_init",
	mSdata: "_sdata", mEdata: "_edata", mInitBegin: "__init_begin", mInitEnd: "__init_end",
	mBssStart: "__bss_start", mBssStop: "__bss_stop",
	mPerCPUStart: "__per_cpu_start", mPerCPUEnd: "__per_cpu_end",
	mStartKsymtab: "__start___ksymtab", mStopKsymtab: "__stop___ksymtab",
	mStartKsymtabGPL: "__start___ksymtab_gpl", mStopKsymtabGPL: "__stop___ksymtab_gpl",
}

var markerByName = func() map[string]marker {
	m := make(map[string]marker, numMarkers)
	for i, name := range markerNames {
		m[name] = marker(i)
	}
	return m
}()

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

// findCoreLayout reads the marker symbols of the core kernel.
func (t *Table) findCoreLayout() coreLayout {
	var l coreLayout
	data := 0
	var lo, hi uint64 = ^uint64(0), 0
	for r := range t.runs {
		if t.runs[r].mod != 0 {
			continue
		}
		for i := int(t.runs[r].first); i < t.runEnd(r); i++ {
			name := t.Name(i)
			if len(name) > 1 && name[0] == '_' {
				if m, ok := markerByName[name]; ok && !l.has[m] {
					l.addr[m], l.has[m] = t.Addr(i), true
				}
			}
			switch t.types[i] {
			case 'd', 'D', 'b', 'B':
				data++
			}
			if typ := t.types[i]; typ != 'A' && typ != 'a' {
				lo, hi = min(lo, t.Addr(i)), max(hi, t.Addr(i))
			}
		}
	}
	l.hasData = l.has[mEnd] && data > 64
	l.setRanges(lo, hi)
	return l
}

// setRanges mirrors the kernel's is_ksym_addr(): with data symbols every
// address in [_stext, _end), otherwise [_stext, _etext) and
// [_sinittext, _einittext).
func (l *coreLayout) setRanges(lo, hi uint64) {
	switch {
	case l.hasData && l.has[mStext]:
		l.ranges[0] = addrRange{l.addr[mStext], l.addr[mEnd]}
	case l.has[mStext] && l.has[mEtext]:
		l.ranges[0] = addrRange{l.addr[mStext], l.addr[mEtext]}
		if l.has[mSinittext] && l.has[mEinittext] {
			l.ranges[1] = addrRange{l.addr[mSinittext], l.addr[mEinittext]}
		}
	case lo <= hi:
		// No markers (a partial table): resolve between the first and the
		// last symbol; the last symbol's size is then unknown.
		l.ranges[0] = addrRange{lo, hi + 1}
		l.fallback = true
	}
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

package probe

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// BlacklistEntry is one line of the kprobe blacklist: a function the kernel
// refuses to kprobe, and the addresses it covers. Start and End are zero
// when the reader may not see kernel addresses.
type BlacklistEntry struct {
	Start, End uint64
	Name       string
	Module     string // "" for the core kernel
}

// Blacklist is the kernel's kprobe blacklist
// (/sys/kernel/debug/kprobes/blacklist): NOKPROBE_SYMBOL functions, the
// __kprobes and noinstr text, and the architecture's own areas.
type Blacklist struct {
	Entries []BlacklistEntry
	byName  map[funcKey]bool
}

// ParseBlacklist parses the kprobe blacklist as the kernel prints it
// (kernel/kprobes.c, kprobe_blacklist_seq_show): "0x<start>-0x<end>\t<name>"
// per line, the name as %ps prints it ("name" or "name [module]"); both
// addresses are zero when the reader may not see kernel addresses. A
// malformed line is an error naming its line number.
func ParseBlacklist(data []byte) (*Blacklist, error) {
	bl := &Blacklist{byName: make(map[funcKey]bool)}
	n := 0
	for line := range bytes.Lines(data) {
		n++
		line = bytes.TrimSuffix(line, []byte("\n"))
		e, err := parseBlacklistLine(string(line))
		if err != nil {
			return nil, fmt.Errorf("kprobe blacklist line %d: %w", n, err)
		}
		bl.Entries = append(bl.Entries, e)
		bl.byName[funcKey{e.Name, e.Module}] = true
	}
	return bl, nil
}

// parseBlacklistLine parses "0x<start>-0x<end>\t<name>[ [module]]".
func parseBlacklistLine(s string) (BlacklistEntry, error) {
	rng, sym, ok := strings.Cut(s, "\t")
	if !ok {
		return BlacklistEntry{}, fmt.Errorf("%q has no tab between the address range and the name", clip(s))
	}
	from, to, ok := strings.Cut(rng, "-")
	start, err1 := parseHex0x(from)
	end, err2 := parseHex0x(to)
	if !ok || err1 != nil || err2 != nil || end < start {
		return BlacklistEntry{}, fmt.Errorf("%q is not an address range 0xSTART-0xEND", clip(rng))
	}
	name, mod, err := parseNameModule(sym)
	if err != nil {
		return BlacklistEntry{}, err
	}
	return BlacklistEntry{Start: start, End: end, Name: name, Module: mod}, nil
}

// parseHex0x parses "0x" followed by 1 to 16 hex digits.
func parseHex0x(s string) (uint64, error) {
	if len(s) < 3 || len(s) > 18 || s[:2] != "0x" {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(s[2:], 16, 64)
}

// Listed reports whether the function name of module ("" for the core
// kernel) is in the blacklist.
func (bl *Blacklist) Listed(name, module string) bool { return bl.byName[funcKey{name, module}] }

// Covers returns the entry whose address range holds addr, if any. Entries
// with hidden (zero) addresses cover nothing.
func (bl *Blacklist) Covers(addr uint64) (BlacklistEntry, bool) {
	for _, e := range bl.Entries {
		if e.End > e.Start && addr >= e.Start && addr < e.End {
			return e, true
		}
	}
	return BlacklistEntry{}, false
}

// AddressesHidden reports whether every entry's addresses are zero (the
// reader may not see kernel addresses).
func (bl *Blacklist) AddressesHidden() bool {
	for _, e := range bl.Entries {
		if e.Start != 0 || e.End != 0 {
			return false
		}
	}
	return true
}

package srcline

import (
	"encoding/binary"
	"testing"
)

// FuzzSkim feeds arbitrary unit and abbreviation bytes to skimFunctions,
// and arbitrary bytes to parseAranges and usesRefAddr: errors are fine,
// panics and endless loops are not. The seed is the first unit of the
// LKDTM module.
func FuzzSkim(f *testing.F) {
	o, err := openObject("testdata/lkdtm.ko.xz")
	if err != nil {
		f.Fatal(err)
	}
	info, abbrev := o.secs[".debug_info"], o.secs[".debug_abbrev"]
	end, err := unitEnd(info, 0, binary.LittleEndian)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(info[:end], abbrev[:2048], o.secs[".debug_aranges"][:64])
	f.Fuzz(func(t *testing.T, unit, abbrev, aranges []byte) {
		parseAranges(aranges, binary.LittleEndian)
		if _, err := unitEnd(unit, 0, binary.LittleEndian); err != nil {
			return
		}
		usesRefAddr(unit, abbrev, binary.LittleEndian)
		fo := &object{ef: o.ef, secs: map[string][]byte{".debug_info": unit, ".debug_abbrev": abbrev}}
		fo.skimFunctions(0)
	})
}

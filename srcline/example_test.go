package srcline_test

import (
	"fmt"

	"github.com/ksym-dev/ksym/srcline"
)

// The frame "direct_entry.cold+0x18/0x24 [lkdtm]" of a call trace, in the
// LKDTM module with its DWARF: the return address is looked up at the
// call, in .text.unlikely where direct_entry.cold lies.
func ExampleSymbolizer_LookupSymbol() {
	s, err := srcline.Open("testdata/lkdtm.ko.xz")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	frames, err := s.LookupSymbol("direct_entry.cold", 0x18, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range frames {
		fmt.Printf("%s %s:%d inlined=%v\n", f.Function, f.TreeFile, f.Line, f.Inlined)
	}
	// Output:
	// direct_entry lkdtm-6.1/src/core.c:329 inlined=false
}

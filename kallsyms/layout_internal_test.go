package kallsyms

import "testing"

// TestMarkerNames: every linker marker the layout uses is recognised (the
// length check in front of markerOf's switch must let them all through),
// each as a different marker, and names around them are not.
func TestMarkerNames(t *testing.T) {
	names := []string{"_text", "_stext", "_etext", "_sinittext", "_einittext", "_end",
		"__start_rodata", "__end_rodata", "__start_ro_after_init", "__end_ro_after_init",
		"_sdata", "_edata", "__init_begin", "__init_end", "__bss_start", "__bss_stop",
		"__per_cpu_start", "__per_cpu_end", "__start___ksymtab", "__stop___ksymtab",
		"__start___ksymtab_gpl", "__stop___ksymtab_gpl"}
	seen := map[marker]string{}
	for _, name := range names {
		m, ok := markerOf([]byte(name))
		if !ok {
			t.Errorf("%s is not recognised", name)
			continue
		}
		if other, dup := seen[m]; dup {
			t.Errorf("%s and %s are the same marker", name, other)
		}
		seen[m] = name
	}
	if len(seen) != int(numMarkers) {
		t.Errorf("%d markers recognised, %d defined", len(seen), numMarkers)
	}
	for _, name := range []string{"_tex", "__pfx__stext", "__start___ksymtab_gpl_", "_text.cold", "text", "__ksymtab_kernel_read"} {
		if _, ok := markerOf([]byte(name)); ok {
			t.Errorf("%s taken for a marker", name)
		}
	}
}

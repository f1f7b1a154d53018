package machine

import (
	"github.com/ksym-dev/ksym/internal/fixture"

	"strings"
	"testing"
)

// FuzzParseNotes: no panic, and every payload lies inside the input.
func FuzzParseNotes(f *testing.F) {
	f.Add(fixture.Read(f, "testdata/run1-A/sys/kernel/notes"))
	f.Add(buildIDNote(f, lkdtmBuildID))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		notes, err := ParseNotes(data)
		if err != nil {
			return
		}
		total := 0
		for _, n := range notes {
			total += 12 + len(n.Name) + len(n.Desc)
		}
		if total > len(data) {
			t.Fatalf("%d notes claim %d bytes of %d", len(notes), total, len(data))
		}
	})
}

// FuzzParseModules: no panic, and a parsed module has the fields every line
// must have.
func FuzzParseModules(f *testing.F) {
	f.Add(string(fixture.Read(f, "testdata/run1-A/proc/modules")))
	f.Add("foo 16384 1 bar,[permanent], Unloading 0x(null)\n")
	f.Add("foo 16384 - - Live 0xffffffffc0000000\n")
	f.Fuzz(func(t *testing.T, text string) {
		mods, err := ParseModules(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, m := range mods {
			if m.Name == "" || m.State == "" || strings.ContainsAny(m.Name, " \t\n") {
				t.Fatalf("module %+v from %q", m, text)
			}
		}
		_ = AddressesHidden(mods)
	})
}

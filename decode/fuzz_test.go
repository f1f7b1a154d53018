package decode

import (
	"path/filepath"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/klog"
)

// FuzzDecode feeds arbitrary logs through the klog parser and Decode, with
// a runtime table and with a System.map, with and without the modules'
// places, as x86_64 and as arm64: it must never panic, and every frame must
// keep its line inside the report.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"run2-B/oops-03-lkdtm-EXCEPTION.txt", "run1-A/oops-05-sysrq-c.txt", "run3-C/dmesg-sysrq-l.txt"} {
		f.Add(string(fixture.Read(f, fixture.Path(filepath.Join(debian, "boots", name)))))
	}
	f.Add("RIP: 0010:[<ffffffff81000000>]\n [<ffffffffc09e64a5>]\n ? [<000000005ec5fd9f>]\nRIP: 0033:0x0\n")
	f.Add("Kernel Offset: 0xffffffffffff from 0xffffffff81000000\n [<0000000000000001>] x+0x1/0x0 [m]\n")
	f.Add("Internal error: Oops: 96000004 [#1] SMP\npc : f+0x1/0x2\nsp : ffff800009013f00\nx1 : ffffffffffffffff x0 : ffff800008030000\n [<ffffffffc09e64a5>] lkdtm_BUG+0x5/0x10 [lkdtm]\n")
	runtime, sm := bootTable(f, "run2-B"), systemMap(f)
	f.Fuzz(func(t *testing.T, log string) {
		for _, d := range []*Decoder{New(runtime, Options{}), New(sm, Options{SystemMap: true}),
			New(runtime, Options{Modules: run2BModules}), New(sm, Options{SystemMap: true, Modules: run2BModules}),
			New(sm, Options{SystemMap: true, Arch: ArchArm64})} {
			for _, r := range klog.Parse(log) {
				res := d.Decode(r)
				for _, fr := range res.Frames {
					if fr.Line < 0 || fr.Line >= len(r.Lines) {
						t.Fatalf("frame line %d outside the report's %d lines", fr.Line, len(r.Lines))
					}
				}
				_ = res.Summary.Line()
			}
		}
	})
}

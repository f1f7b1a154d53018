package kstack

import (
	"strings"
	"testing"
)

func TestParseFrameLine(t *testing.T) {
	tests := []struct {
		line string
		want Frame
		end  bool
		ok   bool
	}{
		// Real lines: this machine (6.18.44), the Debian boots (6.1).
		{"[<0>] do_wait+0x114/0x320", Frame{Name: "do_wait", Offset: 0x114, Size: 0x320, HasOffset: true}, false, true},
		{"[<0>] ret_from_fork_asm+0x1a/0x30", Frame{Name: "ret_from_fork_asm", Offset: 0x1a, Size: 0x30, HasOffset: true}, false, true},
		// The layouts of older kernels and of modules (synthetic: no
		// fixture has them).
		{"[<ffffffff8108f0b5>] do_wait+0x1c5/0x260", Frame{Name: "do_wait", Offset: 0x1c5, Size: 0x260, HasOffset: true, Addr: 0xffffffff8108f0b5, HasAddr: true}, false, true},
		{"[<0>] direct_entry.cold+0x18/0x24 [lkdtm]", Frame{Name: "direct_entry.cold", Offset: 0x18, Size: 0x24, HasOffset: true, Module: "lkdtm"}, false, true},
		{"[<0>] f+0x1/0x2 [mod 0123456789abcdef0123456789abcdef01234567]", Frame{Name: "f", Offset: 1, Size: 2, HasOffset: true, Module: "mod"}, false, true},
		{"[<0>] 0xffffffffc0001234", Frame{Addr: 0xffffffffc0001234, HasAddr: true}, false, true},
		{"[<c04fd8b3>] kmemleak_alloc+0x193/0x2b8", Frame{Name: "kmemleak_alloc", Offset: 0x193, Size: 0x2b8, HasOffset: true, Addr: 0xc04fd8b3, HasAddr: true}, false, true},
		{"[<000000008beb86da>] kmem_cache_alloc+0x1bb/0x3d0", Frame{Name: "kmem_cache_alloc", Offset: 0x1bb, Size: 0x3d0, HasOffset: true, Addr: 0x8beb86da}, false, true},
		{"[<0>] bpf_prog_6deef7357e7b4530_x+0x2c", Frame{Name: "bpf_prog_6deef7357e7b4530_x", Offset: 0x2c, HasOffset: true}, false, true},
		{"[<0>] <T as core::fmt::Debug>::fmt+0x1/0x2", Frame{Name: "<T as core::fmt::Debug>::fmt", Offset: 1, Size: 2, HasOffset: true}, false, true},
		{"[<ffffffffffffffff>] 0xffffffffffffffff", Frame{}, true, true},
		{"[<ffffffff>] 0xffffffff", Frame{}, true, true},
		{"[<000000005ec5fd9f>] 0xffffffffffffffff", Frame{}, true, true},
		{"", Frame{}, false, false},
		{"[<0>]", Frame{}, false, false},
		{"[<0>] ", Frame{}, false, false},
		{"[<zz>] f+0x1/0x2", Frame{}, false, false},
		{"[<0>]f+0x1/0x2", Frame{}, false, false},
		{"[<0>] f+0xzz/0x2", Frame{}, false, false},
		{"[<0>] f+0x1/2", Frame{}, false, false},
		{"[<0>] f+0x1/0x2 []", Frame{}, false, false},
		{"[<0>] 0xnothex", Frame{}, false, false},
		{" [<0>] f+0x1/0x2", Frame{}, false, false},
		{"[<0>] f", Frame{}, false, false},
		// arm32 frames of a log without timestamps (crashlogs report/550).
		{"[<80c1e5e8>] (__schedule) from [<80c1eb20>] (schedule+0x60/0xdc)", Frame{}, false, false},
		{"[<80c1e5e8>] (__schedule) from [<80c1eb20>] (schedule)", Frame{}, false, false},
		{"[<00000000000000000>] f+0x1/0x2", Frame{}, false, false},
	}
	for _, tt := range tests {
		got, end, ok := ParseFrameLine(tt.line)
		if got != tt.want || end != tt.end || ok != tt.ok {
			t.Errorf("ParseFrameLine(%q) = %+v, %v, %v; want %+v, %v, %v", tt.line, got, end, ok, tt.want, tt.end, tt.ok)
		}
	}
}

func TestFrameText(t *testing.T) {
	f := Frame{Name: "direct_entry.cold", Offset: 0x18, Size: 0x24, HasOffset: true, Module: "lkdtm"}
	if got, want := f.String(), "direct_entry.cold+0x18/0x24 [lkdtm]"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := f.Func(), "direct_entry.cold [lkdtm]"; got != want {
		t.Errorf("Func = %q, want %q", got, want)
	}
	raw := Frame{Addr: 0xffffffffc0001234, HasAddr: true}
	if got, want := raw.Func(), "0xffffffffc0001234"; got != want || raw.String() != want {
		t.Errorf("raw: Func %q String %q, want %q", got, raw.String(), want)
	}
}

// FuzzParseFrameLine: no panic; a frame prints back as a line that parses
// to the same frame.
func FuzzParseFrameLine(f *testing.F) {
	for _, s := range []string{
		"[<0>] do_wait+0x114/0x320", "[<ffffffff8108f0b5>] do_wait+0x1c5/0x260",
		"[<0>] f+0x1/0x2 [mod id]", "[<0>] 0xffffffffc0001234", "[<ffffffff>] 0xffffffff",
		"[<0>] <T as core::fmt::Debug>::fmt+0x1/0x2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		fr, end, ok := ParseFrameLine(line)
		if !ok || end {
			return
		}
		if fr.Name == "" && !fr.HasAddr && strings.HasPrefix(strings.TrimLeft(line[strings.Index(line, ">]")+2:], " "), "0x") {
			return // "[<0>] 0x0": nothing to print back
		}
		again, end2, ok2 := ParseFrameLine("[<0>] " + fr.String())
		again.Addr, again.HasAddr = fr.Addr, fr.HasAddr
		if !ok2 || end2 || again != fr {
			t.Fatalf("%q -> %+v -> %q -> %+v (%v)", line, fr, fr.String(), again, ok2)
		}
	})
}

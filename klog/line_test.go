package klog

import "testing"

func TestParseLine(t *testing.T) {
	tests := []struct {
		raw  string
		want Line
	}{
		{"[  102.725341] RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]",
			Line{Text: "RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]", Time: "102.725341", Level: -1, Seq: -1}},
		{"[   77.712309]  direct_entry.cold+0x18/0x24 [lkdtm]",
			Line{Text: " direct_entry.cold+0x18/0x24 [lkdtm]", Time: "77.712309", Level: -1, Seq: -1}},
		{"[    4.227552][    T1] DMI not present or invalid.",
			Line{Text: "DMI not present or invalid.", Time: "4.227552", Caller: "T1", Level: -1, Seq: -1}},
		{"[ 1349.302849][    C1] pc : mark_lock+0x4/0x1b4",
			Line{Text: "pc : mark_lock+0x4/0x1b4", Time: "1349.302849", Caller: "C1", Level: -1, Seq: -1}},
		{"[  102.7] [ T1234] text", Line{Text: "text", Time: "102.7", Caller: "T1234", Level: -1, Seq: -1}},
		{"<5>[    0.000000] Linux version 6.1.0-56-amd64",
			Line{Text: "Linux version 6.1.0-56-amd64", Time: "0.000000", Level: 5, Seq: -1}},
		{"<12>[    1.5] x", Line{Text: "x", Time: "1.5", Level: 4, Facility: 1, Seq: -1}},
		{"[Mon Nov 26 07:55:13 2026] Oops: 0002 [#1] SMP",
			Line{Text: "Oops: 0002 [#1] SMP", Date: "Mon Nov 26 07:55:13 2026", Level: -1, Seq: -1}},
		{"Nov 26 07:55:13 debian kernel: Call Trace:",
			Line{Text: "Call Trace:", Date: "Nov 26 07:55:13", Host: "debian", Level: -1, Seq: -1}},
		{"Nov  6 07:55:13 debian kernel: [   77.1] x",
			Line{Text: "x", Date: "Nov  6 07:55:13", Host: "debian", Time: "77.1", Level: -1, Seq: -1}},
		{"2026-11-26T07:55:13.123456+00:00 host-1 kernel: x",
			Line{Text: "x", Date: "2026-11-26T07:55:13.123456+00:00", Host: "host-1", Level: -1, Seq: -1}},
		{"[ 1234.567890] debian kernel:  ? foo+0x1/0x2",
			Line{Text: " ? foo+0x1/0x2", Time: "1234.567890", Host: "debian", Level: -1, Seq: -1}},
		{"4,1234,102725341,-;BUG: kernel NULL pointer dereference",
			Line{Text: "BUG: kernel NULL pointer dereference", Time: "102.725341", Level: 4, Seq: 1234}},
		{"6,7,5,c,caller=T1;x", Line{Text: "x", Time: "0.000005", Level: 6, Seq: 7}},
		{"[   77.7]  </TASK>\r", Line{Text: " </TASK>", Time: "77.7", Level: -1, Seq: -1}},
		{"\x1b[0;32m[   77.7] \x1b[0mCall Trace:", Line{Text: "Call Trace:", Time: "77.7", Level: -1, Seq: -1}},
		{"** 12 printk messages dropped **", Line{Text: "** 12 printk messages dropped **", Dropped: 12, Level: -1, Seq: -1}},
		{"syzkaller login: [   36.852785][ T3615] traps: x",
			Line{Text: "traps: x", Time: "36.852785", Caller: "T3615", Glued: "syzkaller login: ", Level: -1, Seq: -1}},
		// 4.x x86 KASAN printed its GPF hint without a newline
		{"[   44.870467] kasan: GPF could be caused by NULL-ptr deref or user memory accessgeneral protection fault: 0000 [#1] PREEMPT SMP KASAN",
			Line{Text: "general protection fault: 0000 [#1] PREEMPT SMP KASAN", Time: "44.870467",
				Glued: "kasan: GPF could be caused by NULL-ptr deref or user memory access", Level: -1, Seq: -1}},
		{"[   44.870467] kasan: GPF could be caused by NULL-ptr deref or user memory access",
			Line{Text: "kasan: GPF could be caused by NULL-ptr deref or user memory access", Time: "44.870467", Level: -1, Seq: -1}},
		{"** 2977 printk messages dropped ** [   46.292061]  [<ffffffff814f873b>] ? rw_verify_area+0xbb/0x2c0",
			Line{Text: " [<ffffffff814f873b>] ? rw_verify_area+0xbb/0x2c0", Time: "46.292061", Dropped: 2977, Level: -1, Seq: -1}},
		{"[not a prefix] text", Line{Text: "[not a prefix] text", Level: -1, Seq: -1}},
		{"  [<ffffffff81234567>] foo+0x1/0x2", Line{Text: "  [<ffffffff81234567>] foo+0x1/0x2", Level: -1, Seq: -1}},
		{"", Line{Level: -1, Seq: -1}},
	}
	for _, tt := range tests {
		got := ParseLine(tt.raw)
		tt.want.Raw = tt.raw
		if got != tt.want {
			t.Errorf("ParseLine(%q)\n got %+v\nwant %+v", tt.raw, got, tt.want)
		}
	}
}

// naiveCleanPrefix is the byte-by-byte definition cleanPrefix implements.
func naiveCleanPrefix(s string) int {
	i := 0
	for i < len(s) && (s[i] >= 0x20 || s[i] == '\t') && s[i] != 0x7f {
		i++
	}
	return i
}

func TestCleanPrefix(t *testing.T) {
	base := []byte("abcdefghijklmnopqrstu")
	for c := 0; c < 256; c++ {
		for pos := 0; pos < len(base); pos++ {
			b := append([]byte(nil), base...)
			b[pos] = byte(c)
			if got, want := cleanPrefix(string(b)), naiveCleanPrefix(string(b)); got != want {
				t.Fatalf("cleanPrefix(%q) = %d, want %d", b, got, want)
			}
		}
	}
}

package decode

import (
	"slices"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// TestSignature: what varies between occurrences of one crash is left out
// of its signature. The summaries are synthetic: the fields are what
// summarize fills in.
func TestSignature(t *testing.T) {
	tests := []struct {
		s    Summary
		want Signature
		str  string
	}{
		{Summary{Kind: klog.KindNullDeref, GuiltyFunc: "lkdtm_EXCEPTION", Title: "BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION [lkdtm]", PID: 797, Release: "6.1.0-56-amd64"},
			Signature{Kind: klog.KindNullDeref, Func: "lkdtm_EXCEPTION"}, "null-deref in lkdtm_EXCEPTION"},
		{Summary{Kind: klog.KindWarning, GuiltyFunc: "tcp_sendmsg_locked.isra.0"},
			Signature{Kind: klog.KindWarning, Func: "tcp_sendmsg_locked"}, "warning in tcp_sendmsg_locked"},
		{Summary{Kind: klog.KindBUG, GuiltyFunc: "direct_entry.cold"},
			Signature{Kind: klog.KindBUG, Func: "direct_entry"}, "bug in direct_entry"},
		{Summary{Kind: klog.KindKASAN, GuiltyFunc: "hid_parser.llvm.4210786"},
			Signature{Kind: klog.KindKASAN, Func: "hid_parser"}, "kasan in hid_parser"},
		{Summary{Kind: klog.KindPanic, Title: "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009"},
			Signature{Kind: klog.KindPanic, Title: "Kernel panic - not syncing: Attempted to kill init! exitcode=N"}, `panic "Kernel panic - not syncing: Attempted to kill init! exitcode=N"`},
		{Summary{Kind: klog.KindBUG, Title: "BUG: Bad rss-counter state mm:00000000a1b2c3d4 type:MM_ANONPAGES val:1 on CPU#3 amd64 ext4"},
			Signature{Kind: klog.KindBUG, Title: "BUG: Bad rss-counter state mm:N type:MM_ANONPAGES val:N on CPU#N amd64 ext4"}, `bug "BUG: Bad rss-counter state mm:N type:MM_ANONPAGES val:N on CPU#N amd64 ext4"`},
		{Summary{Kind: klog.KindRCUStall}, Signature{Kind: klog.KindRCUStall}, "rcu-stall"},
	}
	for _, tc := range tests {
		got := tc.s.Signature()
		if got != tc.want || got.String() != tc.str {
			t.Errorf("%+v: got %+v %q, want %+v %q", tc.s, got, got.String(), tc.want, tc.str)
		}
	}
}

// TestBuckets: reports are counted by signature, with the releases seen
// and the first and last place, the largest bucket first.
func TestBuckets(t *testing.T) {
	var bs Buckets
	a := Summary{Kind: klog.KindWarning, GuiltyFunc: "foo.isra.0", Release: "6.1.0-56-amd64"}
	b := Summary{Kind: klog.KindNullDeref, GuiltyFunc: "bar", Release: "6.12.0"}
	bs.Add(b, Place{"x.txt", 5})
	bs.Add(a, Place{"x.txt", 40})
	a.GuiltyFunc, a.Release = "foo.constprop.1", "5.15.0"
	bs.Add(a, Place{"y.txt", 2})
	a.Release = ""
	bs.Add(a, Place{"z.txt", 9})
	got := bs.List()
	want := []Bucket{
		{Signature{Kind: klog.KindWarning, Func: "foo"}, 3, []string{"5.15.0", "6.1.0-56-amd64"}, Place{"x.txt", 40}, Place{"z.txt", 9}},
		{Signature{Kind: klog.KindNullDeref, Func: "bar"}, 1, []string{"6.12.0"}, Place{"x.txt", 5}, Place{"x.txt", 5}},
	}
	if !slices.EqualFunc(got, want, func(x, y Bucket) bool {
		return x.Signature == y.Signature && x.Count == y.Count && slices.Equal(x.Releases, y.Releases) && x.First == y.First && x.Last == y.Last
	}) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestPreview: decoding a report still open leaves the Decoder as it was:
// run2-B's oops-03 against the 6.18 firecracker table (another kernel)
// gives its warning in the preview, and again when the report ends.
func TestPreview(t *testing.T) {
	tab, err := kallsyms.Open(fixture.Path("firecracker-6.18.44/kallsyms.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	log := string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run2-B/oops-03-lkdtm-EXCEPTION.txt")))
	var sp klog.Splitter
	var parts []*klog.Report
	var full *klog.Report
	for i, raw := range strings.Split(log, "\n") {
		l := klog.ParseLine(raw)
		l.Num = i + 1
		if r := sp.Push(l); r != nil && full == nil {
			full = r
		}
		if i == 30 {
			parts = sp.Partial()
		}
	}
	if len(parts) != 1 || full == nil {
		t.Fatalf("%d partial reports, full %v", len(parts), full != nil)
	}
	d := New(tab, Options{})
	pre := d.Preview(parts[0])
	res := d.Decode(full)
	if len(pre.Warnings) != 1 || !slices.Equal(pre.Warnings, res.Warnings) || !res.Mismatch {
		t.Errorf("preview warnings %q, report warnings %q", pre.Warnings, res.Warnings)
	}
}

// FuzzSignature: masking numbers never panics, is idempotent, and leaves
// no word that is a number; a signature's function has no compiler suffix
// (a name that starts with "." is kept as it is).
func FuzzSignature(f *testing.F) {
	f.Add("Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009", "tcp_sendmsg_locked.isra.0")
	f.Add("BUG: Bad rss-counter state mm:00000000a1b2c3d4 type:MM_ANONPAGES val:1 on CPU#3", ".cold")
	f.Add("", ".a.b")
	f.Fuzz(func(t *testing.T, title, fn string) {
		m := maskNumbers(title)
		if maskNumbers(m) != m {
			t.Fatalf("%q masks to %q, then to %q", title, m, maskNumbers(m))
		}
		for _, w := range strings.FieldsFunc(m, func(r rune) bool { return r > 127 || !isWordByte(byte(r)) }) {
			if isNumber(w) {
				t.Fatalf("%q: number %q left in %q", title, w, m)
			}
		}
		if g := (Summary{GuiltyFunc: fn}).Signature(); strings.Contains(strings.TrimPrefix(g.Func, "."), ".") {
			t.Fatalf("%q: function %q", fn, g.Func)
		}
	})
}

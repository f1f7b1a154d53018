package serve_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/serve"
	"github.com/ksym-dev/ksym/store"
)

// TestDecodeFindsTheBoot stores the three boots of one Debian build and
// decodes an oops of the second: the server must pick run2-B's snapshot
// (the release matches all three; only run2-B places the register values
// the oops printed on symbols) and answer exactly what 'ksym decode
// --json' answers with that snapshot.
func TestDecodeFindsTheBoot(t *testing.T) {
	e := newEnv(t, serve.Config{})
	for _, run := range []string{"run1-A", "run2-B", "run3-C"} {
		e.push(run)
	}
	log := oops("run2-B", "oops-05-lkdtm-ACCESS_NULL.txt")
	a := e.decode(log, readToken, "")
	if a.Table.Snapshot == nil || a.Table.Snapshot.ID != store.SnapshotID("boot-run2-B", nil) {
		t.Fatalf("table %+v, want run2-B's snapshot %s", a.Table, store.SnapshotID("boot-run2-B", nil))
	}
	if a.Table.Match != serve.MatchRelease || a.Table.Boots != 3 || a.Table.AddressesWithheld {
		t.Errorf("table %+v: want matched by release among 3 boots, addresses shown", a.Table)
	}
	if got, want := jsonOf(t, a.Reports), jsonOf(t, cliJSON(t, "run2-B", log)); got != want {
		t.Errorf("reports differ from ksym decode --json:\n%s\nwant\n%s", got, want)
	}
	if !strings.HasSuffix(a.URL, "/r/"+a.ID) || len(a.ID) != 32 {
		t.Errorf("url %q id %q", a.URL, a.ID)
	}
	// The permalink's page shows the guilty function.
	code, page := e.do("GET", "/r/"+a.ID, "", nil)
	if code != http.StatusOK || !strings.Contains(string(page), `<dd class="guilty">`+strings.ReplaceAll(a.Reports[0].Summary.Guilty, "+", "&#43;")+`</dd>`) {
		t.Errorf("permalink page: %d, guilty %q not shown", code, a.Reports[0].Summary.Guilty)
	}
}

// TestDecodeAnonymousWithholdsAddresses: an anonymous caller gets the
// same names and offsets but no address from the snapshot, unless the
// server is public.
func TestDecodeAnonymousWithholdsAddresses(t *testing.T) {
	for _, public := range []bool{false, true} {
		e := newEnv(t, serve.Config{Public: public})
		e.push("run2-B")
		log := oops("run2-B", "oops-05-lkdtm-ACCESS_NULL.txt")
		a := e.decode(log, "", "")
		want := cliJSON(t, "run2-B", log)
		if !public {
			for i := range want {
				want[i].Registers = nil
				for j := range want[i].Frames {
					f := &want[i].Frames[j]
					f.Address, f.ModuleBase = "", ""
					if f.Status == "resolved" {
						f.Text, f.Symbol, f.Offset, f.Size, f.Module, f.ModuleOffset = "", "", 0, 0, "", 0
						f.Note = "resolved from the snapshot: shown with a token"
					}
				}
			}
		}
		if a.Table.AddressesWithheld == public {
			t.Errorf("public=%v: addresses_withheld=%v", public, a.Table.AddressesWithheld)
		}
		if got, w := jsonOf(t, a.Reports), jsonOf(t, want); got != w {
			t.Errorf("public=%v: anonymous answer:\n%s\nwant\n%s", public, got, w)
		}
		if !public && (strings.Contains(jsonOf(t, a.Reports), "0xffffffffc09e840e") || strings.Contains(jsonOf(t, a.Reports), "lkdtm_BUG+0x0/0x10")) {
			t.Error("a frame address or register annotation of the snapshot reached an anonymous caller")
		}
	}
}

// TestDecodeNoSnapshot: with no snapshot of the log's kernel stored (only
// another kernel's), the log is decoded from the log alone.
func TestDecodeNoSnapshot(t *testing.T) {
	e := newEnv(t, serve.Config{})
	a := e.decode(oops("run2-B", "oops-05-lkdtm-ACCESS_NULL.txt"), readToken, "")
	if a.Table.Match != serve.MatchNone || a.Table.Snapshot != nil {
		t.Errorf("table %+v, want none", a.Table)
	}
	for _, r := range a.Reports {
		if !r.LogOnly {
			t.Errorf("report %q not log-only", r.Title)
		}
	}
}

// TestDecodeWrongBootChosen: a snapshot named by the caller that is of
// another boot is refused by decode's checks (the Kernel Offset of a
// sysrq-c panic puts _text elsewhere): log-only, with the reason.
func TestDecodeWrongBootChosen(t *testing.T) {
	e := newEnv(t, serve.Config{})
	other := e.push("run1-A")
	a := e.decode(oops("run2-B", "oops-11-sysrq-c.txt"), readToken, "?snapshot="+other.ID)
	if a.Table.Match != serve.MatchChosen || len(a.Reports) == 0 {
		t.Fatalf("table %+v, %d reports", a.Table, len(a.Reports))
	}
	for _, r := range a.Reports {
		if !r.Mismatch || !r.LogOnly {
			t.Errorf("report %q: mismatch=%v log_only=%v, want both", r.Title, r.Mismatch, r.LogOnly)
		}
	}
}

// TestBuckets: two logs, one of them posted twice, make buckets counted
// once per report.
func TestBuckets(t *testing.T) {
	e := newEnv(t, serve.Config{})
	e.push("run2-B")
	e.decode(oops("run2-B", "oops-05-lkdtm-ACCESS_NULL.txt"), "", "?host=web1")
	e.decode(oops("run2-B", "oops-05-lkdtm-ACCESS_NULL.txt"), "", "?host=web1")
	b := e.decode(oops("run2-B", "oops-02-lkdtm-BUG.txt"), "", "?host=web2")
	code, body := e.do("GET", "/api/v1/buckets", "", nil)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	var ans struct{ Buckets []store.Bucket }
	if err := jsonUnmarshal(body, &ans); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, bk := range ans.Buckets {
		total += bk.Count
		for _, k := range bk.Kernels {
			if k != "6.1.0-56-amd64" {
				t.Errorf("bucket %s: kernel %q", bk.Signature, k)
			}
		}
	}
	if want := 1 + len(b.Reports); total != want {
		t.Errorf("%d occurrences in buckets, want %d (the repeated log once): %+v", total, want, ans.Buckets)
	}
	code, page := e.do("GET", "/buckets", "", nil)
	if code != http.StatusOK || !strings.Contains(string(page), "<svg") {
		t.Errorf("bucket page: %d, chart missing", code)
	}
}

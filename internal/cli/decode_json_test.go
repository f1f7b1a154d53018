package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// rawFramesLog is run2-B's oops-03 with raw module and core addresses added
// to its call trace: a module frame with its name, a bare lkdtm address, the
// base of fuse, an address past lkdtm in no module, lkdtm_EXCEPTION at
// run1-A's address (another boot), and a core address.
func rawFramesLog(t *testing.T) string {
	t.Helper()
	const entry = "[  102.725341]  direct_entry.cold+0x18/0x24 [lkdtm]\n"
	text := string(readFile(t, oops03))
	if !strings.Contains(text, entry) {
		t.Fatalf("%s lacks %q", oops03, entry)
	}
	raw := ""
	for _, l := range []string{
		"[<ffffffffc09e7900>] direct_entry.cold+0x18/0x24 [lkdtm]",
		"[<ffffffffc09e7900>]",
		"[<ffffffffc09ba000>]",
		"[<ffffffffc09f6000>]",
		"[<ffffffffc085b4a5>] lkdtm_EXCEPTION+0x5/0x20 [lkdtm]",
		"[<ffffffff8a3c4e0d>]",
	} {
		raw += "[  102.725341]  " + l + "\n"
	}
	return strings.Replace(text, entry, raw, 1)
}

// TestDecodeJSONFrames pins the JSON of decoded frames, field names, order
// and formats (hex strings for addresses and module bases, numbers for
// offsets, kind names), as ksym wrote them before package decode gave
// numbers only: the lines below are the output of that ksym.
func TestDecodeJSONFrames(t *testing.T) {
	out, errs, code := run(t, rawFramesLog(t), "--json", "decode", "--system-map", systemMap, "--modules", modulesB, "-")
	if code != ExitNotFound || !strings.Contains(errs, "the modules file is not from the boot that wrote this log") {
		t.Fatalf("status %d, stderr %q", code, errs)
	}
	var rep struct {
		File   string            `json:"file"`
		Frames []json.RawMessage `json:"frames"`
		Slide  json.RawMessage   `json:"slide"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"kind":"pc","line":7,"printed":"lkdtm_EXCEPTION+0x5/0x20 [lkdtm]","module":"lkdtm","reliable":true,"trace":-1,"status":"unchecked","note":"a System.map has no module symbols"}`,
		`{"kind":"trace","line":21,"printed":"direct_entry.cold+0x18/0x24 [lkdtm]","address":"0xffffffffc09e7900","module":"lkdtm","module_base":"0xffffffffc09e6000","module_offset":6400,"reliable":true,"context":"TASK","trace":0,"status":"unchecked","note":"module lkdtm+0x1900 (base 0xffffffffc09e6000): inside the module; name and size not checked (a System.map has no module symbols)"}`,
		`{"kind":"trace","line":22,"printed":"0xffffffffc09e7900","address":"0xffffffffc09e7900","module":"lkdtm","module_base":"0xffffffffc09e6000","module_offset":6400,"reliable":true,"context":"TASK","trace":0,"status":"unchecked","note":"module lkdtm+0x1900 (base 0xffffffffc09e6000): a System.map has no module symbols"}`,
		`{"kind":"trace","line":23,"printed":"0xffffffffc09ba000","address":"0xffffffffc09ba000","module":"fuse","module_base":"0xffffffffc09ba000","reliable":true,"context":"TASK","trace":0,"status":"unchecked","note":"module fuse+0x0 (base 0xffffffffc09ba000): a System.map has no module symbols"}`,
		`{"kind":"trace","line":24,"printed":"0xffffffffc09f6000","address":"0xffffffffc09f6000","reliable":true,"context":"TASK","trace":0,"status":"unchecked","note":"a module address in no module of the modules file: a System.map has no module symbols, and the kernel slide does not apply"}`,
		`{"kind":"trace","line":25,"printed":"lkdtm_EXCEPTION+0x5/0x20 [lkdtm]","address":"0xffffffffc085b4a5","module":"lkdtm","reliable":true,"context":"TASK","trace":0,"status":"size-mismatch","note":"the printed address 0xffffffffc085b4a5 is outside module lkdtm (0xffffffffc09e6000-0xffffffffc09f6000 in the modules file)"}`,
		`{"kind":"trace","line":26,"printed":"0xffffffff8a3c4e0d","address":"0xffffffff8a3c4e0d","reliable":true,"context":"TASK","trace":0,"status":"no-slide","note":"the KASLR slide is unknown"}`,
		`{"kind":"trace","line":27,"printed":"full_proxy_write+0x53/0x80","text":"full_proxy_write+0x53/0x80","symbol":"full_proxy_write","offset":83,"size":128,"reliable":true,"context":"TASK","trace":0,"status":"ok"}`,
	}
	if rep.File != "standard input" || len(rep.Frames) < len(want) {
		t.Fatalf("file %q, %d frames", rep.File, len(rep.Frames))
	}
	for i, w := range want {
		if string(rep.Frames[i]) != w {
			t.Errorf("frame %d:\n got %s\nwant %s", i, rep.Frames[i], w)
		}
	}
	if want := `{"known":false,"detail":"not found: the report prints no kernel offset, no frame with both address and name, and no register value that pins it"}`; string(rep.Slide) != want {
		t.Errorf("slide %s, want %s", rep.Slide, want)
	}
}

// TestDecodeJSONSlide: a known slide is a hex string with its method.
func TestDecodeJSONSlide(t *testing.T) {
	out, _, code := run(t, "", "--json", "decode", "--system-map", systemMap, sysrqCA)
	var rep struct {
		Slide json.RawMessage `json:"slide"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != ExitOK {
		t.Fatalf("status %d: %v", code, err)
	}
	if want := `{"known":true,"value":"0x18600000","method":"kernel-offset","detail":"from the \"Kernel Offset:\" line"}`; string(rep.Slide) != want {
		t.Errorf("slide %s, want %s", rep.Slide, want)
	}
}

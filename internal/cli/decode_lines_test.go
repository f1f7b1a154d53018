package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/reportjson"
)

// TestDecodeLinesModule decodes run2-B's real oops with the LKDTM module's
// DWARF and no kernel DWARF. The expected chains come from binutils, not
// from this code: addr2line -i -f -j .text 0x4a5 on the module (the
// faulting PC lkdtm_EXCEPTION+0x5, its symbol at 0x4a0 of .text) prints
// lkdtm_EXCEPTION at bugs.c:95, and -j .text.unlikely 0x17 (the return
// address direct_entry.cold+0x18, minus one) direct_entry at core.c:329.
// The kernel's frames have no lines, said once.
func TestDecodeLinesModule(t *testing.T) {
	t.Setenv("DEBUGINFOD_URLS", "")
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "decode", "--lines", "--debuginfo", lkdtmDebug, bootDir+"oops-03-lkdtm-EXCEPTION.txt")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]                         # ok 0xffffffffc09e64a5\n" +
			strings.Repeat(" ", 82) + "#   lkdtm_EXCEPTION lkdtm-6.1/src/bugs.c:95\n",
		" direct_entry.cold+0x18/0x24 [lkdtm]                               # ok 0xffffffffc09e7900\n" +
			strings.Repeat(" ", 82) + "#   direct_entry lkdtm-6.1/src/core.c:329\n",
		"   guilty:    lkdtm_EXCEPTION+0x5/0x20 [lkdtm] (module lkdtm, tainted OE)\n   source:    lkdtm-6.1/src/bugs.c:95 (lkdtm_EXCEPTION)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks\n%s", want)
		}
	}
	if n := strings.Count(errs, "ksym: no source lines for the kernel:"); n != 1 || strings.Count(errs, "\n") != 1 {
		t.Errorf("stderr %q: want one warning about the kernel's debug file", errs)
	}
	// Frames the table does not confirm get no lines: against the 6.18
	// table the log is decoded from the log alone.
	out, _, _ = run(t, "", "--kallsyms", "../../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz", "decode", "--lines", "--debuginfo", lkdtmDebug, bootDir+"oops-03-lkdtm-EXCEPTION.txt")
	if strings.Contains(out, "#   ") || strings.Contains(out, "source:") {
		t.Errorf("source lines for a log decoded from the log alone:\n%s", out)
	}
}

// TestDecodeLinesKernel checks every kernel frame of run2-B's oopses with
// a line against addr2line -i -f on the Debian vmlinux (fetched by
// scripts/fetch-debug.sh): at the link-time address (run2-B's runtime
// address less its KASLR offset 0x5800000, printed by its sysrq-c oops),
// less one for return addresses. addr2line prints absolute file names
// (/build/...): ksym's, relative to the kernel tree, must end them.
func TestDecodeLinesKernel(t *testing.T) {
	vmlinux := debianVmlinux(t)
	if _, err := exec.LookPath("addr2line"); err != nil {
		t.Skip("addr2line (binutils) absent")
	}
	t.Setenv("DEBUGINFOD_URLS", "")
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "--json", "decode", "--lines", "--debuginfo", vmlinux, "--debuginfo", lkdtmDebug,
		bootDir+"oops-03-lkdtm-EXCEPTION.txt", bootDir+"oops-02-lkdtm-BUG.txt", bootDir+"dmesg-sysrq-t.txt")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	type asked struct {
		printed string
		addr    uint64
		source  []reportjson.SourceLine
	}
	var frames []asked
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var rep struct {
			Frames []struct {
				Kind, Printed, Address, Module string
				Source                         []reportjson.SourceLine
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		for _, f := range rep.Frames {
			if f.Module != "" || len(f.Source) == 0 {
				continue
			}
			addr, err := strconv.ParseUint(strings.TrimPrefix(f.Address, "0x"), 16, 64)
			if err != nil {
				t.Fatalf("%s: address %q", f.Printed, f.Address)
			}
			addr -= 0x5800000
			if f.Kind != "pc" {
				addr--
			}
			frames = append(frames, asked{f.Printed, addr, f.Source})
		}
	}
	if len(frames) < 100 {
		t.Errorf("%d kernel frames with lines, want the 100 and more of these logs", len(frames))
	}
	addrs := make([]uint64, len(frames))
	for i, f := range frames {
		addrs[i] = f.addr
	}
	want := addr2line(t, vmlinux, addrs)
	for k, f := range frames {
		w := want[k]
		if len(w) != len(f.source) {
			t.Errorf("%s: %v, addr2line %v", f.printed, f.source, w)
			continue
		}
		for i, s := range f.source {
			if s.Function != w[i][0] || !strings.HasSuffix(w[i][1], "/"+s.File+":"+strconv.Itoa(s.Line)) {
				t.Errorf("%s: frame %d %s %s:%d, addr2line %s %s", f.printed, i, s.Function, s.File, s.Line, w[i][0], w[i][1])
			}
		}
	}
}

// addr2line returns binutils' inline chain (function, file:line) at each
// address, in one run (-a prints each address before its chain).
func addr2line(t *testing.T, file string, addrs []uint64) [][][2]string {
	t.Helper()
	args := []string{"-a", "-i", "-f", "-e", file}
	for _, a := range addrs {
		args = append(args, fmt.Sprintf("%#x", a))
	}
	b, err := exec.Command("addr2line", args...).Output()
	if err != nil {
		t.Fatal(err)
	}
	var out [][][2]string
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "0x") && len(lines[i]) == 18 {
			out = append(out, nil)
			continue
		}
		if i+1 < len(lines) && len(out) > 0 {
			loc, _, _ := strings.Cut(lines[i+1], " (discriminator")
			out[len(out)-1] = append(out[len(out)-1], [2]string{lines[i], loc})
			i++
		}
	}
	if len(out) != len(addrs) {
		t.Fatalf("addr2line answered %d of %d addresses", len(out), len(addrs))
	}
	return out
}

package klog_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/klog"
)

func Example() {
	log := `[  102.725341] BUG: kernel NULL pointer dereference, address: 0000000000000000
[  102.725341] Oops: 0002 [#2] PREEMPT SMP NOPTI
[  102.725341] CPU: 1 PID: 797 Comm: sh Tainted: G      D    OE      6.1.0-56-amd64 #1  Debian 6.1.192-2
[  102.725341] RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]
[  102.725341] Call Trace:
[  102.725341]  <TASK>
[  102.725341]  direct_entry.cold+0x18/0x24 [lkdtm]
[  102.725341]  ? exit_to_user_mode_prepare+0x44/0x240
[  102.725341]  </TASK>
[  102.725341] ---[ end trace 0000000000000000 ]---
[  103.000000] next message
`
	for _, r := range klog.Parse(log) {
		fmt.Println(r.Kind, r.Func, r.Header.Comm, r.Header.Taints(), r.Header.Release)
		for _, f := range r.Frames {
			fmt.Printf("%s %s+%#x/%#x [%s] reliable=%v context=%q\n", f.Kind, f.Name, f.Offset, f.Size, f.Module, f.Reliable, f.Context)
		}
	}
	// Output:
	// null-deref lkdtm_EXCEPTION sh GDOE 6.1.0-56-amd64
	// pc lkdtm_EXCEPTION+0x5/0x20 [lkdtm] reliable=true context=""
	// trace direct_entry.cold+0x18/0x24 [lkdtm] reliable=true context="TASK"
	// trace exit_to_user_mode_prepare+0x44/0x240 [] reliable=false context="TASK"
}

func ExampleParseLine() {
	l := klog.ParseLine("<4>[  102.725341][ T797] RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]")
	fmt.Printf("%d %s %s %q\n", l.Level, l.Time, l.Caller, l.Text)
	// Output: 4 102.725341 T797 "RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]"
}

// errReader fails after its text.
type errReader struct {
	r   io.Reader
	err error
}

func (e errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func TestScanErrors(t *testing.T) {
	boom := errors.New("boom")
	text := "[  1.0] kernel BUG at mm/x.c:1!\n[  1.0]  foo+0x1/0x2\n"
	var n int
	err := klog.Scan(errReader{strings.NewReader(text), boom}, func(*klog.Report) error { n++; return nil })
	if !errors.Is(err, boom) || n != 0 {
		t.Errorf("reader error: got %v after %d reports", err, n)
	}
	stop := errors.New("stop")
	err = klog.Scan(strings.NewReader(text), func(*klog.Report) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("emit error: got %v", err)
	}
}

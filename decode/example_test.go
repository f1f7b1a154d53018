package decode_test

import (
	"fmt"
	"os"

	"github.com/ksym-dev/ksym/decode"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// Decode a crash log with the crashed boot's saved kallsyms.
func Example() {
	const boot = "../testdata/fixtures/debian-6.1.0-56-amd64/boots/run2-B/"
	t, err := kallsyms.Open(boot + "kallsyms.txt.gz")
	if err != nil {
		fmt.Println(err)
		return
	}
	log, err := os.Open(boot + "oops-03-lkdtm-EXCEPTION.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer log.Close()
	d := decode.New(t, decode.Options{})
	_ = klog.Scan(log, func(r *klog.Report) error {
		res := d.Decode(r)
		fmt.Println(res.Summary.Title)
		fmt.Printf("guilty: %s at %#x\n", res.Summary.Guilty, res.Frames[res.Summary.GuiltyIndex].Addr)
		return nil
	})
	// Output:
	// BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION [lkdtm]
	// guilty: lkdtm_EXCEPTION+0x5/0x20 [lkdtm] at 0xffffffffc09e64a5
}

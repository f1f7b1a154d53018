package kallsyms_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ksym-dev/ksym/kallsyms"
)

// The table of a real boot (Debian 6.1, KASLR, modules loaded) whose crash
// logs printed the frames shown below.
const exampleTable = "../testdata/fixtures/debian-6.1.0-56-amd64/boots/run2-B/kallsyms.txt.gz"

// Resolve an address the way the kernel prints %pS. The kernel printed
// "RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]" for this address.
func Example() {
	t, err := kallsyms.Open(exampleTable) // or "/proc/kallsyms"
	if err != nil {
		fmt.Println(err)
		return
	}
	loc, err := t.Lookup(0xffffffffc09e64a5)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.FormatLocation(loc))
	// Output: lkdtm_EXCEPTION+0x5/0x20 [lkdtm]
}

// Return addresses in a stack trace are resolved as the kernel's %pB does:
// kthread_complete_and_exit ends with a call to a noreturn function, so its
// return address is the first byte of kthread. The kernel printed
// "? kthread_complete_and_exit+0x20/0x20".
func ExampleTable_LookupReturn() {
	t, err := kallsyms.Open(exampleTable)
	if err != nil {
		fmt.Println(err)
		return
	}
	const ret = 0xffffffff868cd340
	loc, _ := t.Lookup(ret)
	fmt.Println(t.FormatLocation(loc))
	loc, _ = t.LookupReturn(ret)
	fmt.Println(t.FormatLocation(loc))
	// Output:
	// kthread+0x0/0x100
	// kthread_complete_and_exit+0x20/0x20
}

// Find the addresses of a name; "module:name" restricts to one module, and
// static functions can share a name.
func ExampleTable_Find() {
	t, err := kallsyms.Open(exampleTable)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, i := range t.Find("lkdtm:lkdtm_BUG") {
		fmt.Printf("%#x %c %s [%s]\n", t.Addr(i), t.Type(i), t.Name(i), t.ModuleName(i))
	}
	for _, i := range t.Find("do_fault") {
		fmt.Printf("%#x %c %s\n", t.Addr(i), t.Type(i), t.Name(i))
	}
	// Output:
	// 0xffffffffc09e6620 t lkdtm_BUG [lkdtm]
	// 0xffffffff86acd560 t do_fault
	// 0xffffffff86ed4650 t do_fault
}

// Search by glob, regular expression, type letters and module.
func ExampleTable_Search() {
	t, err := kallsyms.Open(exampleTable)
	if err != nil {
		fmt.Println(err)
		return
	}
	idx, err := t.Search(kallsyms.Query{Pattern: "lkdtm_WARNING*", Module: "lkdtm", Types: "t"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, i := range idx {
		fmt.Printf("%#x %s\n", t.Addr(i), t.Name(i))
	}
	// Output:
	// 0xffffffffc09e6630 lkdtm_WARNING
	// 0xffffffffc09e6730 lkdtm_WARNING_MESSAGE
}

// Write a table's index once, then map it in later processes instead of
// parsing: the lookups answer the same.
func ExampleOpenIndex() {
	t, err := kallsyms.Open(exampleTable)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "ksym-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run2-B.ksymidx")
	f, err := os.Create(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = t.WriteIndex(f, nil)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Println(err)
		return
	}

	x, err := kallsyms.OpenIndex(path) // in another process, later
	if err != nil {
		fmt.Println(err)
		return
	}
	loc, err := x.Table.Lookup(0xffffffffc09e64a5)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x.Table.FormatLocation(loc))
	// Output: lkdtm_EXCEPTION+0x5/0x20 [lkdtm]
}

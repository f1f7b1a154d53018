// Command ksym resolves Linux kernel addresses and symbols from
// /proc/kallsyms, a saved copy of it, or a System.map. Run "ksym --help".
package main

import (
	"os"

	"github.com/ksym-dev/ksym/internal/cli"
)

func main() {
	os.Exit(cli.Execute(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

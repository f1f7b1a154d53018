//go:build !linux

package kcache

import "github.com/ksym-dev/ksym/kallsyms"

// openIndex reads the cache's index file (it is mapped on Linux).
func openIndex(path string) (*kallsyms.Index, error) { return kallsyms.OpenIndex(path) }

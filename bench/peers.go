// Package bench compares github.com/ksym-dev/ksym/kallsyms with the kallsyms
// readers of other Go projects (OpenTelemetry eBPF profiler, Grafana Pyroscope,
// Inspektor Gadget, Cloudflare ebpf_exporter, Cilium Tetragon) on real kernel
// symbol tables. It is a separate module so that the main module never depends
// on them. The benchmarks and correctness demonstrations are in the _test.go
// files; run.sh runs the whole comparison.
package bench

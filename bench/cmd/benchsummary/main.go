// Command benchsummary turns the output of run.sh's benchmark passes into
// Markdown tables: the median of each metric per table and implementation,
// the ratio to the best peer, and the ksym targets marked met or not met.
//
//	go run ./cmd/benchsummary results/bench-*.txt
//
// Files whose name contains "-cpu1" are the -test.cpu 1 passes of BenchmarkParse.
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// peers are the other libraries; everything else is ksym or a baseline.
var peers = []string{"otel", "pyroscope", "inspektor-gadget", "cloudflare", "tetragon"}

type key struct{ group, table, impl, unit string }

var (
	samples = map[key][]float64{}
	lineRE  = regexp.MustCompile(`^Benchmark(\w+)/(?:table=([\w-]+)/)?impl=([\w-]+?)(?:-\d+)?\s+\d+\s+(.*)$`)
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchsummary bench-output.txt...")
		os.Exit(2)
	}
	for _, p := range os.Args[1:] {
		if err := readFile(p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	for _, tbl := range []string{"firecracker", "debian"} {
		if !has("Parse", tbl) {
			continue
		}
		fmt.Printf("\n### table=%s\n", tbl)
		printGroup("Parse (whole table)", "Parse", tbl, "ns/op", []string{"ns/op", "B/op", "allocs/op"})
		printGroup("Parse (whole table), GOMAXPROCS=1", "ParseCPU1", tbl, "ns/op", []string{"ns/op", "B/op", "allocs/op"})
		printGroup("Retained heap after parse (GC'd HeapAlloc delta)", "Retained", tbl, "retained-MiB", []string{"retained-MiB", "retained-after-find-MiB"})
		printGroup("Address lookup (per lookup, 4096 random kernel-text addresses)", "LookupAddr", tbl, "ns/op", []string{"ns/op", "B/op", "allocs/op"})
		printGroup("Name lookup (per lookup, 4096 random text symbol names)", "LookupName", tbl, "ns/op", []string{"ns/op", "B/op", "allocs/op"})
	}
	if has("Live", "live") {
		fmt.Printf("\n### live /proc/kallsyms of this machine\n")
		printGroup("Live read + parse", "Live", "live", "ns/op", []string{"ns/op", "B/op", "allocs/op"})
	}
	printTargets()
}

func readFile(path string) error {
	// Files from the -test.cpu 1 passes hold the group "Parse" at GOMAXPROCS=1.
	suffix := ""
	if strings.Contains(path, "-cpu1") {
		suffix = "CPU1"
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		group, table, impl := m[1]+suffix, m[2], m[3]
		if table == "" {
			table = "live"
		}
		fs := strings.Fields(m[4])
		for i := 0; i+1 < len(fs); i += 2 {
			v, err := strconv.ParseFloat(fs[i], 64)
			if err != nil {
				continue
			}
			k := key{group, table, impl, fs[i+1]}
			samples[k] = append(samples[k], v)
		}
	}
	return sc.Err()
}

func has(group, table string) bool {
	for k := range samples {
		if k.group == group && k.table == table {
			return true
		}
	}
	return false
}

func median(group, table, impl, unit string) (float64, int, bool) {
	v := samples[key{group, table, impl, unit}]
	if len(v) == 0 {
		return 0, 0, false
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], n, true
	}
	return (s[n/2-1] + s[n/2]) / 2, n, true
}

// spread returns (max-min)/median in percent.
func spread(group, table, impl, unit string) float64 {
	v := samples[key{group, table, impl, unit}]
	m, _, ok := median(group, table, impl, unit)
	if !ok || m == 0 {
		return 0
	}
	return (slices.Max(v) - slices.Min(v)) / m * 100
}

func impls(group, table string) []string {
	seen := map[string]bool{}
	var out []string
	for k := range samples {
		if k.group == group && k.table == table && !seen[k.impl] {
			seen[k.impl] = true
			out = append(out, k.impl)
		}
	}
	rank := func(s string) int {
		switch {
		case strings.HasPrefix(s, "ksym"):
			return 0
		case slices.Contains(peers, s):
			return 1
		}
		return 2
	}
	sort.SliceStable(out, func(i, j int) bool {
		if rank(out[i]) != rank(out[j]) {
			return rank(out[i]) < rank(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// bestPeer returns the peer with the lowest median of unit.
func bestPeer(group, table, unit string) (string, float64) {
	best, bv := "", math.Inf(1)
	for _, p := range peers {
		if v, _, ok := median(group, table, p, unit); ok && v < bv {
			best, bv = p, v
		}
	}
	return best, bv
}

func printGroup(title, group, table, primary string, units []string) {
	if !has(group, table) {
		return
	}
	fmt.Printf("\n%s (median of n runs; ± = (max-min)/median)\n\n", title)
	bp, bv := bestPeer(group, table, primary)
	hdr := "| impl | n |"
	sep := "|---|---|"
	for _, u := range units {
		hdr += " " + u + " |"
		sep += "---|"
	}
	if bp != "" {
		hdr += fmt.Sprintf(" %s vs best peer (%s) |", primary, bp)
		sep += "---|"
	}
	fmt.Println(hdr)
	fmt.Println(sep)
	for _, im := range impls(group, table) {
		row := "| " + im + " |"
		n := 0
		for _, u := range units {
			v, k, ok := median(group, table, im, u)
			n = max(n, k)
			if !ok {
				row += " – |"
				continue
			}
			row += " " + format(v, u)
			if u == primary && k > 1 {
				row += fmt.Sprintf(" ±%.0f%%", spread(group, table, im, u))
			}
			row += " |"
		}
		row = strings.Replace(row, " |", fmt.Sprintf(" | %d |", n), 1)
		if bp != "" {
			if v, _, ok := median(group, table, im, primary); ok && bv > 0 {
				row += " " + ratio(v/bv) + " |"
			} else {
				row += " – |"
			}
		}
		fmt.Println(row)
	}
}

func format(v float64, unit string) string {
	switch unit {
	case "ns/op":
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.2f ms", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.2f µs", v/1e3)
		}
		return fmt.Sprintf("%.1f ns", v)
	case "B/op":
		switch {
		case v >= 1<<20:
			return fmt.Sprintf("%.2f MiB", v/(1<<20))
		case v >= 1<<10:
			return fmt.Sprintf("%.1f KiB", v/(1<<10))
		}
		return fmt.Sprintf("%.0f B", v)
	case "allocs/op":
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func printTargets() {
	fmt.Printf("\n### targets\n\n| target | table | ksym | reference | ratio | verdict |\n|---|---|---|---|---|---|\n")
	row := func(name, table string, kv float64, kOK bool, ref string, rv float64, rOK bool, ratio float64, met bool, unit string) {
		if !kOK || !rOK {
			fmt.Printf("| %s | %s | – | – | – | no data |\n", name, table)
			return
		}
		verdict := "**not met**"
		if met {
			verdict = "met"
		}
		fmt.Printf("| %s | %s | %s | %s %s | %.2fx | %s |\n", name, table, format(kv, unit), ref, format(rv, unit), ratio, verdict)
	}
	for _, tbl := range []string{"firecracker", "debian"} {
		if !has("Parse", tbl) {
			continue
		}
		// Parse >= 3x faster than OTel: both read the bind-mounted /proc/kallsyms.
		kv, _, kok := median("Parse", tbl, "ksym-proc", "ns/op")
		ov, _, ook := median("Parse", tbl, "otel", "ns/op")
		row("parse ≥ 3x faster than OTel (ksym-proc vs otel, same file)", tbl, kv, kok, "otel", ov, ook, ov/kv, ov/kv >= 3, "ns/op")
		kb, _, kbok := median("Parse", tbl, "ksym-bytes", "ns/op")
		row("  (in-memory: ksym-bytes vs otel)", tbl, kb, kbok, "otel", ov, ook, ov/kb, ov/kb >= 3, "ns/op")
		k1, _, k1ok := median("ParseCPU1", tbl, "ksym-proc", "ns/op")
		o1, _, o1ok := median("ParseCPU1", tbl, "otel", "ns/op")
		row("  (GOMAXPROCS=1: ksym-proc vs otel)", tbl, k1, k1ok, "otel", o1, o1ok, o1/k1, o1/k1 >= 3, "ns/op")
		// Retained <= OTel (aim 0.75x), with the name index built.
		rk, _, rkok := median("Retained", tbl, "ksym", "retained-after-find-MiB")
		ro, _, rook := median("Retained", tbl, "otel", "retained-MiB")
		row("retained ≤ OTel, with name index (aim ≤ 0.75x)", tbl, rk, rkok, "otel", ro, rook, rk/ro, rk <= ro, "MiB")
		rk0, _, rk0ok := median("Retained", tbl, "ksym", "retained-MiB")
		row("  (right after parse, before the name index)", tbl, rk0, rk0ok, "otel", ro, rook, rk0/ro, rk0 <= ro, "MiB")
		// Allocs per parse.
		for _, im := range []string{"ksym-bytes", "ksym-reader"} {
			av, _, aok := median("Parse", tbl, im, "allocs/op")
			row("≤ a few dozen allocs per parse (≤ 48) ("+im+")", tbl, av, aok, "limit", 48, true, av/48, av <= 48, "allocs/op")
		}
		// Address lookup >= 4x faster than fastest peer, aim < 50 ns, 0 allocs.
		lv, _, lok := median("LookupAddr", tbl, "ksym", "ns/op")
		la, _, _ := median("LookupAddr", tbl, "ksym", "allocs/op")
		bp, bv := bestPeer("LookupAddr", tbl, "ns/op")
		row("address lookup ≥ 4x faster than fastest peer", tbl, lv, lok, bp, bv, bp != "", bv/lv, bv/lv >= 4, "ns/op")
		row("  address lookup < 50 ns (aim), 0 allocs", tbl, lv, lok, "limit", 50, true, lv/50, lv < 50 && la == 0, "ns/op")
		nv, _, nok := median("LookupName", tbl, "ksym", "ns/op")
		na, _, _ := median("LookupName", tbl, "ksym", "allocs/op")
		row("name lookup < 100 ns, 0 allocs (AppendFind)", tbl, nv, nok, "limit", 100, true, nv/100, nv < 100 && na == 0, "ns/op")
	}
	if has("Live", "live") {
		kv, _, kok := median("Live", "live", "ksym-parse", "ns/op")
		rv, _, rok := median("Live", "live", "readfile", "ns/op")
		cv, _, cok := median("Live", "live", "cat", "ns/op")
		row("live parse ≤ 1.1x bare read (vs os.ReadFile)", "live", kv, kok, "readfile", rv, rok, kv/rv, kv <= 1.1*rv, "ns/op")
		row("live parse ≤ 1.1x bare read (vs cat, 128 KiB reads)", "live", kv, kok, "cat", cv, cok, kv/cv, kv <= 1.1*cv, "ns/op")
		bv, _, bok := median("Live", "live", "ksym-readfile-parsebytes", "ns/op")
		row("  (ReadFile+ParseBytes vs os.ReadFile)", "live", bv, bok, "readfile", rv, rok, bv/rv, bv <= 1.1*rv, "ns/op")
	}
}

func ratio(r float64) string {
	if r < 0.1 {
		return fmt.Sprintf("%.4fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

package kstack

import (
	"bytes"
	"context"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/machine"
)

// BenchmarkReadFile reads run2-B's whole dmesg -r (its sysrq dumps and hung
// task report among the rest of the boot's log).
func BenchmarkReadFile(b *testing.B) {
	data := fixture.Read(b, fixture.Path(boots+"run2-B/dmesg-raw.txt.gz"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadFile(bytes.NewReader(data), "b"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSampleRound reads the seven tasks of the fixture tree once.
func BenchmarkSampleRound(b *testing.B) {
	fsys, err := machine.NewFS(liveTree)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sample(context.Background(), fsys, SampleOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAggregate groups the 59 tasks of a sysrq-t dump.
func BenchmarkAggregate(b *testing.B) {
	f, err := ReadFile(bytes.NewReader(fixture.Read(b, fixture.Path(boots+"run2-B/dmesg-sysrq-t.txt"))), "b")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Aggregate(f.Stacks)
	}
}

// BenchmarkReadFileLargeDump reads one sysrq-t dump of 5,900 tasks: the
// tasks of run2-B's dump (between its header line and "Sched Debug
// Version") repeated 100 times, as a large machine prints them.
func BenchmarkReadFileLargeDump(b *testing.B) {
	dump := fixture.Read(b, fixture.Path(boots+"run2-B/dmesg-sysrq-t.txt"))
	nl := bytes.IndexByte(dump, '\n') + 1
	end := bytes.Index(dump, []byte("Sched Debug Version"))
	end = bytes.LastIndexByte(dump[:end], '\n') + 1
	data := append([]byte{}, dump[:nl]...)
	for range 100 {
		data = append(data, dump[nl:end]...)
	}
	data = append(data, dump[end:]...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := ReadFile(bytes.NewReader(data), "b")
		if err != nil || len(f.Stacks) != 5900 {
			b.Fatalf("%v, %d stacks", err, len(f.Stacks))
		}
	}
}

package decode

import "github.com/ksym-dev/ksym/klog"

// Preview decodes a report still open (klog.Splitter.Partial) as Decode
// does, without changing what the Decoder remembers from one report to the
// next: the warnings it said and the KASLR slide it found are for the
// report once it ends, decoded with Decode. The Result's Warnings are those
// Decode would give now; a caller that shows them should not show Decode's
// again.
func (d *Decoder) Preview(r *klog.Report) *Result {
	// A copy of the Decoder decodes: what it learns stays in the copy.
	// State kept across reports must therefore be values, or maps and
	// slices copied here, or built whole once (tableMods); TestPreview
	// checks that the original still gives its warning.
	cp := *d
	cp.buf = nil
	return cp.Decode(r)
}

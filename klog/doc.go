// Package klog parses kernel log text (dmesg, dmesg -r/-T, journalctl -k,
// syslog, /dev/kmsg, serial console captures) into reports, headers and
// stack frames exactly as written. It knows nothing about symbol tables:
// resolving frames is the job of the caller (package decode).
//
// ParseLine strips the prefixes of one line; ParseFrames reads the frames of
// a line; a Splitter (or Scan, its streaming driver over an io.Reader) cuts
// a stream of lines into Reports with bounded memory, emitting each report
// as soon as it ends.
package klog

package klog

import (
	"os"
	"strings"
	"testing"
)

// TestHeaderBuildID: a 6.12 syzkaller report (CONFIG_STACKTRACE_BUILD_ID)
// prints the vmlinux build ID at the end of its CPU: line; the Debian
// boots' CPU: lines print none.
func TestHeaderBuildID(t *testing.T) {
	tests := []struct {
		file, release, version, buildID string
	}{
		{"../testdata/fixtures/crashlogs/syzkaller/linux/report/748", "6.12.23-syzkaller-g30b14cdad458", "#0",
			"c708c6bafa1314b3e84c64b9f03b67766970ebbd"},
		{"../testdata/fixtures/debian-6.1.0-56-amd64/boots/run2-B/oops-03-lkdtm-EXCEPTION.txt", "6.1.0-56-amd64",
			"#1  Debian 6.1.192-2", ""},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		var got *Header
		Scan(strings.NewReader(string(data)), func(r *Report) error {
			if got == nil && r.Header.Release != "" {
				got = &r.Header
			}
			return nil
		})
		if got == nil || got.Release != tt.release || got.Version != tt.version || got.BuildID != tt.buildID {
			t.Errorf("%s: header %+v", tt.file, got)
		}
	}
}

package kmod

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseModinfo(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Modinfo
		wantErr bool
	}{
		{
			// The .modinfo of the real lkdtm.ko (readelf -p .modinfo),
			// shortened to the fields read and one other.
			name: "lkdtm",
			in:   "description=Kernel crash testing module\x00license=GPL\x00depends=\x00retpoline=Y\x00name=lkdtm\x00vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions \x00",
			want: Modinfo{Name: "lkdtm", License: "GPL", Vermagic: "6.1.0-56-amd64 SMP preempt mod_unload modversions ",
				Fields: []Field{{"description", "Kernel crash testing module"}, {"license", "GPL"}, {"depends", ""}, {"retpoline", "Y"}, {"name", "lkdtm"}, {"vermagic", "6.1.0-56-amd64 SMP preempt mod_unload modversions "}}},
		},
		{
			// Synthetic: padding between entries, several depends and
			// import_ns, a second license (the kernel reads the first).
			name: "padding, lists, first license",
			in:   "\x00\x00depends=jbd2,mbcache,,crc16\x00\x00\x00import_ns=CXL\x00import_ns=USB_STORAGE\x00license=Dual BSD/GPL\x00license=Proprietary\x00",
			want: Modinfo{License: "Dual BSD/GPL", Depends: []string{"jbd2", "mbcache", "crc16"}, ImportNS: []string{"CXL", "USB_STORAGE"},
				Fields: []Field{{"depends", "jbd2,mbcache,,crc16"}, {"import_ns", "CXL"}, {"import_ns", "USB_STORAGE"}, {"license", "Dual BSD/GPL"}, {"license", "Proprietary"}}},
		},
		{
			name: "entry without '=' is skipped",
			in:   "garbage\x00license=GPL\x00",
			want: Modinfo{License: "GPL", Fields: []Field{{"license", "GPL"}}},
		},
		{name: "empty", in: "", want: Modinfo{}},
		{
			name:    "truncated last entry",
			in:      "license=GPL\x00vermagic=6.1.0-5",
			want:    Modinfo{License: "GPL", Fields: []Field{{"license", "GPL"}}},
			wantErr: true,
		},
		{name: "no NUL at all", in: "license=GPL", want: Modinfo{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseModinfo([]byte(tt.in))
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrModinfo)) {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestLicenseIsGPLCompatible(t *testing.T) {
	// The list of include/linux/license.h, and near misses the kernel
	// does not accept (it compares exactly).
	for lic, want := range map[string]bool{
		"GPL": true, "GPL v2": true, "GPL and additional rights": true,
		"Dual BSD/GPL": true, "Dual MIT/GPL": true, "Dual MPL/GPL": true,
		"Proprietary": false, "": false, "gpl": false, "GPL v3": false, "Dual BSD/GPL ": false, "MIT": false,
	} {
		if got := LicenseIsGPLCompatible(lic); got != want {
			t.Errorf("LicenseIsGPLCompatible(%q) = %v, want %v", lic, got, want)
		}
	}
}

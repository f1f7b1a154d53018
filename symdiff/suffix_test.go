package symdiff_test

import (
	"testing"

	"github.com/ksym-dev/ksym/symdiff"
)

func TestBaseName(t *testing.T) {
	tests := []struct {
		name, base, suffix string
		ok                 bool
	}{
		{"vfs_read", "vfs_read", "", true},
		{"set_flags.isra.0", "set_flags", ".isra.0", true},
		{"foo.constprop.0", "foo", ".constprop.0", true},
		{"foo.cold", "foo", ".cold", true},
		{"foo.cold.12", "foo", ".cold.12", true}, // older GCC numbered its cold parts
		{"amd_init_l3_cache.part.0", "amd_init_l3_cache", ".part.0", true},
		{"get_sigframe.constprop.0.isra.0.cold", "get_sigframe", ".constprop.0.isra.0.cold", true},
		{"foo.llvm.12345678901234", "foo", ".llvm.12345678901234", true},
		{"foo.lto_priv.0", "foo", ".lto_priv.0", true},
		{"foo.localalias", "foo", ".localalias", true},
		// Numbered statics and anything else with a dot are not clones.
		{"__func__.0", "__func__.0", "", false},
		{"_rs.12", "_rs.12", "", false},
		{"foo.isra.x", "foo.isra.x", "", false},
		{"foo.", "foo.", "", false},
		{".L123", ".L123", "", false},
		{"foo.isra..0", "foo.isra..0", "", false},
	}
	for _, tt := range tests {
		base, suffix, ok := symdiff.BaseName(tt.name)
		if base != tt.base || suffix != tt.suffix || ok != tt.ok {
			t.Errorf("BaseName(%q) = %q, %q, %v; want %q, %q, %v", tt.name, base, suffix, ok, tt.base, tt.suffix, tt.ok)
		}
	}
}

package clones_test

import (
	"testing"

	"github.com/ksym-dev/ksym/internal/clones"
)

func TestSplit(t *testing.T) {
	tests := []struct{ name, base, suffix string }{
		// Real names of the Debian 6.1 and 6.18 tables.
		{"rht_key_get_hash.isra.0", "rht_key_get_hash", ".isra.0"},
		{"cpumask_weight.constprop.0", "cpumask_weight", ".constprop.0"},
		{"__rhashtable_insert_fast.constprop.0.isra.0", "__rhashtable_insert_fast", ".constprop.0.isra.0"},
		{"amd_init_l3_cache.part.0", "amd_init_l3_cache", ".part.0"},
		{"___ratelimit.cold", "___ratelimit", ".cold"},
		{"get_sigframe.constprop.0.isra.0.cold", "get_sigframe", ".constprop.0.isra.0.cold"},
		// Forms of other compilers and versions, not in the fixtures:
		// GCC 8's numbered .cold, clang's ThinLTO rename, LTO.
		{"foo.cold.12", "foo", ".cold.12"},
		{"foo.llvm.12345678901234", "foo", ".llvm.12345678901234"},
		{"foo.lto_priv.0", "foo", ".lto_priv.0"},
		{"foo.localalias", "foo", ".localalias"},
		{"foo.part.0.cold", "foo", ".part.0.cold"},
		// Not clones: plain names, numbered statics, words without their
		// number, other dotted names.
		{"vfs_read", "vfs_read", ""},
		{"__func__.0", "__func__.0", ""},
		{"_rs.12", "_rs.12", ""},
		{"foo.isra", "foo.isra", ""},
		{"foo.isra.x", "foo.isra.x", ""},
		{"foo.bar.0", "foo.bar.0", ""},
		{"foo.", "foo.", ""},
		{".L123", ".L123", ""},
		{".isra.0", ".isra.0", ""},
		{"foo.isra..0", "foo.isra..0", ""},
	}
	for _, tt := range tests {
		base, suffix := clones.Split(tt.name)
		if base != tt.base || suffix != tt.suffix {
			t.Errorf("Split(%q) = %q, %q; want %q, %q", tt.name, base, suffix, tt.base, tt.suffix)
		}
	}
}

package modcheck

import (
	"strings"
	"testing"
)

func FuzzParseSymvers(f *testing.F) {
	f.Add("0x4c9d28b0\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n0x669aff23\tcrypto_cipher_setkey\tvmlinux\tEXPORT_SYMBOL_GPL\tCRYPTO_INTERNAL\n")
	f.Add("0x1\ta\tdrivers/md/md-mod\tEXPORT_SYMBOL\t")
	f.Add("\t\t\t\t")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSymvers(strings.NewReader(in))
		if err != nil {
			if s != nil {
				t.Fatalf("symbols and error %v", err)
			}
			return
		}
		if len(s) > strings.Count(in, "\n")+1 {
			t.Fatalf("%d symbols from %d lines", len(s), strings.Count(in, "\n")+1)
		}
	})
}

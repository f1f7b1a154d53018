package klog

import "testing"

func TestIsStackWords(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"7cc0:                                                       80f1911c 60030013", true},
		{"1e00: 83711e20 83711e20 8034d678 8018c67c 60000013 ffffffff", true},
		{"7d20: ffffffc055663000 ffffff9009e02000 00000000000001b3 00000000000001b4", true},
		{"7cc0:", false}, {"7cc0:    ", false}, {"CPU: 0 PID: 1 Comm: sh", false},
		{"r10: 8591b080  r9 : 8bdfc000  r8 : 00000001", false}, {"abcd: not hex", false},
	}
	for _, tc := range tests {
		if got := isStackWords(tc.text); got != tc.want {
			t.Errorf("isStackWords(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

package format

import "testing"

func TestSlot(t *testing.T) {
	tests := []struct {
		key    string
		prefix string
		n      int
		ok     bool
	}{
		{"mp0", "mp", 0, true},
		{"mp255", "mp", 255, true},
		{"net31", "net", 31, true},
		{"unused7", "unused", 7, true},
		{"dev0", "dev", 0, true},
		{"mp", "", 0, false},
		{"mp01", "", 0, false},
		{"mp1a", "", 0, false},
		{"mp-1", "", 0, false},
		{"mp99999", "", 0, false},
		{"rootfs", "", 0, false},
		{"memory", "", 0, false},
		{"nameserver", "", 0, false},
		{"netx", "", 0, false},
	}
	for _, tt := range tests {
		p, n, ok := Slot(tt.key)
		if p != tt.prefix || n != tt.n || ok != tt.ok {
			t.Errorf("Slot(%q) = %q, %d, %v; want %q, %d, %v", tt.key, p, n, ok, tt.prefix, tt.n, tt.ok)
		}
		if got := IsSlot(tt.key, "mp"); got != (tt.ok && tt.prefix == "mp") {
			t.Errorf("IsSlot(%q, mp) = %v", tt.key, got)
		}
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string][2]bool{
		"1": {true, true}, "On": {true, true}, "yes": {true, true}, "TRUE": {true, true},
		"0": {false, true}, "off": {false, true}, "No": {false, true}, "false": {false, true},
		"": {false, false}, "2": {false, false}, "y": {false, false},
	} {
		if v, ok := ParseBool(in); v != want[0] || ok != want[1] {
			t.Errorf("ParseBool(%q) = %v, %v; want %v, %v", in, v, ok, want[0], want[1])
		}
	}
}

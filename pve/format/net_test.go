package format_test

import (
	"testing"

	"github.com/felhom/felhom/pve/format"
)

func TestAddrEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"dhcp", "dhcp", true},
		{"dhcp", "manual", false},
		{"dhcp", "", false},
		{"10.0.0.5/24", "10.0.0.5/24", true},
		{"10.0.0.5/24", "10.0.0.5/16", false},
		{"10.0.0.5/24", "10.0.0.6/24", false},
		{"fd00::1/64", "fd00:0::1/64", true},
		{"FD00::1/64", "fd00:0:0::0001/64", true},
		{"fe80::1", "FE80:0::1", true},
		{"fe80::1", "fe80::1/128", false}, // an address is not a prefix
		{"10.0.0.1", "::ffff:10.0.0.1", false},
		{"10.0.0.1/24", "dhcp", false},
		{"dhcp", "10.0.0.1/24", false},
		{"not-an-ip", "not-an-ip", true},
	}
	for _, tt := range tests {
		if got := format.AddrEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("AddrEqual(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := format.AddrEqual(tt.b, tt.a); got != tt.want {
			t.Errorf("AddrEqual(%q, %q) = %v, want %v (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

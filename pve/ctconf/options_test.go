package ctconf

import "testing"

func TestOptionType(t *testing.T) {
	for _, tc := range []struct {
		key, typ string
		ok       bool
	}{
		{"memory", "integer", true},
		{"snaptime", "integer", true},
		{"cpulimit", "number", true},
		{"onboot", "boolean", true},
		{"hostname", "string", true},
		{"mp255", "string", true},
		{"net31", "string", true},
		{"net32", "", false},
		{"mp01", "", false},
		{"foo", "", false},
	} {
		typ, ok := OptionType(tc.key)
		if typ != tc.typ || ok != tc.ok {
			t.Errorf("OptionType(%q) = %q, %v; want %q, %v", tc.key, typ, ok, tc.typ, tc.ok)
		}
	}
}

package format_test

import (
	"regexp"
	"testing"

	"github.com/felhom/felhom/pve/format"
)

func ptr(f float64) *float64 { return &f }

// TestPropCheck: check_prop's tests and messages, in its order (the first
// failing test is the message).
func TestPropCheck(t *testing.T) {
	upper := func(v string) string {
		if v == "BAD" {
			return "invalid format - bad value\n"
		}
		return ""
	}
	for _, tc := range []struct {
		name string
		prop format.Prop
		v    string
		want string
	}{
		{"boolean", format.Prop{Type: "boolean"}, "1", ""},
		{"boolean spelt out", format.Prop{Type: "boolean"}, "yes", "type check ('boolean') failed - got 'yes'"},
		{"integer with sign", format.Prop{Type: "integer"}, "+12", ""},
		{"integer", format.Prop{Type: "integer"}, "1.5", "type check ('integer') failed - got '1.5'"},
		{"number exponent", format.Prop{Type: "number"}, "1e3", ""},
		{"number", format.Prop{Type: "number"}, "x", "type check ('number') failed - got 'x'"},
		{"array untested", format.Prop{Type: "array"}, "x", ""},
		{"type before format", format.Prop{Type: "integer", Format: upper}, "BAD", "type check ('integer') failed - got 'BAD'"},
		{"format", format.Prop{Type: "string", Format: upper}, "BAD", "invalid format - bad value\n"},
		{"format before pattern", format.Prop{Format: upper, Pattern: regexp.MustCompile(`^(?:[a-z]+)$`)}, "BAD", "invalid format - bad value\n"},
		{"pattern", format.Prop{Pattern: regexp.MustCompile(`^(?:[a-z]+)$`)}, "Ab", "value does not match the regex pattern"},
		{"pattern before length", format.Prop{Pattern: regexp.MustCompile(`^(?:[a-z]+)$`), MaxLength: 1}, "Ab", "value does not match the regex pattern"},
		{"maxLength", format.Prop{MaxLength: 3}, "abcd", "value may only be 3 characters long"},
		{"minLength", format.Prop{MinLength: 3}, "ab", "value must be at least 3 characters long"},
		{"maximum", format.Prop{Type: "integer", Minimum: ptr(1), Maximum: ptr(4094)}, "4095", "value must have a maximum value of 4094"},
		{"minimum", format.Prop{Type: "integer", Minimum: ptr(1), Maximum: ptr(4094)}, "0", "value must have a minimum value of 1"},
		{"maximum beyond float", format.Prop{Type: "number", Maximum: ptr(8192)}, "1e999", "value must have a maximum value of 8192"},
		{"range on a non-number is skipped", format.Prop{Minimum: ptr(1)}, "abc", ""},
		{"enum", format.Prop{Enum: []string{"a", "b"}}, "c", "value 'c' does not have a value in the enumeration 'a, b'"},
		{"range before enum", format.Prop{Type: "integer", Maximum: ptr(3), Enum: []string{"1", "5"}}, "5", "value must have a maximum value of 3"},
		{"all well", format.Prop{Type: "integer", Minimum: ptr(0), Maximum: ptr(6), Enum: []string{"0", "6"}}, "6", ""},
	} {
		if got := tc.prop.Check(tc.v); got != tc.want {
			t.Errorf("%s: Check(%q) = %q, want %q", tc.name, tc.v, got, tc.want)
		}
	}
}

package spec

import (
	"strings"
	"testing"
)

// TestSyntaxErrorPositions: a YAML syntax error is placed where the problem
// is (line and column, columns in characters), not where yaml.v3's message
// says (the start of the enclosing block, 0-based, or no line at all), and
// bytes that are not UTF-8 are placed at the first of them (issue 10 item 17).
func TestSyntaxErrorPositions(t *testing.T) {
	const head = "apiVersion: felhom/v1alpha1\nkind: Container\n" // 2 lines
	tests := []struct {
		name      string
		data      string
		line, col int
		msg       string
	}{
		{"second mapping value on a line", "a: 1\nb: c: d\n", 2, 5, "mapping values are not allowed"},
		{"on the first line", "a: b: c\n", 1, 5, "mapping values are not allowed"},
		{"key indented less than its mapping", "a:\n  b: 1\n c: 2\n", 3, 2, "did not find expected key"},
		{"a tab as indentation", "a: 1\n\tb: 2\n", 2, 1, "tab character"},
		{"a list item in a mapping", "a: 1\n- b\n", 2, 1, "did not find expected key"},
		{"a character that starts no token", "a: 1\nb: 2\n@x: 3\n", 3, 1, "cannot start any token"},
		{"a key inside a list", "a: 1\nb:\n  - 1\n  c: 2\n", 4, 3, "did not find expected '-' indicator"},
		{"after a header", head + "metadata:\n  name: x\n bad: 1\n", 5, 2, "did not find expected key"},
		{"in a later document", head + "---\n" + head + "spec:\n  a: 1\n b: 2\n", 8, 2, "did not find expected key"},
		{"an unclosed flow mapping at the end", "a: {x: 1\n", 2, 1, "did not find expected ',' or '}'"},
		{"an unclosed flow mapping before a key", "m: {name: a\nspec: 1\n", 2, 1, "did not find expected ',' or '}'"},
		{"an unclosed inner flow list", "a: [1, [2, 3]\nb: 1\n", 2, 1, "did not find expected ',' or ']'"},
		{"an unknown alias", "a: &x 1\nb: *yz\n", 2, 4, "unknown anchor"},
		{"an unclosed quote runs to the end", "a: \"abc\nb: 1\n", 3, 1, "end of stream"},
		{"not UTF-8", "name: web\nmemory: \xff\xfe\n", 2, 9, "UTF-8"},
		{"not UTF-8 after wide characters", "name: é\nx: ü\xff\n", 2, 5, "UTF-8"},
		{"not UTF-8 on the first line", "\xc3(: 1\n", 1, 1, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Parse("x.yaml", []byte(tt.data))
			for _, d := range diags {
				if strings.Contains(d.Message, tt.msg) {
					if d.Line != tt.line || d.Column != tt.col {
						t.Errorf("%q at %d:%d, want %d:%d", d.Message, d.Line, d.Column, tt.line, tt.col)
					}
					return
				}
			}
			t.Errorf("no diagnostic with %q: %v", tt.msg, diags)
		})
	}
}

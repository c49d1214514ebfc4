package format

import (
	"regexp"
	"testing"
)

// The regexps splitProperties used to match parts with (Perl's
// parse_property_string): isBlank and splitKeyValue must agree with them.
var (
	keyValueRE = regexp.MustCompile(`^([^=]+)=(.+)\n?$`)
	blankRE    = regexp.MustCompile(`^[\t\n\v\f\r ]*$`)
)

var keyValueParts = []string{
	"", " ", "\t\n\v\f\r ", " x ", "\u00a0", "x", "=", "==", "a=", "=b", "a=b", "a==b", "a=b=c",
	"a=b\n", "a=b\n\n", "a=\n", "a=b\nc", "a\n=b", "\n=b", "a=\r", "a=b\r\n", " a = b ",
	"key=\xff\xfe", "\xff=v", "näme=wért", "a=\n\n", "a=b\nc\n",
}

// sameAsRegexp checks isBlank and splitKeyValue against the regexps they
// replaced, on one part.
func sameAsRegexp(t *testing.T, part string) {
	t.Helper()
	if got, want := isBlank(part), blankRE.MatchString(part); got != want {
		t.Errorf("isBlank(%q) = %v, the regexp's %v", part, got, want)
	}
	k, v, ok := splitKeyValue(part)
	m := keyValueRE.FindStringSubmatch(part)
	if ok != (m != nil) || ok && (k != m[1] || v != m[2]) {
		t.Errorf("splitKeyValue(%q) = %q, %q, %v; the regexp's %q", part, k, v, ok, m)
	}
}

func TestSplitKeyValueAsRegexp(t *testing.T) {
	for _, part := range keyValueParts {
		sameAsRegexp(t, part)
	}
}

func FuzzSplitKeyValue(f *testing.F) {
	for _, p := range keyValueParts {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, part string) {
		sameAsRegexp(t, part)
	})
}

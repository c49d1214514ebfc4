package render

import (
	"strconv"
	"strings"
	"unicode"
)

// looksSame reports whether two different values would look the same to a
// person reading them: they differ only in leading or trailing whitespace,
// in how much whitespace separates words, or in characters that print as
// nothing (zero-width spaces, joiners, byte-order marks, soft hyphens,
// direction marks: Unicode category Cf, and control characters). Such a
// change is shown quoted, so it is not read as "no change".
func looksSame(a, b string) bool {
	return a != b && visible(a) == visible(b)
}

// visible is what a person sees of s: invisible characters dropped, words
// separated by single spaces, no space around.
func visible(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) || (isControl(r) && !unicode.IsSpace(r)) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// changeValues returns a change's before and after for display: as they are
// (the caller keeps them on one line), or both quoted as Go's %q quotes them
// when they would look the same; quoted says which.
func changeValues(before, after string) (b, a string, quoted bool) {
	if looksSame(before, after) {
		return strconv.Quote(before), strconv.Quote(after), true
	}
	return before, after, false
}

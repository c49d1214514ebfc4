package spec

import (
	"unicode/utf8"

	"github.com/felhom/felhom/internal/typo"
)

// suggest returns the candidate closest to word when it is close enough to
// be a likely typo (an edit distance of at most a third of the word, and at
// least 1), or "". The work per candidate is small and bounded
// (typo.Closest).
func suggest(word string, candidates []string) string {
	best := typo.Closest(word, candidates, max(1, utf8.RuneCountInString(word)/3))
	if best == word {
		return ""
	}
	return best
}

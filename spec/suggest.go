package spec

import (
	"strings"
	"unicode/utf8"
)

// maxSuggestRunes bounds the words edit distances are computed for: a key
// longer than this is no typo of a spec key, and a hostile file full of
// long keys stays cheap.
const maxSuggestRunes = 64

// suggest returns the candidate closest to word when it is close enough to
// be a likely typo (an edit distance of at most a third of the word, and at
// least 1), or "". Candidates whose length differs from the word's by more
// than that are skipped unmeasured (their distance is at least the
// difference), and the distance table is allocated once per call, so the
// cost per candidate is small and bounded.
func suggest(word string, candidates []string) string {
	rw := []rune(strings.ToLower(word))
	limit := max(1, len([]rune(word))/3)
	if len(rw) > maxSuggestRunes {
		return ""
	}
	var buf []int
	best, bestD := "", limit+1
	for _, c := range candidates {
		if n := utf8.RuneCountInString(c); n > maxSuggestRunes || abs(n-len(rw)) >= bestD {
			continue
		}
		rc := []rune(strings.ToLower(c))
		if need := 3 * (len(rc) + 1); cap(buf) < need {
			buf = make([]int, need, 3*(maxSuggestRunes+1))
		}
		if d := osaDistance(rw, rc, buf[:3*(len(rc)+1)]); d < bestD {
			best, bestD = c, d
		}
	}
	if best == word {
		return ""
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours each cost 1.
// Words longer than maxSuggestRunes count as entirely different.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > maxSuggestRunes || len(rb) > maxSuggestRunes {
		return max(len(ra), len(rb))
	}
	return osaDistance(ra, rb, make([]int, 3*(len(rb)+1)))
}

// osaDistance computes editDistance in three rows of buf (3*(len(b)+1)
// ints): the row before the previous one is what transpositions need.
func osaDistance(a, b []rune, buf []int) int {
	w := len(b) + 1
	prev2, prev, cur := buf[:w], buf[w:2*w], buf[2*w:3*w]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

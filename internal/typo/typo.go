// Package typo finds the word a misspelt one was likely meant to be, for
// "did you mean" hints in error messages: spec keys and values
// (felhom/spec) and calendar event words (pve/calendar) share it.
//
// It is pure (no I/O) and bounded: words longer than MaxRunes are not
// measured, candidates whose length alone rules them out are skipped, and
// one distance table serves a whole Closest call, so hints over a hostile
// input with many unknown words stay cheap.
package typo

import (
	"strings"
	"unicode/utf8"
)

// MaxRunes bounds the words distances are measured for: a longer word is
// no typo of a short name, and a hostile file full of long words stays
// cheap.
const MaxRunes = 64

// Closest returns the candidate closest to word, compared case-insensitively,
// when it is at most limit edits away (Distance), or "". Of equally close
// candidates the first wins, so callers pass them in a fixed order.
// Candidates whose length differs from the word's by more than the best
// distance so far are skipped unmeasured (their distance is at least the
// difference).
func Closest(word string, candidates []string, limit int) string {
	rw := []rune(strings.ToLower(word))
	if len(rw) > MaxRunes || limit < 0 {
		return ""
	}
	var buf []int
	best, bestD := "", limit+1
	for _, c := range candidates {
		if n := utf8.RuneCountInString(c); n > MaxRunes || abs(n-len(rw)) >= bestD {
			continue
		}
		rc := []rune(strings.ToLower(c))
		if need := 3 * (len(rc) + 1); cap(buf) < need {
			buf = make([]int, need, 3*(MaxRunes+1))
		}
		if d := osaDistance(rw, rc, buf[:3*(len(rc)+1)]); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Distance is the optimal string alignment distance between a and b, in
// runes: insertions, deletions, substitutions and transpositions of
// neighbours each cost 1. Words longer than MaxRunes count as entirely
// different.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > MaxRunes || len(rb) > MaxRunes {
		return max(len(ra), len(rb))
	}
	return osaDistance(ra, rb, make([]int, 3*(len(rb)+1)))
}

// osaDistance computes Distance in three rows of buf (3*(len(b)+1) ints):
// the row before the previous one is what transpositions need.
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

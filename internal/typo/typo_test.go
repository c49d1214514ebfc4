package typo

import (
	"fmt"
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	keys := []string{"memory", "swap", "cores", "cpulimit", "node", "nodes"}
	for _, tt := range []struct {
		word  string
		limit int
		want  string
	}{
		{"memroy", 1, "memory"}, // a transposition is one edit
		{"MEMORY", 0, "memory"}, // case does not count
		{"memoyr", 0, ""},       // beyond the limit
		{"cpu_limit", 3, "cpulimit"},
		{"nod", 1, "node"},  // first of equally close ones wins
		{"node", 1, "node"}, // the word itself is a candidate too
		{"ram", 1, ""},
		{"x", -1, ""},
		{strings.Repeat("a", MaxRunes+1), 100, ""},
	} {
		if got := Closest(tt.word, keys, tt.limit); got != tt.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", tt.word, tt.limit, got, tt.want)
		}
	}
}

// Distance against the textbook full-table algorithm.
func TestDistance(t *testing.T) {
	full := func(a, b []rune) int {
		d := make([][]int, len(a)+1)
		for i := range d {
			d[i] = make([]int, len(b)+1)
			d[i][0] = i
		}
		for j := range d[0] {
			d[0][j] = j
		}
		for i := 1; i <= len(a); i++ {
			for j := 1; j <= len(b); j++ {
				cost := 1
				if a[i-1] == b[j-1] {
					cost = 0
				}
				d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
				if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
					d[i][j] = min(d[i][j], d[i-2][j-2]+1)
				}
			}
		}
		return d[len(a)][len(b)]
	}
	words := []string{"", "a", "ab", "ba", "abc", "acb", "ca", "mon", "mno", "thurs", "thu", "memory", "memroy", "mmeory", "größe", "gröse", "abcdef", "badcfe"}
	for _, a := range words {
		for _, b := range words {
			if got, want := Distance(a, b), full([]rune(a), []rune(b)); got != want {
				t.Errorf("Distance(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
	long := strings.Repeat("x", MaxRunes+1)
	if d := Distance(long, "x"); d != MaxRunes+1 {
		t.Errorf("Distance(long, x) = %d, want %d", d, MaxRunes+1)
	}
}

// Closest's work is bounded: a long word against many short candidates
// measures none (their length alone rules them out), and near ones share
// one table. Allocations count the work.
func TestClosestWorkBounded(t *testing.T) {
	cands := make([]string, 1000)
	for i := range cands {
		cands[i] = fmt.Sprintf("key%03d", i)
	}
	long := strings.Repeat("x", 60)
	if n := testing.AllocsPerRun(10, func() { Closest(long, cands, 20) }); n > 2 {
		t.Errorf("Closest(60 runes, 1000 candidates of 6) allocates %v times, want at most 2", n)
	}
	if n := testing.AllocsPerRun(10, func() { Closest("kez000", cands, 2) }); n > 1000+3 {
		t.Errorf("Closest(6 runes, 1000 candidates of 6) allocates %v times, want one per candidate at most", n)
	}
	if got := Closest("key00", cands, 1); got != "key000" {
		t.Errorf("Closest(key00) = %q", got)
	}
}

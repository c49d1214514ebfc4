package calendar

import (
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that an accepted event
// round-trips through String, and that Next never panics and only returns
// times strictly after its input, in UTC and in a zone with DST.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"mon..fri 02:30", "fri..mon", "*/5", "0/5", "mon..wed 30/10", "mon..fri 8..17,22:0/15",
		"fri 12..13:5/20", "12/2:5", "*", "*-05", "Sat *-1..7 15:00", "2015-10-21", "02-30",
		"daily UTC", "semi-annually", "*-*-* *:*:*", "1965/5-01-01", "2020-7..9-2/2",
		"2020,2021-12-31", "4..10,6:5/5,23", "*/0", "0..80", " mon 0 0 0", "25:00", "",
	} {
		f.Add(s, int64(1711846800)) // 2024-03-31 01:00 UTC, Berlin's spring-forward
		f.Add(s, int64(1729990800)) // 2024-10-27 01:00 UTC, Berlin's fall-back
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr string, unix int64) {
		e, err := Parse(expr)
		if err != nil {
			return
		}
		if _, err := Parse(e.String()); err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", expr, e.String(), err)
		}
		for _, loc := range []*time.Location{time.UTC, berlin} {
			after := time.Unix(unix, 0).In(loc)
			for _, n := range e.NextN(after, 3) {
				if !n.After(after) {
					t.Fatalf("Next(%q, %v) = %v, not after", expr, after, n)
				}
				after = n
			}
		}
	})
}

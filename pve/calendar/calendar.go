package calendar

import (
	"time"
)

// Weekday bits, Monday first, as proxmox-time's WeekDays.
const (
	monday uint8 = 1 << iota
	tuesday
	wednesday
	thursday
	friday
	saturday
	sunday
	allDays = monday | tuesday | wednesday | thursday | friday | saturday | sunday
)

type valueKind uint8

const (
	single   valueKind = iota // start
	rangeOf                   // start..end
	repeated                  // start/rep or start..end/rep
)

// value is one element of a field's list (proxmox-time's DateTimeValue).
// For repeated, hasEnd says whether end bounds it.
type value struct {
	kind   valueKind
	start  uint32
	end    uint32
	rep    uint32
	hasEnd bool
}

// contains reports whether v matches x (DateTimeValue::contains).
func (v value) contains(x uint32) bool {
	switch v.kind {
	case single:
		return x == v.start
	case rangeOf:
		return x >= v.start && x <= v.end
	default:
		if x < v.start {
			return false
		}
		if v.rep == 0 {
			return x == v.start
		}
		return (x-v.start)%v.rep == 0 && (!v.hasEnd || x <= v.end)
	}
}

func listContains(list []value, x uint32) bool {
	for _, v := range list {
		if v.contains(x) {
			return true
		}
	}
	return false
}

// findNext returns the smallest value in list greater than x
// (DateTimeValue::find_next). For a range it only looks at x+1, as
// proxmox-time does.
func findNext(list []value, x uint32) (uint32, bool) {
	var next uint32
	found := false
	set := func(n uint32) {
		if !found || n < next {
			next, found = n, true
		}
	}
	for _, v := range list {
		switch v.kind {
		case single:
			if v.start > x {
				set(v.start)
			}
		case rangeOf:
			if x < v.start {
				set(v.start)
			} else if n := x + 1; n >= v.start && n <= v.end {
				set(n)
			}
		default:
			if x < v.start {
				set(v.start)
			} else if v.rep > 0 {
				n := v.start + ((x-v.start+v.rep)/v.rep)*v.rep
				if !v.hasEnd || n <= v.end {
					set(n)
				}
			}
		}
	}
	return next, found
}

// Event is a parsed PVE calendar event. It is immutable after Parse and safe
// for concurrent use. An empty list in a field means "every value".
type Event struct {
	expr string
	utc  bool
	days uint8 // weekday bits; 0 means every day

	second, minute, hour []value
	day, month, year     []value
}

// String returns the expression the event was parsed from, with
// surrounding white space trimmed as PVE does before parsing.
func (e *Event) String() string { return e.expr }

// UTC reports whether the event is evaluated in UTC (the expression ends
// with "UTC") rather than in the caller's zone.
func (e *Event) UTC() bool { return e.utc }

// maxSteps bounds the search as proxmox-time's compute_next_event does
// ("cancel after 1000 loops"): an event that has not matched by then is
// treated as never firing.
const maxSteps = 1000

// Next returns the first occurrence strictly after after, in UTC for UTC
// events and in after.Location() otherwise. ok is false when the event can
// never fire again (for example "02-30", or a date in the past).
//
// It walks wall-clock fields exactly as proxmox-time's compute_next_event
// does, so DST transitions behave as on PVE: a time skipped by a
// spring-forward gap moves to the same offset after the gap (and a daily
// "2:30" does not fire that day), and a time repeated by a fall-back is
// matched once, in the offset the search is in at that moment.
func (e *Event) Next(after time.Time) (next time.Time, ok bool) {
	loc := after.Location()
	if e.utc {
		loc = time.UTC
	}
	last := after.Unix() + 1 // at least one second later
	t, ok := newEditor(last, loc)
	if !ok {
		return time.Time{}, false
	}
	allDays := e.days == 0 || e.days == allDays
	for range maxSteps {
		if len(e.year) > 0 {
			y, ok := t.u32(t.year)
			if !ok {
				return time.Time{}, false
			}
			if !listContains(e.year, y) {
				n, ok := findNext(e.year, y)
				if !ok {
					return time.Time{}, false
				}
				t.addYears(int(n - y))
				continue
			}
		}
		if len(e.month) > 0 {
			m := uint32(t.mon)
			if !listContains(e.month, m) {
				if n, ok := findNext(e.month, m); ok {
					t.addMonths(int(n - m))
				} else {
					t.addYears(1)
				}
				continue
			}
		}
		if len(e.day) > 0 {
			d := uint32(t.mday)
			if !listContains(e.day, d) {
				if n, ok := findNext(e.day, d); ok {
					t.addDays(int(n - d))
				} else {
					t.addMonths(1)
				}
				continue
			}
		}
		if !allDays {
			dayNum := (t.wday + 6) % 7 // Monday = 0
			if e.days&(1<<dayNum) == 0 {
				n := dayNum + 1
				for n < 7 && e.days&(1<<n) == 0 {
					n++
				}
				t.addDays(n - dayNum) // n == 7: next week's Monday
				continue
			}
		}
		if len(e.hour) > 0 {
			h := uint32(t.hour)
			if !listContains(e.hour, h) {
				if n, ok := findNext(e.hour, h); ok {
					t.setTime(int(n), 0, 0)
				} else {
					t.addDays(1)
				}
				continue
			}
		}
		if len(e.minute) > 0 {
			m := uint32(t.min)
			if !listContains(e.minute, m) {
				if n, ok := findNext(e.minute, m); ok {
					t.setMinSec(int(n), 0)
				} else {
					t.setTime(t.hour+1, 0, 0)
				}
				continue
			}
		}
		if len(e.second) > 0 {
			s := uint32(t.sec)
			if !listContains(e.second, s) {
				if n, ok := findNext(e.second, s); ok {
					t.setSec(int(n))
				} else {
					t.setMinSec(t.min+1, 0)
				}
				continue
			}
		}
		res := t.instant()
		if res.Unix() < last {
			// Cannot happen with the wall-clock resolution in editor;
			// kept so that Next never breaks its contract.
			return time.Time{}, false
		}
		return res, true
	}
	return time.Time{}, false
}

// NextN returns up to n successive occurrences strictly after after. It
// returns fewer (possibly none) if the event stops firing.
func (e *Event) NextN(after time.Time, n int) []time.Time {
	var out []time.Time
	for len(out) < n {
		t, ok := e.Next(after)
		if !ok {
			break
		}
		out = append(out, t)
		after = t
	}
	return out
}

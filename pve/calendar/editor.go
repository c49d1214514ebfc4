package calendar

import "time"

// editor is proxmox-time's TmEditor: broken-down wall-clock fields that are
// changed one at a time and then normalized, as libc's mktime (local) or
// timegm (UTC) normalizes a struct tm.
type editor struct {
	loc  *time.Location
	unix int64 // the instant the fields stand for

	year, mon, mday, hour, min, sec int // mon is 1..12
	wday                            int // 0 = Sunday
	off                             int // UTC offset of unix in loc, seconds
}

// maxUnix keeps all arithmetic far from int64 overflow (about 285 million
// years either way).
const maxUnix = 1 << 53

func newEditor(unix int64, loc *time.Location) (*editor, bool) {
	if unix > maxUnix || unix < -maxUnix {
		return nil, false
	}
	t := &editor{loc: loc}
	t.set(unix)
	return t, true
}

func (t *editor) set(unix int64) {
	tt := time.Unix(unix, 0).In(t.loc)
	t.unix = unix
	var m time.Month
	t.year, m, t.mday = tt.Date()
	t.mon = int(m)
	t.hour, t.min, t.sec = tt.Clock()
	t.wday = int(tt.Weekday())
	_, t.off = tt.Zone()
}

func (t *editor) instant() time.Time { return time.Unix(t.unix, 0).In(t.loc) }

// u32 converts a field as proxmox-time's try_into does; negative values
// are an error there and end the search here.
func (t *editor) u32(v int) (uint32, bool) {
	if v < 0 {
		return 0, false
	}
	return uint32(v), true
}

// normalize turns the (possibly out-of-range) fields back into an instant
// and refreshes every field from it, as mktime does with tm_isdst = -1.
func (t *editor) normalize() {
	wall := time.Date(t.year, time.Month(t.mon), t.mday, t.hour, t.min, t.sec, 0, time.UTC).Unix()
	t.set(resolveWall(wall, t.off, t.loc))
}

// offsetAt returns loc's UTC offset at the instant unix.
func offsetAt(unix int64, loc *time.Location) int {
	_, off := time.Unix(unix, 0).In(loc).Zone()
	return off
}

// resolveWall returns the instant whose wall clock in loc reads wall
// (seconds since the epoch as if loc were UTC), as glibc's mktime with
// tm_isdst = -1 does:
//   - a wall time repeated by a fall-back keeps the offset pref when that
//     offset is one of the two (glibc starts from the offset of its previous
//     result; in the search that is the offset the fields came from), else
//     the earlier instant;
//   - a wall time skipped by a spring-forward gap is read with the offset
//     before the gap, so it lands as far after the gap as it was into it
//     (02:30 in Europe/Berlin on the last Sunday of March is 03:30 CEST).
func resolveWall(wall int64, pref int, loc *time.Location) int64 {
	if loc == time.UTC {
		return wall
	}
	if c := wall - int64(pref); offsetAt(c, loc) == pref {
		return c
	}
	before := offsetAt(wall-86400, loc)
	after := offsetAt(wall+86400, loc)
	c1, c2 := wall-int64(before), wall-int64(after)
	ok1 := offsetAt(c1, loc) == before
	ok2 := offsetAt(c2, loc) == after
	switch {
	case ok1 && ok2:
		return min(c1, c2)
	case ok1:
		return c1
	case ok2:
		return c2
	default:
		return c1 // in a gap
	}
}

// addYears adds years and resets all smaller fields to their minimum.
func (t *editor) addYears(years int) {
	if years == 0 {
		return
	}
	t.mon, t.mday, t.hour, t.min, t.sec = 1, 1, 0, 0, 0
	t.year += years
	t.normalize()
}

// addMonths adds months and resets all smaller fields to their minimum.
func (t *editor) addMonths(months int) {
	if months == 0 {
		return
	}
	t.mday, t.hour, t.min, t.sec = 1, 0, 0, 0
	t.mon += months
	t.normalize()
}

// addDays adds days and resets all smaller fields to their minimum.
func (t *editor) addDays(days int) {
	if days == 0 {
		return
	}
	t.hour, t.min, t.sec = 0, 0, 0
	t.mday += days
	t.normalize()
}

func (t *editor) setTime(hour, min, sec int) {
	t.hour, t.min, t.sec = hour, min, sec
	t.normalize()
}

func (t *editor) setMinSec(min, sec int) {
	t.min, t.sec = min, sec
	t.normalize()
}

func (t *editor) setSec(sec int) {
	t.sec = sec
	t.normalize()
}

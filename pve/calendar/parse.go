package calendar

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/felhom/felhom/internal/typo"
)

// ParseError says why and where an expression does not parse. Pos is the
// byte offset in the expression as given to Parse (0-based).
type ParseError struct {
	Expr string // the expression as given
	Pos  int    // byte offset of the offending part
	Msg  string // what is wrong, lower case
}

func (e *ParseError) Error() string {
	if e.Pos >= len(e.Expr) {
		return fmt.Sprintf("calendar event %q: %s", e.Expr, e.Msg)
	}
	return fmt.Sprintf("calendar event %q: %s at %q (column %d)", e.Expr, e.Msg, e.Expr[e.Pos:], e.Pos+1)
}

// field describes one numeric component: its name for messages and the
// exclusive upper bound proxmox-time's parse_time_comp enforces.
type field struct {
	name string
	max  uint32 // values must be < max
	star uint32 // start of "*/n"
}

var (
	fieldYear   = field{"year", 2200, 0} // systemd's upper limit, kept by proxmox-time
	fieldMonth  = field{"month", 13, 1}
	fieldDay    = field{"day", 32, 1}
	fieldHour   = field{"hour", 24, 0}
	fieldMinute = field{"minute", 60, 0}
	fieldSecond = field{"second", 60, 0}
)

// parser is a backtracking recursive-descent parser with the same shape as
// proxmox-time's nom combinators, so that exactly the same strings are
// accepted. It remembers the furthest "semantic" failure (a number out of
// range, an unknown weekday...) to explain a rejected expression.
type parser struct {
	s string // the trimmed expression, UTC suffix removed

	errPos  int
	errMsg  string
	errPrio int

	// hourPos/hourMsg keep an out-of-range hour in a word with a colon:
	// proxmox-time then re-reads the word as minutes and seconds ("25:61"
	// fails on second 61), but the hour is what the user got wrong.
	hourPos int
	hourMsg string
}

// fail records a failure at pos. A later position wins; at the same
// position a higher priority wins, then the later record. Priorities rank
// how likely a reading is what the user meant: 1 for the first number of a
// date (it may as well be a time), 2 and 3 for time fields (3 for the
// likelier of hour and minute), hourWordPrio for an hour in "HH:MM".
func (p *parser) fail(pos, prio int, format string, args ...any) {
	if prio == hourWordPrio && p.hourMsg == "" {
		p.hourPos, p.hourMsg = pos, fmt.Sprintf(format, args...)
	}
	if p.errMsg != "" && (pos < p.errPos || pos == p.errPos && prio < p.errPrio) {
		return
	}
	p.errPos, p.errMsg, p.errPrio = pos, fmt.Sprintf(format, args...), prio
}

// hourWordPrio marks failures of the hour field in a word with a colon.
const hourWordPrio = 4

func (p *parser) at(pos int, c byte) bool { return pos < len(p.s) && p.s[pos] == c }

// number parses digits at pos (parse_time_comp): at least one digit, a
// value that fits u32 and is below f.max.
func (p *parser) number(pos int, f field, prio int) (uint32, int, bool) {
	end := pos
	for end < len(p.s) && p.s[end] >= '0' && p.s[end] <= '9' {
		end++
	}
	if end == pos {
		return 0, pos, false
	}
	var v uint64
	for _, c := range p.s[pos:end] {
		v = v*10 + uint64(c-'0')
		if v > math.MaxUint32 {
			p.fail(pos, prio, "%s value %s out of range 0..%d", f.name, p.s[pos:end], f.max-1)
			return 0, pos, false
		}
	}
	if uint32(v) >= f.max {
		p.fail(pos, prio, "%s value %d out of range 0..%d", f.name, v, f.max-1)
		return 0, pos, false
	}
	return uint32(v), end, true
}

// comp parses one list element: N, A..B, N/R or A..B/R (parse_date_time_comp).
func (p *parser) comp(pos int, f field, prio int) (value, int, bool) {
	v, i, ok := p.number(pos, f, prio)
	if !ok {
		return value{}, pos, false
	}
	if strings.HasPrefix(p.s[i:], "..") {
		if end, j, ok := p.number(i+2, f, prio); ok {
			if v > end {
				p.fail(pos, prio, "%s range start %d is bigger than end %d", f.name, v, end)
				return value{}, pos, false
			}
			if p.at(j, '/') {
				rep, k, ok := p.number(j+1, f, prio)
				if !ok {
					p.fail(j+1, prio-1, "expected a %s repetition after '/'", f.name)
					return value{}, pos, false
				}
				return value{kind: repeated, start: v, rep: rep, end: end, hasEnd: true}, k, true
			}
			return value{kind: rangeOf, start: v, end: end}, j, true
		}
		// nom's opt() backtracks: the ".." is left for the caller.
	}
	if p.at(i, '/') {
		rep, k, ok := p.number(i+1, f, prio)
		if !ok {
			p.fail(i+1, prio-1, "expected a %s repetition after '/'", f.name)
			return value{}, pos, false
		}
		return value{kind: repeated, start: v, rep: rep}, k, true
	}
	return value{kind: single, start: v}, i, true
}

// list parses "*", "*/R" or a comma-separated list of elements
// (parse_date_time_comp_list). An empty result means "every value".
func (p *parser) list(pos int, f field, prio int) ([]value, int, bool) {
	if p.at(pos, '*') {
		rest := pos + 1
		if p.at(rest, '/') {
			rep, k, ok := p.number(rest+1, f, prio)
			if !ok {
				p.fail(rest+1, prio-1, "expected a %s repetition after '*/'", f.name)
				return nil, pos, false
			}
			if rep > 0 {
				return []value{{kind: repeated, start: f.star, rep: rep}}, k, true
			}
			// "*/0" is "*" followed by unparsed "/0" in proxmox-time.
		}
		return nil, rest, true
	}
	v, i, ok := p.comp(pos, f, prio)
	if !ok {
		return nil, pos, false
	}
	out := []value{v}
	for p.at(i, ',') {
		v, j, ok := p.comp(i+1, f, prio)
		if !ok {
			break // separated_list1 stops before the separator
		}
		out = append(out, v)
		i = j
	}
	return out, i, true
}

// timeSpec parses [HOURS:]MINUTES[:SECONDS] (parse_time_spec).
func (p *parser) timeSpec(pos int) (hour, minute, second []value, end int, ok bool) {
	// Which reading failed matters for the message: a token with a colon
	// is read as hours first, one without as minutes.
	hourPrio, minPrio := 2, 3
	tok := p.s[pos:]
	if n := strings.IndexAny(tok, " \t"); n >= 0 {
		tok = tok[:n]
	}
	if strings.Contains(tok, ":") {
		hourPrio, minPrio = hourWordPrio, 2
	}
	i := pos
	if h, j, ok := p.list(pos, fieldHour, hourPrio); ok && p.at(j, ':') {
		hour, i = h, j+1
	}
	minute, i, ok = p.list(i, fieldMinute, minPrio)
	if !ok {
		return nil, nil, nil, pos, false
	}
	second = []value{{kind: single, start: 0}}
	if p.at(i, ':') {
		if s, j, ok := p.list(i+1, fieldSecond, 3); ok {
			second, i = s, j
		}
	}
	return hour, minute, second, i, true
}

// dateSpec parses YEARS-MONTHS-DAYS or MONTHS-DAYS (parse_date_spec).
func (p *parser) dateSpec(pos int) (year, month, day []value, end int, ok bool) {
	if y, i, ok := p.list(pos, fieldYear, 1); ok && p.at(i, '-') {
		if m, j, ok := p.list(i+1, fieldMonth, 3); ok && p.at(j, '-') {
			if d, k, ok := p.list(j+1, fieldDay, 3); ok {
				return y, m, d, k, true
			}
		}
	}
	if m, i, ok := p.list(pos, fieldMonth, 1); ok && p.at(i, '-') {
		if d, j, ok := p.list(i+1, fieldDay, 3); ok {
			return nil, m, d, j, true
		}
	}
	return nil, nil, nil, pos, false
}

var weekdayNames = map[string]uint8{
	"monday": monday, "mon": monday,
	"tuesday": tuesday, "tue": tuesday,
	"wednesday": wednesday, "wed": wednesday,
	"thursday": thursday, "thu": thursday,
	"friday": friday, "fri": friday,
	"saturday": saturday, "sat": saturday,
	"sunday": sunday, "sun": sunday,
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// weekday parses one weekday name, case-insensitive (parse_weekday).
func (p *parser) weekday(pos int) (uint8, int, bool) {
	end := pos
	for end < len(p.s) && isAlpha(p.s[end]) {
		end++
	}
	if end == pos {
		return 0, pos, false
	}
	d, ok := weekdayNames[strings.ToLower(p.s[pos:end])]
	if !ok {
		p.fail(pos, 3, "unknown weekday %q%s", p.s[pos:end], suggest(p.s[pos:end], false))
		return 0, pos, false
	}
	return d, end, true
}

// weekdayRange parses DAY or DAY..DAY; a range may wrap past Sunday, so
// "fri..mon" is fri, sat, sun, mon (parse_weekdays_range).
func (p *parser) weekdayRange(pos int) (uint8, int, bool) {
	start, i, ok := p.weekday(pos)
	if !ok {
		return 0, pos, false
	}
	if strings.HasPrefix(p.s[i:], "..") {
		if end, j, ok := p.weekday(i + 2); ok {
			if start > end {
				return bitRange(start, sunday) | bitRange(monday, end), j, true
			}
			return bitRange(start, end), j, true
		}
	}
	return start, i, true
}

// bitRange returns every day bit from start to end inclusive (start <= end).
func bitRange(start, end uint8) uint8 {
	var res uint8
	for b := start; ; b <<= 1 {
		res |= b
		if b >= end {
			return res
		}
	}
}

func (p *parser) spaces(pos int) int {
	for pos < len(p.s) && (p.s[pos] == ' ' || p.s[pos] == '\t') {
		pos++
	}
	return pos
}

// keywords are the shorthands proxmox-time accepts, with what they stand for.
var keywords = map[string]func(e *Event){
	"minutely": func(e *Event) { e.second = one(0) },
	"hourly":   func(e *Event) { e.minute, e.second = one(0), one(0) },
	"daily":    func(e *Event) { e.hour, e.minute, e.second = one(0), one(0), one(0) },
	"weekly": func(e *Event) {
		e.hour, e.minute, e.second = one(0), one(0), one(0)
		e.days = monday
	},
	"monthly": func(e *Event) {
		e.hour, e.minute, e.second = one(0), one(0), one(0)
		e.day = one(1)
	},
	"yearly":        yearly,
	"annually":      yearly,
	"quarterly":     func(e *Event) { yearly(e); e.month = one(1, 4, 7, 10) },
	"semiannually":  semiannually,
	"semi-annually": semiannually,
}

func yearly(e *Event) {
	e.hour, e.minute, e.second = one(0), one(0), one(0)
	e.day, e.month = one(1), one(1)
}

func semiannually(e *Event) { yearly(e); e.month = one(1, 7) }

func one(vs ...uint32) []value {
	out := make([]value, len(vs))
	for i, v := range vs {
		out[i] = value{kind: single, start: v}
	}
	return out
}

// Parse parses a PVE calendar event such as "mon..fri 02:30", "*-*-1 0/6:00"
// or "sat 3:00 UTC", exactly as PVE does: surrounding white space is
// trimmed (PVE::CalendarEvent::parse_calendar_event), then the grammar of
// proxmox-time's CalendarEvent applies:
//
//	[WEEKDAYS] [[YEARS-]MONTHS-DAYS] [HOURS:]MINUTES[:SECONDS] [UTC]
//
// or a keyword (minutely, hourly, daily, weekly, monthly, yearly, annually,
// quarterly, semiannually, semi-annually). Errors are *ParseError.
func Parse(expr string) (*Event, error) {
	trimmed := strings.TrimSpace(expr)
	off := strings.Index(expr, trimmed)
	if trimmed == "" {
		return nil, &ParseError{Expr: expr, Pos: len(expr), Msg: "event is empty"}
	}
	e := &Event{expr: trimmed}
	s := trimmed
	if rest, ok := strings.CutSuffix(s, "UTC"); ok {
		e.utc = true
		s = strings.TrimRight(rest, " ")
	}
	p := &parser{s: s}
	perr := func(pos int, msg string) error {
		// A recorded failure explains the rejection if it lies at or
		// after where parsing stopped, or in the same word (so that
		// "24:00:00", read as minute 24 second 0 plus ":00", is
		// reported as an hour out of range).
		if p.errMsg != "" && (p.errPos >= pos || !strings.ContainsAny(p.s[p.errPos:pos], " \t")) {
			pos, msg = p.errPos, p.errMsg
		}
		if p.hourMsg != "" && p.hourPos <= pos && !strings.ContainsAny(p.s[p.hourPos:pos], " \t") {
			pos, msg = p.hourPos, p.hourMsg
		}
		return &ParseError{Expr: expr, Pos: off + pos, Msg: msg}
	}

	if s != "" && isAlpha(s[0]) {
		if set, ok := keywords[s]; ok {
			set(e)
			return e, nil
		}
	}
	var hasDays, hasDate, hasTime bool
	i := 0
	if s != "" && isAlpha(s[0]) {
		d, j, ok := p.weekdayRange(0)
		if !ok {
			if p.errPos == 0 {
				w := 0
				for w < len(s) && isAlpha(s[w]) {
					w++
				}
				if _, isKeyword := keywords[s[:w]]; isKeyword {
					p.errMsg = keywordWithRest(s[:w], strings.TrimSpace(s[w:]))
				} else {
					p.errMsg = fmt.Sprintf("unknown keyword or weekday %q", s[:w]) + suggest(s[:w], true)
				}
			}
			return nil, perr(0, "expected a keyword or weekday")
		}
		e.days |= d
		for p.at(j, ',') {
			d, k, ok := p.weekdayRange(j + 1)
			if !ok {
				break
			}
			e.days |= d
			j = k
		}
		hasDays = true
		i = p.spaces(j)
	}
	if y, m, d, j, ok := p.dateSpec(i); ok {
		e.year, e.month, e.day = y, m, d
		hasDate = true
		i = p.spaces(j)
	}
	if h, m, sec, j, ok := p.timeSpec(i); ok {
		e.hour, e.minute, e.second = h, m, sec
		hasTime = true
		i = j
	} else {
		e.hour, e.minute, e.second = one(0), one(0), one(0)
	}
	if !hasDays && !hasDate && !hasTime {
		return nil, perr(i, "expected a weekday, date or time")
	}
	if i < len(s) {
		return nil, perr(i, "unexpected text")
	}
	return e, nil
}

// suggest returns ` (did you mean "x"?)` for the weekday name (or, with
// keywords, keyword) closest to word, if it is at most one edit away (two
// for words longer than four letters); of equally close names the
// alphabetically first.
func suggest(word string, withKeywords bool) string {
	limit := 1
	if len(word) > 4 {
		limit = 2
	}
	names := weekdayWords
	if withKeywords {
		names = keywordAndWeekdayWords
	}
	best := typo.Closest(word, names, limit)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// weekdayWords and keywordAndWeekdayWords are suggest's candidates, sorted:
// typo.Closest picks the first of equally close ones.
var (
	weekdayWords           = slices.Sorted(maps.Keys(weekdayNames))
	keywordAndWeekdayWords = slices.Sorted(func(yield func(string) bool) {
		for name := range weekdayNames {
			if !yield(name) {
				return
			}
		}
		for name := range keywords {
			if !yield(name) {
				return
			}
		}
	})
)

// keywordCalendarForms are the calendar forms of the keywords that fire at
// a time of day, with %s for that time: "daily 02:00" is written "02:00".
var keywordCalendarForms = map[string]string{
	"daily":         "%s",
	"weekly":        "mon %s",
	"monthly":       "*-*-01 %s",
	"yearly":        "*-01-01 %s",
	"annually":      "*-01-01 %s",
	"quarterly":     "*-01,04,07,10-01 %s",
	"semiannually":  "*-01,07-01 %s",
	"semi-annually": "*-01,07-01 %s",
}

// keywordWithRest explains a keyword followed by more text, such as
// "daily 02:00": a keyword stands alone (it fires at midnight), and the
// calendar form with the time is suggested.
func keywordWithRest(word, rest string) string {
	msg := fmt.Sprintf("keyword %q takes nothing after it", word)
	if form, ok := keywordCalendarForms[word]; ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		msg += fmt.Sprintf(" (did you mean %q?)", fmt.Sprintf(form, rest))
	}
	return msg
}

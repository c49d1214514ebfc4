package calendar

import (
	"errors"
	"time"
)

// Event is a parsed PVE calendar event. It is immutable after Parse and safe
// for concurrent use.
type Event struct {
	expr string
	utc  bool
}

// errNotImplemented is returned while the parser is being written.
var errNotImplemented = errors.New("calendar: not implemented")

// Parse parses a PVE calendar event such as "mon..fri 02:30" or "*-*-1 0/6:00 UTC".
// Errors name the part of the expression that is wrong.
func Parse(expr string) (*Event, error) {
	return nil, errNotImplemented
}

// String returns the normalized expression the event was parsed from.
func (e *Event) String() string { return e.expr }

// UTC reports whether the event is evaluated in UTC (the expression ends with "UTC").
func (e *Event) UTC() bool { return e.utc }

// Next returns the first occurrence strictly after after, evaluated in UTC for
// UTC events and in after.Location() otherwise. ok is false when the event can
// never fire (for example "02-30").
func (e *Event) Next(after time.Time) (next time.Time, ok bool) {
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

// Package calendar parses and evaluates PVE calendar events, the schedule
// format of backup jobs (for example "mon..fri 02:30" or "sat 3:00 UTC").
// It is pure: no I/O and no clock; callers pass the time to start from and
// thereby the zone (UTC events always use UTC).
//
// It follows what PVE 8/9 runs: pve-common src/PVE/CalendarEvent.pm
// (parse_calendar_event trims the text and hands it to the Rust binding)
// and proxmox-time in proxmox/proxmox-rs:
//   - src/calendar_event.rs: the grammar (parse_calendar_event_incomplete,
//     parse_date_spec, parse_time_spec, parse_date_time_comp[_list]), the
//     keywords, and compute_next_event, the search Next ports step by step,
//     including its 1000-step bound after which an event counts as never
//     firing;
//   - src/date_time_value.rs: list matching (contains, find_next);
//   - src/week_days.rs: weekday names and ranges that wrap past Sunday;
//   - src/parse_helpers.rs: number limits (parse_time_comp);
//   - src/tm_editor.rs and src/posix.rs: fields are edited on the wall
//     clock and normalized with glibc's mktime (tm_isdst = -1) or timegm.
//
// These files have not changed in meaning since 2022 (later commits are
// formatting, clippy and wasm builds), so PVE 8 (proxmox-time 1.x/2.0 on
// bookworm) and PVE 9 (2.1 on trixie) behave alike.
//
// Rules worth knowing, all PVE's:
//   - a number without a colon is a minute ("mon..fri 22" is hourly at :22
//     on weekdays, whatever the admin guide's prose suggests); a token whose
//     hour is out of range is re-read as minutes ("25:00" is *:25:00);
//   - no time means 00:00:00; no seconds mean :00;
//   - month and day 0 parse but never match, so such events never fire;
//   - DST: a wall time in a spring-forward gap moves past the gap with the
//     earlier offset, so a daily "2:30" is skipped on that day; a wall
//     time repeated by a fall-back is matched once, keeping the offset the
//     search is in (glibc starts mktime from its previous result's offset;
//     here that is the offset the edited fields came from).
//
// crosscheck_test.go (go test -tags crosscheck, needs a C compiler) runs
// the same search over glibc's own mktime on 20000 random events starting
// just before DST transitions in eight zones, and demands equal results.
//
// proxmox-time's time_span.rs and daily_duration.rs (durations and time
// windows) are not part of this package.
package calendar

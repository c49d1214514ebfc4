// Package calendar parses and evaluates PVE calendar events, the schedule
// format of backup jobs (for example "mon..fri 02:30" or "sat 3:00 UTC").
//
// It follows proxmox-time (Rust crate in proxmox/proxmox) as used by PVE 8/9.
// It is pure: no I/O, no clock; callers pass the time to start from.
package calendar

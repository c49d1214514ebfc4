// Package schedule decides, from a container's backup policy and the
// backups PVE lists for it, whether a backup is due, when the next one
// falls due, whether the newest one is fresh enough, and which due
// containers share one vzdump call. It is pure: no I/O and no clock; the
// caller passes the time and the node's zone, and the backups it listed.
//
// # Due: stateless, read from PVE
//
// PVE's own scheduler (pve-manager PVE/Jobs.pm run_jobs, the
// "repeat-missed" option of PVE/Jobs/VZDump.pm) keeps each job's last run
// time in a state file and starts the job when the first calendar
// occurrence after that time has come. felhom keeps no state: the last run
// is the ctime of the container's newest backup on the policy's storage,
// which vzdump writes into the archive name in the node's local time
// (pve/prune ArchiveInfo reads it back). So:
//
//   - a backup is due when the first occurrence after the newest backup
//     (Status.DueAt, computed in the node's zone by pve/calendar exactly as
//     PVE computes it) is not after now;
//   - after a downtime across several occurrences one backup is due, and
//     once it is taken the next is the first occurrence after it, so only
//     the latest missed occurrence is caught up, as with repeat-missed;
//   - a restart never takes a second backup for a run already done: that
//     run's archive is on the storage and its ctime is at or after the
//     occurrence;
//   - a container with no backup on the storage is due at once;
//   - a failed attempt leaves no archive, so the caller passes the time it
//     last failed (Container.Failed, kept in memory): the retry is at the
//     next occurrence after it, not at once. A process that forgets it (a
//     restart, or felhom backup --due from a timer) retries at its next
//     start.
//
// # Freshness
//
// A container is overdue when its newest backup is older than MaxAge, or
// it has none. MaxAge defaults to DefaultMaxAge: one and a half times the
// longest gap between consecutive occurrences (over DefaultMaxAgeRuns of
// them, read in UTC so that a run a DST gap skips does not count), so one
// missed run shows within half a gap, a run that takes a while never
// flaps, and an irregular schedule (mon..fri) is measured by its longest
// gap (the weekend). backup.max-age in the spec overrides it.
//
// # Batching
//
// Batches groups the due containers of one node whose vzdump options are
// equal (storage, mode, compress, notes template, protected, retention)
// into one vmid list, as one PVE backup job backs up all its guests in one
// vzdump task: PVE allows one vzdump per node at a time anyway (the
// /var/run/vzdump.lock that PVE/VZDump.pm takes), and the job's
// prune-backups applies to each guest's own backups.
package schedule

// Package prune decides which backups a prune-backups setting keeps, with
// PVE's exact algorithm, and reads vzdump archive names as PVE does. It is
// pure: it never lists, deletes or reads a clock; callers pass the zone
// that stands for the node's local time.
//
// Sources (pve-storage, read for this package):
//   - src/PVE/Storage/Plugin.pm: $prune_backups_format and
//     validate_prune_backups (ParseOptions, Options.Normalize), and
//     prune_backups (FromVolume, the renamed/protected pre-marks and the
//     grouping by type/vmid in Select);
//   - src/PVE/Storage.pm: prune_mark_backup_group and $prune_mark (the
//     passes in Select), archive_info with $BACKUP_EXT_RE_2 (ArchiveInfo);
//   - pve-common src/PVE/JSONSchema.pm parse_property_string and
//     print_property_string (the messages of ParseOptions, the key order of
//     Options.String); Perl's Time::Local timelocal (range checks and DST
//     choices for the ctime in a name).
//
// The tests port src/test/prune_backups_test.pm and
// src/test/archive_info_test.pm case by case.
//
// Known, deliberate differences: archive names whose year has two digits
// are treated as not standard (Time::Local reads them in a rolling
// century that depends on today's date); PVE's Perl sort is merge sort,
// so equal ctimes keep listing order, which Select also does.
package prune

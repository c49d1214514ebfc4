// Package prune selects which backups a prune-backups setting keeps, with
// PVE's exact algorithm (pve-storage PVE::Storage::prune_mark_backup_group).
//
// It is pure: it decides, it never deletes.
package prune

package prune

import (
	"errors"
	"time"
)

// Options are the keep-* settings of a prune-backups property string. A nil
// pointer means "not set", which PVE treats differently from 0.
type Options struct {
	KeepAll     *bool
	KeepLast    *int
	KeepHourly  *int
	KeepDaily   *int
	KeepWeekly  *int
	KeepMonthly *int
	KeepYearly  *int
}

// ParseOptions parses a prune-backups property string such as
// "keep-daily=7,keep-last=3".
func ParseOptions(s string) (Options, error) {
	return Options{}, errors.New("prune: not implemented")
}

// String returns the canonical property string of o.
func (o Options) String() string { return "" }

// Backup is one backup archive as the storage lists it.
type Backup struct {
	Volid     string
	CTime     time.Time
	VMID      int
	Type      string // lxc, qemu, openvz or unknown
	Protected bool
	Renamed   bool // the name does not follow the vzdump pattern
}

// Mark is the verdict for one backup.
type Mark string

// The marks PVE's prune selection gives.
const (
	MarkKeep      Mark = "keep"
	MarkRemove    Mark = "remove"
	MarkProtected Mark = "protected"
	MarkRenamed   Mark = "renamed"
)

// Select marks every backup, keyed by volid, as PVE's prune_mark_backup_group
// does, with time buckets in loc.
func Select(backups []Backup, o Options, loc *time.Location) map[string]Mark {
	return nil
}

// ArchiveInfo parses a vzdump archive volid or file name. ok is false when
// the name does not follow the vzdump pattern (PVE marks such backups
// "renamed").
func ArchiveInfo(volid string, loc *time.Location) (vmid int, typ string, ctime time.Time, ok bool) {
	return 0, "", time.Time{}, false
}

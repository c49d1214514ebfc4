package plan

// Backups is the plan's backup section: each scheduled container's next
// run, freshness and retention preview, as PVE's storages show them at
// plan time. It is not a change: apply never takes these backups, and a
// container's Status does not depend on it.
type Backups struct {
	// RunBy says, for people, what takes the scheduled backups (and what
	// does not).
	RunBy string `json:"run_by"`
	// Containers has one entry per container with a backup policy, by
	// vmid.
	Containers []BackupSchedule `json:"containers"`
	// Overdue counts the overdue containers.
	Overdue int `json:"overdue"`
}

// BackupSchedule is one container's backup schedule at plan time. Times
// are RFC 3339 strings, "" when there is none; NextRun and LastBackup carry
// the node's offset.
type BackupSchedule struct {
	VMID     int    `json:"vmid"`
	Name     string `json:"name"`
	Node     string `json:"node"`
	Storage  string `json:"storage"`
	Schedule string `json:"schedule"`
	// TimeZone is the node's zone, which the schedule is read in (UTC for
	// an event that ends in UTC).
	TimeZone string `json:"time_zone"`
	// Due reports that a run is due now (felhom backup --due would take
	// it).
	Due bool `json:"due"`
	// NextRun is the next run after now, in node time; NextRunUTC the same
	// instant in UTC.
	NextRun    string `json:"next_run"`
	NextRunUTC string `json:"next_run_utc"`
	// LastBackup and LastArchive are the newest backup on the storage.
	LastBackup  string `json:"last_backup"`
	LastArchive string `json:"last_archive"`
	// Backups counts the container's backups on the storage.
	Backups int `json:"backups"`
	// MaxAgeSeconds is the freshness bound (backup.max-age, or its
	// default); Overdue reports a newest backup older than it, or none.
	MaxAgeSeconds int64 `json:"max_age_seconds"`
	Overdue       bool  `json:"overdue"`
	// Retention is the prune-backups the vzdump carries ("" leaves the
	// storage's own); Removes are the archives its prune removes at the
	// next run (PVE's prune selection, with the new archive counted).
	Retention string   `json:"retention"`
	Removes   []string `json:"removes"`
	// Error says why the schedule could not be read ("" when it was).
	Error string `json:"error"`
}

package ctconf

import (
	"errors"
	"fmt"
)

// Section is one section of the config file: the main config, the
// [pve:pending] section or one snapshot. It holds what PVE's parser keeps in
// a Perl hash: ordinary keys with their values ("description" and "env"
// included, as PVE keeps them), plus the raw lxc.* lines in file order.
//
// Invariants: values never contain a newline; "description" is the decoded
// text of the section's leading '#' lines (each line ending in "\n" when it
// came from comment lines); "env" holds the lxc.environment.runtime values
// joined by NUL; in the pending section "delete" holds the pending delete
// list as written (see File.PendingDeletes).
type Section struct {
	values map[string]string
	// Lxc holds the raw lxc.* entries other than lxc.environment.runtime,
	// in file order; a key may repeat.
	Lxc []LxcEntry
}

// LxcEntry is one raw "lxc.key: value" line.
type LxcEntry struct {
	Key   string
	Value string
}

// Snapshot is one [name] section.
type Snapshot struct {
	Name string
	*Section
}

// File is a parsed container config file.
type File struct {
	// Main is the current config. Never nil.
	Main *Section
	// Pending is the [pve:pending] section, nil when there is none. Its
	// pending deletes are the "delete" key (see PendingDeletes).
	Pending *Section
	// Snapshots are the snapshot sections in file order (Bytes writes them
	// sorted by name, as PVE does). Names are unique.
	Snapshots []*Snapshot
	// Digest is the SHA1 hex of the text Parse read (empty for a File not
	// made by Parse). PVE reports it as the "digest" key. Changing the File
	// does not change it: write Bytes and parse again, as PVE does.
	Digest string
	// Warnings are the problems PVE's parser only warns about (unknown
	// setting, a value failing its type check), each naming its line.
	Warnings []string
}

// PendingDelete is one entry of the pending delete list.
type PendingDelete struct {
	Key string
	// Force is the '!' prefix (never set by PVE for containers).
	Force bool
}

// PendingEntry is one element of GET /nodes/{node}/lxc/{vmid}/pending.
type PendingEntry struct {
	Key string
	// Value is the current value; HasValue says whether there is one.
	Value    string
	HasValue bool
	// Pending is the pending value; HasPending says whether there is one.
	Pending    string
	HasPending bool
	// Delete is 0 (none), 1 (pending delete) or 2 (forced pending delete).
	Delete int
}

// Update is one PUT config request at the config level.
type Update struct {
	// VMID is the container's id, used in PVE's messages.
	VMID int
	// Set maps option names to their new values.
	Set map[string]string
	// Delete lists the options to delete (the API's "delete", split with SplitList).
	Delete []string
	// Revert lists the pending changes to revert.
	Revert []string
}

// UpdateResult reports what an accepted update did.
type UpdateResult struct {
	// Warnings are PVE's warnings (a delete of an unset option...).
	Warnings []string
	// Applied lists the keys whose change reached the current config.
	Applied []string
	// Pending lists the keys touched by this update that stay pending.
	Pending []string
	// Freed lists the volumes destroyed through the VolumeAllocator.
	Freed []string
	// Allocated lists the volumes created through the VolumeAllocator.
	Allocated []string
}

// NeedsRestart reports whether the update left changes pending.
func (r UpdateResult) NeedsRestart() bool { return len(r.Pending) > 0 }

// VolumeAllocator is the storage side that config updates need. The
// simulator implements it.
type VolumeAllocator interface {
	// CheckRootdir fails with PVE's message when storage does not exist or
	// does not allow content type rootdir ("storage 'X' does not allow
	// content type 'rootdir' (Container)").
	CheckRootdir(storage string) error
	// Alloc creates a new volume of size bytes on storage for key (rootfs or
	// mpN) and returns its volid.
	Alloc(storage, key string, size int64) (volid string, err error)
	// Free destroys a volume (delete of unusedN). It is called only for
	// volumes no mount point, pending value or snapshot uses.
	Free(volid string) error
}

// ParamError is PVE's raise_param_exc: HTTP 400 "Parameter verification
// failed." with one message per parameter.
type ParamError struct {
	Errors map[string]string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("parameter verification failed: %v", e.Errors)
}

// LockedError is check_lock's "CT is locked (backup)" (HTTP 500 in PVE).
type LockedError struct {
	Lock string
}

func (e *LockedError) Error() string { return "CT is locked (" + e.Lock + ")" }

// ErrNotImplemented marks a body still being written.
var errNotImplemented = errors.New("ctconf: not implemented yet")

// Parse parses a config file as PVE's parse_pct_config does. Lines PVE
// cannot parse are errors naming the line number; what PVE only warns about
// goes to File.Warnings.
func Parse(text []byte) (*File, error) { return nil, errNotImplemented }

// Bytes writes the file as PVE's write_pct_config does: main section,
// [pve:pending], snapshots sorted by name. A file PVE wrote round-trips byte
// for byte.
func (f *File) Bytes() []byte { return nil }

// Digest returns the SHA1 hex of text, PVE's config digest.
func Digest(text []byte) string { return "" }

// NewSection returns an empty section.
func NewSection() *Section { return &Section{values: map[string]string{}} }

// Get returns the value of key in s.
func (s *Section) Get(key string) (string, bool) { v, ok := s.values[key]; return v, ok }

// Set sets key to value in s.
func (s *Section) Set(key, value string) { s.values[key] = value }

// Delete removes key from s.
func (s *Section) Delete(key string) { delete(s.values, key) }

// Keys returns the keys of s, sorted.
func (s *Section) Keys() []string { return nil }

// Description returns the section's description ("" when none).
func (s *Section) Description() string { return s.values["description"] }

// Get returns the current value of key (main section).
func (f *File) Get(key string) (string, bool) { return f.Main.Get(key) }

// Set sets key in the main section.
func (f *File) Set(key, value string) { f.Main.Set(key, value) }

// Delete removes key from the main section.
func (f *File) Delete(key string) { f.Main.Delete(key) }

// Snapshot returns the snapshot section called name, or nil.
func (f *File) Snapshot(name string) *Snapshot { return nil }

// PendingDeletes returns the pending delete list, sorted by key.
func (f *File) PendingDeletes() []PendingDelete { return nil }

// PendingEntries returns what GET .../pending returns
// (config_with_pending_array), sorted by key.
func (f *File) PendingEntries() []PendingEntry { return nil }

// Merged returns the config GET .../config returns without current=1:
// pending values merged in, pending deletes removed, digest included.
func (f *File) Merged() map[string]string { return nil }

// Current returns the config GET .../config returns with current=1.
func (f *File) Current() map[string]string { return nil }

// SplitList splits a PVE list parameter ("a,b;c d") as PVE::Tools::split_list.
func SplitList(s string) []string { return nil }

// ApplyUpdate applies a PUT config as PVE's update_pct_config followed by
// vmconfig_hotplug_pending (running) or vmconfig_apply_pending (stopped).
// On any error the File is left unchanged. Errors are *ParamError (HTTP
// 400) or a plain error carrying PVE's message (HTTP 500).
func (f *File) ApplyUpdate(u Update, running bool, alloc VolumeAllocator) (UpdateResult, error) {
	return UpdateResult{}, errNotImplemented
}

// ApplyPending applies every pending change, as PVE does when the
// container starts or reboots (vmconfig_apply_pending without selection).
func (f *File) ApplyPending(alloc VolumeAllocator) (UpdateResult, error) {
	return UpdateResult{}, errNotImplemented
}

// HotPluggable reports whether PVE applies a change of key live on a
// running container with config f (nil means an empty config).
func HotPluggable(key string, f *File) bool { return false }

// DeleteHotPluggable reports whether PVE applies a delete of key live on a
// running container.
func DeleteHotPluggable(key string) bool { return false }

// ValidSnapshotName checks a snapshot name as PVE does.
func ValidSnapshotName(name string) error { return errNotImplemented }

// SnapshotPrepare is the config part of __snapshot_prepare.
func (f *File) SnapshotPrepare(name, description string, snaptime int64) error {
	return errNotImplemented
}

// SnapshotCommit is __snapshot_commit.
func (f *File) SnapshotCommit(name string) error { return errNotImplemented }

// SnapshotDeleteBegin is the config part of snapshot_delete before the
// volume snapshots are removed: lock snapshot-delete, snapstate delete.
func (f *File) SnapshotDeleteBegin(name string) error { return errNotImplemented }

// SnapshotDelete removes the section, relinks parents and drops the lock.
func (f *File) SnapshotDelete(name string) error { return errNotImplemented }

// RollbackBegin is the config part of snapshot_rollback's prepare phase.
func (f *File) RollbackBegin(name string) error { return errNotImplemented }

// Rollback replaces the current config with the snapshot's.
func (f *File) Rollback(name string) error { return errNotImplemented }

// Lock returns the lock value ("" when unlocked).
func (f *File) Lock() string { return "" }

// SetLock sets or (with "") clears the lock.
func (f *File) SetLock(lock string) {}

// CheckLock is check_lock: a *LockedError when the config is locked.
func (f *File) CheckLock() error { return nil }

// Clone returns a deep copy of f.
func (f *File) Clone() *File { return nil }

// MountPoints returns rootfs and mpN with their raw values.
func (f *File) MountPoints() map[string]string { return nil }

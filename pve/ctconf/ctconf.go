package ctconf

import (
	"strings"

	"github.com/felhom/felhom/pve/format"
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

// PendingDelete is one entry of the pending delete list: a delete list
// item, whose Force (the '!' prefix) PVE never sets for containers.
type PendingDelete = format.DeleteItem

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
	// Digest is the request's digest parameter ("" when not given).
	Digest string
	// Set maps option names to their new values.
	Set map[string]string
	// Delete lists the options to delete (the API's "delete", split with format.SplitList).
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

// Error returns "parameter verification failed: key: msg; ..." with the
// keys sorted.
func (e *ParamError) Error() string {
	keys := sortedKeys(e.Errors)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + strings.TrimSuffix(e.Errors[k], "\n")
	}
	return "parameter verification failed: " + strings.Join(parts, "; ")
}

// LockedError is check_lock's "CT is locked (backup)" (HTTP 500 in PVE).
type LockedError struct {
	Lock string
}

func (e *LockedError) Error() string { return "CT is locked (" + e.Lock + ")" }

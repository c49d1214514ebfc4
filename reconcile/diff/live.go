package diff

import "time"

// Live is one container's observed state, as data: what GET
// /cluster/resources, GET .../pending and GET .../snapshot returned, plus
// what the storages can do. Observe builds it; Diff only reads it.
type Live struct {
	// Node is where the container runs now (it may differ from the spec's
	// node after a migration; the plan follows the container).
	Node string
	// VMID is the container's id.
	VMID int
	// Running is true when the container's status is "running".
	Running bool
	// Lock is the config lock ("backup", "snapshot", ...), "" when none.
	Lock string
	// Digest is PVE's config digest (the "digest" entry of .../pending).
	Digest string
	// Config holds the current values by key: the "value" of each entry of
	// GET .../pending that has one.
	Config map[string]string
	// Pending holds the pending values by key: the "pending" of each entry
	// that has one.
	Pending map[string]string
	// PendingDelete holds the keys with a pending delete ("delete": 1 or 2).
	PendingDelete map[string]bool
	// Snapshots are the names of the container's snapshots, without PVE's
	// "current" entry.
	Snapshots []string
	// SnapshotStorages says per storage id whether PVE can snapshot a
	// container volume on it (pve-storage volume_has_feature 'snapshot':
	// lvmthin, zfspool, rbd and btrfs can; dir, nfs, cifs and lvm cannot). A
	// storage not listed is unknown, not unable: PVE's storage list leaves
	// out storages the token cannot audit, and a snapshot needs only
	// VM.Snapshot.
	SnapshotStorages map[string]bool
	// Applied holds, by change path, the value felhom last applied (the
	// Baseline of the spec it last applied), so a live value that differs
	// from it is drift. Nil when unknown: then no change is marked as drift.
	Applied map[string]string
	// Err is set when the container could not be observed; the container is
	// then planned as an error with this reason.
	Err string
}

// Options are the plan-wide inputs of Diff that are not in the spec or the
// live state.
type Options struct {
	// Now is the plan's time: it names the felhom snapshot and decides
	// whether a restart window is open.
	Now time.Time
	// Revision is the spec's source revision; it is part of the snapshot
	// name.
	Revision string
	// Root says where the privileged backend may make the writes only
	// root@pam may make (privileged.Status satisfies it). Nil: nowhere, and
	// such changes are blocked.
	Root Root
}

// Root is where felhom may write as root: For returns nil when the
// privileged backend may write a container on node, else an error saying
// why not and what would enable it. It must be pure (Diff is).
type Root interface {
	For(node string) error
}

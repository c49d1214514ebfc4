package diff

import (
	"slices"
	"time"

	"github.com/felhom/felhom/pve/format"
)

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
	// Storages is the node's storage list (GET /nodes/{node}/storage) by
	// storage id. PVE leaves out the storages the token can neither audit
	// nor allocate on, so a storage not listed is unknown, not absent: its
	// snapshot capability is unknown, while a new volume or a backup there
	// would be refused anyway (both need Datastore.AllocateSpace, which
	// lists it). Nil when the list was not read: nothing is checked.
	Storages map[string]Storage
	// Volumes says, for the existing volumes the spec attaches and the
	// config does not hold yet, whether the storage's content list has
	// them. A volume not in the map was not checked.
	Volumes map[string]bool
	// VolumeSizes holds, for the container's volumes the spec grows, the
	// size the storage's content list gives: the volume's real size, which
	// PVE's resize compares with (resize_vm: volume_size_info). It can be
	// more than the config's size=, after a rollback on a storage whose
	// snapshots do not keep the size. A volume not in the map was not read.
	VolumeSizes map[string]format.Size
	// Zone is the node's time zone (GET /nodes/{node}/time), which a
	// restart window is read in, as PVE reads its own schedules; nil when
	// it was not read (no restart window), and felhom's local zone serves.
	Zone *time.Location
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
	// Nodes are the cluster's node names, to check each spec's node; nil
	// when not read (then a spec's node is not checked).
	Nodes []string
	// Creates holds, by VMID, what observing learned about the containers
	// the specs create (their vmid not on PVE, a create section in the
	// spec); nil when nothing is created.
	Creates map[int]*NewCT
}

// Root is where felhom may write as root: For returns nil when the
// privileged backend may write a container on node, else an error saying
// why not and what would enable it. It must be pure (Diff is).
type Root interface {
	For(node string) error
}

// Storage is what a node's storage list says of one storage.
type Storage struct {
	// Type is the storage type (dir, lvmthin, zfspool, nfs, ...).
	Type string
	// Content lists the content types it holds (rootdir, backup, ...).
	Content []string
	// Avail is the free space in bytes; 0 when PVE did not say (an
	// inactive storage).
	Avail int64
}

// Snapshots reports whether PVE can snapshot a container volume on it.
func (s Storage) Snapshots() bool { return format.SnapshotCapable(s.Type) }

// Holds reports whether the storage takes content of type c.
func (s Storage) Holds(c string) bool { return slices.Contains(s.Content, c) }

package spec

import (
	"time"

	"github.com/felhom/felhom/pve/format"
)

// APIVersion is the apiVersion every spec document declares.
const APIVersion = "felhom/v1alpha1"

// Document kinds.
const (
	KindContainer = "Container" // one PVE LXC container
	KindDefaults  = "Defaults"  // defaults for the containers in its folder and below
)

// Position is where something sits in a spec file. Line and Column are
// 1-based; zero means unknown.
type Position struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// Document is one YAML document of a spec file: a Container or a Defaults.
// For a Defaults document Spec holds only the defaulted fields and Metadata
// may be empty.
type Document struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   Metadata      `json:"metadata"`
	Spec       ContainerSpec `json:"spec"`
	// Source is the position of the document's first key.
	Source Position `json:"-"`
}

// Container is a Document of kind Container. After Load its defaults are
// applied: folder Defaults merged in, policies filled.
type Container = Document

// Metadata names a document.
type Metadata struct {
	// Name identifies the container in felhom; it is unique in a Set. It is
	// not the hostname: only spec.hostname manages that.
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// ContainerSpec is the desired state of one container. A nil pointer, nil
// slice or nil map means "not managed": felhom leaves that PVE option as it
// is. Field names are PVE's option names (pct.conf / the API) where one
// exists; structured values replace PVE's property strings.
type ContainerSpec struct {
	// Node is the PVE node the container lives on. Required.
	Node string `json:"node"`
	// VMID is the container's id, 100..999999999. Required, unique in a Set.
	VMID int `json:"vmid"`
	// Hostname is managed only when set; metadata.name does not set it.
	Hostname *string `json:"hostname,omitempty"`

	// Memory and Swap are sizes; plain numbers are MiB as in PVE.
	Memory   *format.Size `json:"memory,omitempty" unit:"MiB"`
	Swap     *format.Size `json:"swap,omitempty" unit:"MiB"`
	Cores    *int         `json:"cores,omitempty"`
	CPULimit *float64     `json:"cpulimit,omitempty"`
	CPUUnits *int         `json:"cpuunits,omitempty"`

	OnBoot       *bool     `json:"onboot,omitempty"`
	Startup      *Startup  `json:"startup,omitempty"`
	Protection   *bool     `json:"protection,omitempty"`
	Tags         []string  `json:"tags"` // nil: not managed; empty: no tags (no omitempty, so JSON shows the difference)
	Description  *string   `json:"description,omitempty"`
	Nameserver   *string   `json:"nameserver,omitempty"`
	Searchdomain *string   `json:"searchdomain,omitempty"`
	Features     *Features `json:"features,omitempty"`
	// Hookscript is the container's hook script, a volume in a storage's
	// snippets ("local:snippets/hook.sh"); "" removes it. Only root@pam
	// may set it (felhom's privileged backend does).
	Hookscript *string `json:"hookscript,omitempty"`

	// Net holds the network interfaces keyed by PVE slot ("net0".."net31").
	// Slots not listed are not managed.
	Net map[string]NetIf `json:"net,omitempty"`
	// RootFS is the root volume.
	RootFS *RootFS `json:"rootfs,omitempty"`
	// MountPoints holds the mount points keyed by PVE slot ("mp0".."mp255").
	// Slots not listed are not managed.
	MountPoints map[string]MountPoint `json:"mountpoints,omitempty"`
	// Devices holds device passthrough entries keyed by PVE slot
	// ("dev0".."dev255"): a host device node made available in the
	// container. Only root@pam may set them (felhom's privileged backend
	// does, with pct set); slots left out are not managed.
	Devices map[string]Device `json:"devices,omitempty"`

	Backup   *BackupPolicy   `json:"backup,omitempty"`
	Snapshot *SnapshotPolicy `json:"snapshot,omitempty"`
	Restart  *RestartPolicy  `json:"restart,omitempty"`
	// Drift is DriftRevert or DriftReport; Load fills DriftRevert when unset.
	// DriftReport tells a hand change from a spec change by the baseline
	// felhom keeps in its felhom snapshot after a verified apply; a container
	// without one (never snapshotted: PVE cannot, or snapshot.before-change
	// is off; or not applied yet) has every difference planned as a change,
	// and the plan warns about it.
	Drift Drift `json:"drift,omitempty"`
	// Power is the run state felhom keeps the container in: PowerRunning
	// or PowerStopped. Empty means not managed: felhom never starts or
	// stops the container for it (Load fills no default).
	Power Power `json:"power,omitempty"`
	// Suspend, when true, has felhom daemon leave the container alone: it
	// is neither observed nor changed until the spec says false again (as
	// Flux's suspend). felhom plan and felhom apply are not affected.
	Suspend bool `json:"suspend,omitempty"`
	// Create says how apply makes the container when its vmid is not on
	// PVE: from an OS template or by restoring a backup. It is read only
	// then; once the container exists it changes nothing.
	Create *Create `json:"create,omitempty"`
}

// Create is how a container that is not on PVE yet is made (create).
// Exactly one of OSTemplate and Restore is set (validated); a create also
// needs rootfs.storage in the spec, and rootfs.size for a template.
type Create struct {
	// OSTemplate is an OS template volume, "local:vztmpl/debian-13-...".
	OSTemplate string `json:"ostemplate,omitempty"`
	// Restore restores a vzdump backup instead.
	Restore *Restore `json:"restore,omitempty"`
	// Unprivileged is PVE's unprivileged: nil is true for a template and
	// the backup's own for a restore; false (privileged) needs Sys.Modify.
	Unprivileged *bool `json:"unprivileged,omitempty"`
	// Arch and OSType are PVE's arch and ostype (a template only); left
	// out, PVE detects them from the template's files.
	Arch   string `json:"arch,omitempty"`
	OSType string `json:"ostype,omitempty"`
	// PasswordFile is a file on felhom's machine holding the root
	// password (a template only). apply reads it when it creates the
	// container; the password is never in the spec, the plan or a log.
	PasswordFile string `json:"password-file,omitempty"`
	// SSHPublicKeys are authorized_keys lines for root (a template only).
	SSHPublicKeys []string `json:"ssh-public-keys,omitempty"`
}

// Restore names the backup a create restores: a volid, or the newest
// backup of a vmid on a storage. Exactly one of VolID and NewestBackupOf
// is set (validated).
type Restore struct {
	// VolID is the backup volume, "backups:backup/vzdump-lxc-120-...".
	VolID string `json:"volid,omitempty"`
	// NewestBackupOf picks the newest backup of this vmid on Storage when
	// the plan is made; the plan names the one it found.
	NewestBackupOf int `json:"newest-backup-of,omitempty"`
	// Storage is the backup storage NewestBackupOf looks in.
	Storage string `json:"storage,omitempty"`
}

// Startup is PVE's startup property string (order=,up=,down=).
type Startup struct {
	Order *int `json:"order,omitempty"`
	Up    *int `json:"up,omitempty"`   // seconds to wait after starting
	Down  *int `json:"down,omitempty"` // seconds to wait after stopping
}

// Features is PVE's features property string.
type Features struct {
	Nesting    *bool    `json:"nesting,omitempty"`
	Keyctl     *bool    `json:"keyctl,omitempty"`
	Fuse       *bool    `json:"fuse,omitempty"`
	Mknod      *bool    `json:"mknod,omitempty"`
	ForceRWSys *bool    `json:"force_rw_sys,omitempty"`
	Mount      []string `json:"mount,omitempty"` // file system types, PVE joins them with ';'
}

// NetIf is one netN property string.
type NetIf struct {
	Name     *string  `json:"name,omitempty"` // interface name inside the container, e.g. eth0
	Bridge   *string  `json:"bridge,omitempty"`
	IP       *string  `json:"ip,omitempty"`  // IPv4 CIDR, "dhcp" or "manual"
	GW       *string  `json:"gw,omitempty"`  // IPv4 address
	IP6      *string  `json:"ip6,omitempty"` // IPv6 CIDR, "dhcp", "auto" or "manual"
	GW6      *string  `json:"gw6,omitempty"` // IPv6 address
	HWAddr   *string  `json:"hwaddr,omitempty"`
	Tag      *int     `json:"tag,omitempty"` // VLAN tag 1..4094
	Trunks   []int    `json:"trunks,omitempty"`
	Firewall *bool    `json:"firewall,omitempty"`
	MTU      *int     `json:"mtu,omitempty"`
	Rate     *float64 `json:"rate,omitempty"` // MB/s
	LinkDown *bool    `json:"link_down,omitempty"`
}

// RootFS is the rootfs property string in structured form.
type RootFS struct {
	// Storage is the PVE storage holding the root volume. Required.
	Storage string `json:"storage"`
	// Size is the volume size; plain numbers are GiB as in PVE.
	Size         *format.Size `json:"size,omitempty" unit:"GiB"`
	ACL          *bool        `json:"acl,omitempty"`
	Quota        *bool        `json:"quota,omitempty"`
	Replicate    *bool        `json:"replicate,omitempty"`
	RO           *bool        `json:"ro,omitempty"`
	Shared       *bool        `json:"shared,omitempty"`
	MountOptions []string     `json:"mountoptions,omitempty"` // noatime, lazytime, nodev, nosuid, noexec, discard
}

// Device is one device passthrough (PVE devN, as a mapping).
type Device struct {
	Path      string `json:"path"`                 // the host device node, below /dev/
	Mode      string `json:"mode,omitempty"`       // access mode in the container, octal such as "0660"
	UID       *int   `json:"uid,omitempty"`        // owner in the container
	GID       *int   `json:"gid,omitempty"`        // group in the container
	DenyWrite *bool  `json:"deny-write,omitempty"` // read-only in the container
}

// MountKind says what a mount point mounts.
type MountKind string

// Mount point kinds.
const (
	MountNewVolume MountKind = "new-volume" // Storage (+ Size): a volume felhom allocates
	MountVolume    MountKind = "volume"     // Volume: an existing PVE volume id
	MountBind      MountKind = "bind"       // Bind: a host directory (root only)
	MountDevice    MountKind = "device"     // Device: a host block device (root only)
)

// MountPoint is one mpN property string in structured form. Exactly one of
// Storage, Volume, Bind and Device is set (validated).
type MountPoint struct {
	Storage string `json:"storage,omitempty"` // a new volume on this storage (Size required)
	Volume  string `json:"volume,omitempty"`  // an existing volume, "storage:volname"
	Bind    string `json:"bind,omitempty"`    // an absolute host directory
	Device  string `json:"device,omitempty"`  // an absolute host device path under /dev
	// Size is the volume size (new or existing volume only); plain numbers are GiB.
	Size *format.Size `json:"size,omitempty" unit:"GiB"`
	// MP is the absolute path inside the container. Required.
	MP           string   `json:"mp"`
	Backup       *bool    `json:"backup,omitempty"`
	ACL          *bool    `json:"acl,omitempty"`
	Quota        *bool    `json:"quota,omitempty"`
	RO           *bool    `json:"ro,omitempty"`
	Replicate    *bool    `json:"replicate,omitempty"`
	Shared       *bool    `json:"shared,omitempty"`
	MountOptions []string `json:"mountoptions,omitempty"`
}

// Kind reports what the mount point mounts, from the one source field set.
func (m MountPoint) Kind() MountKind {
	switch {
	case m.Bind != "":
		return MountBind
	case m.Device != "":
		return MountDevice
	case m.Volume != "":
		return MountVolume
	default:
		return MountNewVolume
	}
}

// BackupPolicy is a vzdump job felhom runs for the container.
type BackupPolicy struct {
	// Schedule is a PVE calendar event, e.g. "mon..fri 02:30". Required.
	Schedule string `json:"schedule"`
	// Storage must have content "backup". Required.
	Storage       string     `json:"storage"`
	Mode          string     `json:"mode,omitempty"`     // snapshot, suspend or stop; PVE's default is snapshot
	Compress      string     `json:"compress,omitempty"` // zstd, gzip, lzo or none
	Retention     *Retention `json:"retention,omitempty"`
	NotesTemplate *string    `json:"notes-template,omitempty"`
	Protected     *bool      `json:"protected,omitempty"`
	// MaxAge is how old the newest backup may grow before the container
	// counts as overdue; nil means 1.5 times the schedule's longest gap
	// between runs (reconcile/schedule DefaultMaxAge).
	MaxAge *Duration `json:"max-age,omitempty"`
}

// Retention is PVE's prune-backups option. KeepAll excludes the others.
type Retention struct {
	KeepAll     *bool `json:"keep-all,omitempty"`
	KeepLast    *int  `json:"keep-last,omitempty"`
	KeepHourly  *int  `json:"keep-hourly,omitempty"`
	KeepDaily   *int  `json:"keep-daily,omitempty"`
	KeepWeekly  *int  `json:"keep-weekly,omitempty"`
	KeepMonthly *int  `json:"keep-monthly,omitempty"`
	KeepYearly  *int  `json:"keep-yearly,omitempty"`
}

// WhenImpossible says what felhom does with a change to a container PVE
// cannot snapshot (snapshot.when-impossible).
type WhenImpossible string

// The values of WhenImpossible.
const (
	SnapshotRefuse WhenImpossible = "refuse" // do not change a container felhom cannot snapshot
	SnapshotVzdump WhenImpossible = "vzdump" // back it up with vzdump first, then change it
)

// SnapshotPolicy says how felhom protects a container before changing it.
// After Load every field is set.
type SnapshotPolicy struct {
	// BeforeChange takes a snapshot before the first change (default true).
	BeforeChange *bool `json:"before-change,omitempty"`
	// WhenImpossible is SnapshotRefuse (default) or SnapshotVzdump.
	WhenImpossible WhenImpossible `json:"when-impossible,omitempty"`
	// Keep is how many felhom snapshots to keep (default DefaultSnapshotKeep).
	Keep *int `json:"keep,omitempty"`
	// OnFailure is what apply does when a step fails after the snapshot:
	// OnFailureRollback (default) or OnFailureLeave (DESIGN.md safety
	// rule 7).
	OnFailure OnFailure `json:"on-failure,omitempty"`
}

// OnFailure is the failure policy: what apply does when a step fails after
// the felhom snapshot (snapshot.on-failure, the plan's on_failure and
// felhom apply --on-failure all carry it).
type OnFailure string

// The failure policies.
const (
	OnFailureRollback OnFailure = "rollback" // roll back to the felhom snapshot (and start it again when it ran)
	OnFailureLeave    OnFailure = "leave"    // leave the container half-done and report what is done
)

// Valid reports whether o is one of the failure policies.
func (o OnFailure) Valid() bool { return o == OnFailureRollback || o == OnFailureLeave }

// DefaultSnapshotKeep is the number of felhom snapshots kept when the spec
// does not say.
const DefaultSnapshotKeep = 3

// RestartMode says when felhom may restart a container (restart.mode).
type RestartMode string

// The restart modes.
const (
	RestartNever      RestartMode = "never"       // never restart; pending changes stay pending (default)
	RestartWhenNeeded RestartMode = "when-needed" // restart as soon as a change needs it
	RestartInWindow   RestartMode = "window"      // restart only inside Window
)

// RestartPolicy says when felhom may restart a container to apply pending
// changes. After Load Mode is set.
type RestartPolicy struct {
	Mode   RestartMode    `json:"mode,omitempty"`
	Window *RestartWindow `json:"window,omitempty"` // required when Mode is RestartInWindow
}

// RestartWindow is a time window: it opens at each occurrence of Schedule and
// stays open for Duration. felhom reads Schedule in the node's time zone, as
// PVE reads its own schedules, unless the event ends in "UTC" (reconcile's
// README has the details).
type RestartWindow struct {
	Schedule string   `json:"schedule"` // a PVE calendar event
	Duration Duration `json:"duration"` // Go duration syntax, e.g. "2h" or "30m"
}

// Duration is a time.Duration written as "1h30m" in specs.
type Duration time.Duration

// String renders the duration in Go syntax, e.g. "2h0m0s".
func (d Duration) String() string { return time.Duration(d).String() }

// Drift is the drift policy: what felhom does with a live value changed
// outside felhom (drift).
type Drift string

// The drift policies.
const (
	DriftRevert Drift = "revert" // change live state back to the spec (default)
	DriftReport Drift = "report" // only report the difference
)

// Power is the run state a spec asks for (power): running or stopped.
type Power string

// The power states.
const (
	PowerRunning Power = "running" // start the container when it is stopped
	PowerStopped Power = "stopped" // shut it down (gracefully) when it runs
)

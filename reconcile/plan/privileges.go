package plan

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Use is one thing felhom asks of PVE that needs privileges. What each use
// needs is written once, in uses: diff records a plan's privileges from it
// and felhom selftest lists it. The simulator (pve/pvesim/perms.go) keeps
// its own model of PVE's checks, and a property test holds the two together.
type Use uint8

// The uses.
const (
	useInvalid Use = iota
	// UseRead reads a container's config, pending changes, status and
	// snapshots.
	UseRead
	// UseReadBackups lists a storage's backups.
	UseReadBackups
	// UseSetCPU writes cores, cpulimit or cpuunits.
	UseSetCPU
	// UseSetMemory writes memory or swap.
	UseSetMemory
	// UseSetNetwork writes netN, hostname, nameserver or searchdomain.
	UseSetNetwork
	// UseBridge puts an interface on a bridge, or takes it off one (PVE
	// checks the old and the new value): Scope is the SDN path of the bridge
	// and VLAN tag.
	UseBridge
	// UseSetDisk writes rootfs or mpN.
	UseSetDisk
	// UseSetNesting turns nesting on or off (an unprivileged container; other
	// features are root-only).
	UseSetNesting
	// UseSetOptions writes any other key (onboot, startup, tags, ...).
	UseSetOptions
	// UseConfigPut is a config PUT whose keys ask none of ConfigPutAnyOf
	// (nesting alone): the method's schema asks one of them before the
	// keys are checked, and felhom names VM.Config.Options.
	UseConfigPut
	// UseNewVolume allocates a new volume on storage Scope.
	UseNewVolume
	// UseAttachUnowned puts volume Scope (STORAGE:NAME) that no container
	// owns in place.
	UseAttachUnowned
	// UseAttachOthers puts volume Scope that another container owns in
	// place.
	UseAttachOthers
	// UseResize grows a volume on storage Scope.
	UseResize
	// UseSnapshot takes, deletes, describes and rolls back felhom snapshots.
	UseSnapshot
	// UseReboot reboots the container.
	UseReboot
	// UseVzdump backs the container up to storage Scope.
	UseVzdump
	// UseVzdumpPrune prunes backups on storage Scope within the vzdump.
	UseVzdumpPrune
	// UsePower starts or shuts down the container for the spec's power.
	UsePower
	// UseCreate creates the container (from a template or a backup).
	UseCreate
	// UseCreatePrivileged creates a privileged container (unprivileged=0).
	UseCreatePrivileged
	// UseTemplate reads OS template Scope (a vztmpl volid) for a create.
	UseTemplate
	// UseRestoreBackup finds and restores backup Scope (a backup volid
	// whose name names its guest).
	UseRestoreBackup
	// UseRestoreUnowned restores backup Scope whose name carries no vmid
	// (a renamed archive).
	UseRestoreUnowned
	useEnd
)

// scope says on which ACL path a privilege is checked.
type scope uint8

const (
	onVM          scope = iota + 1 // /vms/<vmid>
	onStorage                      // /storage/<storage of Scope>
	onSDN                          // Scope, an SDN path
	onOwner                        // /vms/<owner of volume Scope>
	onRoot                         // /
	onBackupOwner                  // /vms/<owner of backup Scope>
)

type need struct {
	name  string
	scope scope
}

// useInfo is one use: what it is for people and what PVE checks for it.
// Sources: pve-semantics.md §3-§7; pve-container src/PVE/LXC.pm
// check_ct_modify_config_perm; pve-storage src/PVE/Storage.pm
// check_volume_access; pve-manager PVE/API2/VZDump.pm.
type useInfo struct {
	what  string
	needs []need
}

// optionalUses are the uses only some specs ask for (a privileged create),
// so that a token without their privileges still applies everything else.
var optionalUses = map[Use]bool{UseCreatePrivileged: true}

var uses = [useEnd]useInfo{
	UseRead:        {"read container config, pending changes, status, snapshots", []need{{"VM.Audit", onVM}}},
	UseReadBackups: {"list backups", []need{{"Datastore.Audit", onStorage}}},
	UseSetCPU:      {"set cores, cpulimit, cpuunits", []need{{"VM.Config.CPU", onVM}}},
	UseSetMemory:   {"set memory, swap", []need{{"VM.Config.Memory", onVM}}},
	UseSetNetwork:  {"set netN, hostname, nameserver, searchdomain", []need{{"VM.Config.Network", onVM}}},
	UseBridge:      {"put netN on a bridge, or take it off one", []need{{"SDN.Use", onSDN}}},
	UseSetDisk:     {"set rootfs, mpN", []need{{"VM.Config.Disk", onVM}}},
	UseSetNesting:  {"turn nesting on or off (unprivileged containers)", []need{{"VM.Allocate", onVM}}},
	UseSetOptions:  {"set onboot, startup, tags, description, ...", []need{{"VM.Config.Options", onVM}}},
	UseConfigPut:   {"a config PUT that asks none of VM.Config.* by its keys (PVE's schema asks one)", []need{{"VM.Config.Options", onVM}}},
	UseNewVolume:   {"allocate a new volume (an mpN, or a new container's)", []need{{"Datastore.AllocateSpace", onStorage}}},
	// check_volume_access: a container's own volume needs nothing more; one
	// no container owns needs Datastore.Allocate on its storage.
	UseAttachUnowned: {"attach an existing volume no container owns", []need{{"Datastore.Allocate", onStorage}}},
	UseAttachOthers:  {"attach an existing volume of another container", []need{{"Datastore.Audit", onStorage}, {"VM.Config.Disk", onOwner}}},
	// The schema of PUT .../resize asks only VM.Config.Disk. resize_vm then
	// passes {disk => ...} to check_ct_modify_config_perm, which treats
	// "disk" as an ordinary option (VM.Config.Options), and checks
	// Datastore.AllocateSpace on the volume's storage.
	UseResize:   {"resize a volume (PVE's code also checks Options and the storage)", []need{{"VM.Config.Disk", onVM}, {"VM.Config.Options", onVM}, {"Datastore.AllocateSpace", onStorage}}},
	UseSnapshot: {"snapshot before a change, delete and roll back snapshots", []need{{"VM.Snapshot", onVM}}},
	UseReboot:   {"restart to apply pending changes", []need{{"VM.PowerMgmt", onVM}}},
	UseVzdump:   {"vzdump before a change PVE cannot snapshot", []need{{"VM.Backup", onVM}, {"Datastore.AllocateSpace", onStorage}}},
	// A vzdump that prunes (prune-backups, remove=1) needs Datastore.Allocate
	// (assert_param_permission_vzdump).
	UseVzdumpPrune: {"prune old backups in the vzdump", []need{{"Datastore.Allocate", onStorage}}},
	// pve-container API2/LXC/Status.pm vm_start and vm_shutdown: VM.PowerMgmt.
	UsePower: {"start or shut down the container (spec power)", []need{{"VM.PowerMgmt", onVM}}},
	// pve-container API2/LXC.pm create_vm: VM.Allocate on the vmid (the
	// checks of the options it is given are the keys' own uses, and
	// Datastore.AllocateSpace on each target storage is UseNewVolume's);
	// Sys.Modify on / for a privileged container.
	UseCreate:           {"create a container (from a template or a backup)", []need{{"VM.Allocate", onVM}}},
	UseCreatePrivileged: {"create a privileged container (create.unprivileged: false)", []need{{"Sys.Modify", onRoot}}},
	// pve-storage check_volume_access for vztmpl: Datastore.Allocate,
	// Datastore.AllocateSpace or Datastore.Audit on its storage; felhom
	// names Audit, which reading the storage's templates needs too.
	UseTemplate: {"read the OS template of a create", []need{{"Datastore.Audit", onStorage}}},
	// check_volume_access for a backup: Datastore.AllocateSpace on the
	// storage and VM.Backup on its guest (or Datastore.Allocate on the
	// storage, which a backup whose name names no guest needs). Restoring
	// the container's own would need nothing more, but the storage's
	// content list (Content.pm index: check_volume_access without a vmid)
	// shows a backup only to who holds these, and the plan finds it there
	// (and reads its config: VZDump.pm extractconfig asks the same).
	UseRestoreBackup:  {"find and restore a guest's backup", []need{{"Datastore.AllocateSpace", onStorage}, {"VM.Backup", onBackupOwner}}},
	UseRestoreUnowned: {"restore a backup whose name names no guest", []need{{"Datastore.Allocate", onStorage}}},
}

// ConfigPutAnyOf are the privileges of which PUT /nodes/{node}/lxc/{vmid}/config
// asks one on /vms/{vmid} by its schema (apidata.json: check perm with
// any => 1), before check_ct_modify_config_perm looks at the keys.
var ConfigPutAnyOf = []string{"VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"}

// Needs returns the privileges use asks of an API token for container vmid.
// scope is the use's object: a storage or volume id (STORAGE[:NAME]) for the
// storage and volume uses, an SDN path for UseBridge, "" otherwise. A volume
// the container owns itself needs nothing for UseAttachOthers.
func Needs(use Use, vmid int, scope string) []Privilege {
	if use <= useInvalid || use >= useEnd {
		panic(fmt.Sprintf("plan: unknown use %d", use))
	}
	var out []Privilege
	for _, n := range uses[use].needs {
		var path string
		switch n.scope {
		case onVM:
			path = VMPath(vmid)
		case onStorage:
			storage, _, _ := strings.Cut(scope, ":")
			path = "/storage/" + storage
		case onSDN:
			path = scope
		case onOwner:
			owner, ok := VolumeOwner(scope)
			if !ok || owner == vmid {
				return nil
			}
			path = VMPath(owner)
		case onRoot:
			path = "/"
		case onBackupOwner:
			owner, ok := BackupOwner(scope)
			if !ok {
				return nil
			}
			path = VMPath(owner)
		}
		out = append(out, Privilege{Path: path, Name: n.name})
	}
	return out
}

// VMPath is the ACL path of guest vmid.
func VMPath(vmid int) string { return "/vms/" + strconv.Itoa(vmid) }

// AttachUse says which use putting the existing volume volid in place on
// container vmid is, as check_volume_access judges it; ok false when the
// container owns the volume, which needs nothing beyond VM.Config.Disk.
func AttachUse(vmid int, volid string) (u Use, ok bool) {
	owner, owned := VolumeOwner(volid)
	switch {
	case !owned:
		return UseAttachUnowned, true
	case owner == vmid:
		return 0, false
	}
	return UseAttachOthers, true
}

// ownerRE is the owner part of the volume names PVE's storage plugins give
// guest volumes (parse_volname: vm-N-disk-M, subvol-N-disk-M, base-N-disk-M,
// with or without a directory).
var ownerRE = regexp.MustCompile(`^(?:[^:]+:)?(?:[^/]*/)*(?:vm|subvol|base)-([1-9][0-9]*)-disk-[0-9]+(?:\.[a-z0-9]+)?$`)

// VolumeOwner returns the VMID that owns volume volid (STORAGE:NAME), as PVE
// reads it from the volume's name; ok false when no guest owns it.
func VolumeOwner(volid string) (vmid int, ok bool) {
	m := ownerRE.FindStringSubmatch(volid)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// backupRE is the guest part of vzdump's archive names
// (vzdump-lxc-120-2026_12_01-02_00_00.tar.zst; PVE::Storage
// archive_info).
var backupRE = regexp.MustCompile(`(?:^|[:/])vzdump-(?:lxc|qemu|openvz)-([1-9][0-9]*)-`)

// BackupOwner returns the vmid whose backup volid (STORAGE:backup/NAME) is,
// as PVE reads it from the archive's name; ok false for a name that names
// no guest.
func BackupOwner(volid string) (vmid int, ok bool) {
	m := backupRE.FindStringSubmatch(volid)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// PrivilegeUse is one privilege and what felhom uses it for, for felhom
// selftest's overview.
type PrivilegeUse struct {
	Name string
	// For lists the uses, for people.
	For []string
	// Plan is set when felhom plan needs it too (it reads with it); the
	// others only apply needs.
	Plan bool
	// Optional is set when only some specs need it (Sys.Modify, for a
	// privileged create): a token without it applies everything else.
	Optional bool
}

// PrivilegeUses lists every privilege in the table with what it is for, in
// the table's order.
func PrivilegeUses() []PrivilegeUse {
	var out []PrivilegeUse
	at := map[string]int{}
	for u := UseRead; u < useEnd; u++ {
		for _, n := range uses[u].needs {
			i, ok := at[n.name]
			if !ok {
				i = len(out)
				at[n.name] = i
				out = append(out, PrivilegeUse{Name: n.name, Optional: true})
			}
			out[i].For = append(out[i].For, uses[u].what)
			out[i].Optional = out[i].Optional && optionalUses[u]
			out[i].Plan = out[i].Plan || u == UseRead || u == UseReadBackups
		}
	}
	return out
}

// Package diff compares a container's desired spec with its observed live
// state and plans what to do: the field changes, each classified (hot,
// pending until restart, root-only, impossible, awaiting restart), and the
// ordered steps that make them under the spec's snapshot, restart and drift
// policies. It is pure: it reads spec values and Live data and returns plan
// data; observing PVE and applying the plan are other packages' jobs.
//
// Comparison is by meaning, never by spelling: property strings are parsed
// with pve/format and compared key by key, sizes in bytes, defaults PVE
// leaves out are understood, tags are a set, MAC addresses ignore case, IP
// addresses compare as addresses. Only what the spec names is compared:
// options it leaves out, and keys of a property string it leaves out (such as
// a generated hwaddr), keep their live value and are written back unchanged.
//
// What PVE does, and where it is written (all PVE 9):
//
//   - Defaults of omitted options ($confdesc in pve-container
//     src/PVE/LXC/Config.pm, also in the API schema): memory 512, swap 512,
//     cpulimit 0 (unlimited), cpuunits 100 under cgroup v2, onboot 0,
//     protection 0; replicate=1 in rootfs/mpN, other flags off; cores unset
//     means all host cores.
//   - Hot or pending on a running container: vmconfig_hotplug_pending, as
//     pve/ctconf.HotPluggable and DeleteHotPluggable encode it; a stopped
//     container takes every change at once (vmconfig_apply_pending).
//   - A pending value equal to the desired one needs only a restart
//     (ClassAwaitingRestart); a pending value that would undo a correct
//     current value is reverted with PUT's revert parameter.
//   - Root-only (check_ct_modify_config_perm in src/PVE/LXC.pm): bind and
//     device mount points, features other than nesting (any feature on a
//     privileged container). Such a key is routed to the pct-set step (the
//     privileged backend) when Options.Root allows it on the container's
//     node, classified hot or pending as an API write would be; otherwise
//     the container is blocked with the reason and what would enable it.
//   - Impossible: shrinking a volume (resize dies "unable to shrink disk
//     size") and moving a volume to another storage (not a config change).
//   - Volume sizes change only through PUT .../resize (a UPID task); the
//     size= key of a mount point is informational, so a written mpN value
//     carries the grown size.
//   - The description is stored as '#' lines and read back with a trailing
//     newline (parse_pct_config), so trailing newlines carry no meaning.
//   - Tags: PVE's default tag style is case-insensitive, so tags compare as a
//     case-insensitive set.
//   - Snapshots: snapshot_create checks the snapshot feature on every mount
//     point (pve-guest-common AbstractConfig.pm), so a bind or device mount,
//     or a volume on a storage without snapshots (dir, nfs, cifs, lvm),
//     makes a snapshot impossible; the snapshot policy then asks for a vzdump
//     backup first or refuses the container.
//   - Permissions per key follow pve-semantics §4; the plan lists them so a
//     preflight can warn before apply.
//
// Drift: Live.Applied holds what felhom last applied, by change path (reconcile
// keeps it in the felhom snapshot's description and Observe reads it back).
// A live value that differs from it is marked as drift; with drift policy
// "report" a drifted field the spec did not change is reported and left
// alone. Without Live.Applied nothing can be told to be drift: a container
// with drift policy "report" and no baseline has every difference planned
// as a change, and its plan carries one warning that says so and why (PVE
// cannot snapshot it, snapshot.before-change is off, or no verified apply
// has written a baseline yet).
package diff

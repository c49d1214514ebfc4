// Package ctconf models Proxmox VE's LXC container config file
// (/etc/pve/lxc/<vmid>.conf) and the config-level rules PVE applies to it:
// reading and writing the file as PVE does (byte for byte for a file PVE
// wrote), the [pve:pending] section, PUT config (hot-plug on a running
// container, pending until restart, immediate apply on a stopped one), GET
// pending and GET config, and the config side of snapshots (prepare,
// commit, delete, rollback).
//
// The simulator (pve/pvesim) keeps each container as config text and calls
// ctconf for PVE's semantics; the reconcile diff calls HotPluggable and
// DeleteHotPluggable to classify changes as hot or pending until restart.
//
// It is pure: no HTTP, no I/O, no clock. Storage work (allocating a new
// volume, freeing an unused one, a storage's content types, a volume's
// size) goes through the VolumeAllocator the caller passes in. It does not
// validate API parameters beyond what PVE's config code checks (the
// simulator validates requests against the API schema first), does not
// model permissions, and does not check storage snapshot capability (the
// caller does, between SnapshotCheck and SnapshotPrepare, as PVE).
//
// # Sources
//
// Read from PVE 9 sources (pve-container at 94f5585, the commit the
// reference files come from; pve-guest-common 4a8f6cb; pve-common), beyond
// ../shared/reference/pve-semantics.md §1, §2, §3 and §5:
//
//   - File format: pve-container src/PVE/LXC/Config.pm parse_pct_config and
//     write_pct_config. '#' lines anywhere in a section form its
//     description, percent-decoded (pve-common PVE::ParseUtils decode_text)
//     with "\n" after each line; written back at the top of the section
//     with encode_text, which escapes everything but printable ASCII and
//     also '%' and ':' (so "# a: b" is rewritten "# a%3A b"). Perl's split
//     drops trailing empty lines of a description, and a description "0"
//     is false in Perl and dropped. Keys are written sorted, then env as
//     lxc.environment.runtime lines, then the other lxc.* lines in file
//     order. Booleans are normalised to 1/0 and integers lose leading
//     zeros on parse (check_type). The main section's snapstate is dropped.
//     write_pct_config leaves out an unusedN whose volume a rootfs/mpN of
//     the main section still uses (Bytes does the same, and operations
//     drop such keys at once). The pending section is written only when it
//     has a key. Section names match (?i)[a-z][a-z0-9_-]+ (two characters
//     at least); a repeated key or section replaces the earlier one.
//   - PUT config: pve-container src/PVE/API2/LXC/Config.pm update_vm (check
//     order, the revert/delete messages), src/PVE/LXC/Config.pm
//     update_pct_config, vmconfig_hotplug_pending ($LXC_FASTPLUG_OPTIONS),
//     vmconfig_apply_pending, apply_pending_mountpoint; src/PVE/LXC.pm
//     create_disks (a new volume is int(GiB*1024) MiB, written with size=
//     as format_size prints it), delete_mountpoint_volume,
//     verify_nameserver_list, verify_searchdomain_list; pve-guest-common
//     src/PVE/AbstractConfig.pm add/remove_from_pending_delete,
//     parse/print_pending_delete, cleanup_pending, add_unused_volume,
//     check_protection, check_lock; src/PVE/GuestHelpers.pm get_unique_tags
//     (default tag-style: lower-case, sorted, unique, ';'-joined); pve-common
//     src/PVE/CGroup.pm clamp_cpu_shares (cgroup v2: cpuunits of 10000 and
//     more are stored as 10000, so a desired 20000 would always differ).
//   - Quirks kept on purpose: a hot delete of netN matches m/^net(\d)$/, so
//     net10 to net31 deletes wait for a restart; deleting a key that is set
//     only in pending keeps the pending value (cleanup_pending drops the
//     delete); a pending delete hides a key in GET config only when its
//     value is true in Perl ("onboot: 0" stays visible); delete=mpN and
//     replacing an mpN always offer the old volume as unusedN because
//     is_volume_in_use is asked with the whole mount point string, and the
//     write then drops it again if a mount point still uses the volume; a
//     new rootfs value is copied into the config as given (no allocation).
//   - GET pending: pve-guest-common src/PVE/GuestHelpers.pm
//     config_with_pending_array; the digest is an ordinary key because
//     parse_pct_config stores it in the config hash. GET config:
//     src/PVE/AbstractConfig.pm load_current_config.
//   - Snapshots: pve-guest-common src/PVE/AbstractConfig.pm
//     __snapshot_prepare, __snapshot_commit, __snapshot_copy_config,
//     __snapshot_apply_config, snapshot_delete, snapshot_rollback;
//     pve-container src/PVE/LXC/Config.pm __snapshot_rollback_get_unused,
//     __snapshot_delete_vol_snapshot (every volume of a deleted snapshot is
//     offered as unusedN; those still in use vanish on write, so indexes can
//     skip), src/PVE/API2/LXC/Snapshot.pm (reserved names, the snapshot
//     list, PUT snapshot config); pve-common src/PVE/JSONSchema.pm
//     pve-snapshot-name and $CONFIGID_RE. The before/after pairs of
//     pve-container src/test/snapshot-input and snapshot-expected in
//     ../shared/reference/pve-api/lxc-conf are the tests.
//
// # Not modelled
//
// The lxc.* key allow-list (is_valid_lxc_conf_key): every lxc.* line is
// kept. Format checks of string options on parse (PVE only warns). The
// bridge MTU check, hookscript and device path checks, idmap validation,
// replication and SDN side effects of PUT config. The owner check of
// delete_mountpoint_volume (the allocator's Free decides). A random MAC for
// a new netN without hwaddr: the allocator may implement MACGenerator,
// otherwise a stable address under BC:24:11 is derived from the vmid, key
// and value.
package ctconf

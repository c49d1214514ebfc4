// Package ctconf models Proxmox VE's LXC container config file
// (/etc/pve/lxc/<vmid>.conf) and the config-level rules PVE applies to it:
// parsing and writing the file byte for byte as PVE does, the pending
// section, PUT config (hot-plug on a running container, pending until
// restart, immediate apply on a stopped one), GET pending, and the config
// side of snapshots (prepare, commit, delete, rollback).
//
// It is pure: no HTTP, no I/O, no clock. Storage work (allocating a new
// volume, freeing an unused one, checking a storage's content types) goes
// through the VolumeAllocator the caller passes in; the simulator
// (pve/pvesim) implements it. The reconcile diff uses HotPluggable and
// DeleteHotPluggable to classify changes.
//
// It must not validate API parameters beyond what PVE's config code itself
// checks (the simulator validates requests against the API schema), and it
// does not model permissions.
//
// Sources (PVE 9; see also ../shared/reference/pve-semantics.md §1, §2, §3, §5)
// are filled in below as each rule is implemented.
package ctconf

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
// The design notes (sources, details, what is not modelled) are in README.md
// beside this file.
package ctconf

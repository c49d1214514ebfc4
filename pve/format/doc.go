// Package format parses and prints the value formats of Proxmox VE's LXC
// configuration: disk sizes, the property strings of rootfs, mpN, netN,
// features, startup and devN, and delete lists.
//
// It owns what these values mean, so the PVE client, the simulator, the spec
// loader and the diff agree: each property-string type has a Parse function,
// String (the text PVE writes) and Equal (same meaning, any spelling).
// Optional keys are pointers or empty strings and slices, so "not set"
// differs from zero. Bad values are *Error values that name the key and
// carry PVE's own wording; Error.PVEMessage renders the text PVE puts in a
// 400 response's per-parameter errors map.
//
// It must not do I/O or know about nodes, storages or permissions: whether a
// volume exists, whether a bind mount is allowed or what a new volume is
// called is the caller's business. The one storage fact it keeps is what a
// storage type can do for a container volume (SnapshotCapable), a pure
// table that the diff and the simulator must agree on.
//
// The design notes (sources, details, what is not modelled) are in README.md
// beside this file.
package format

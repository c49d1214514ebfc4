// Package format parses and prints the value formats of Proxmox VE's LXC
// configuration: disk sizes, the property strings of rootfs, mpN, netN,
// features, startup and devN, and delete lists. It is pure code: no I/O, no
// knowledge of a PVE node. The PVE client, the simulator, the spec loader
// and the diff all use it, so a value means the same everywhere.
//
// Each property-string type has a Parse function, String (PVE's canonical
// print) and Equal (same meaning, any spelling). Optional keys are pointers
// or empty strings/slices, so "not set" differs from zero. Errors are
// *Error values naming the key, worded as PVE words them.
package format

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
// The design notes (sources, details, what is not modelled) are in README.md
// beside this file.
package diff

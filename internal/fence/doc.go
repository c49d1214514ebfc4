// Package fence has no code: its test holds DESIGN.md's fence in one place,
// over `go list -deps` of the whole module. pve never runs a process;
// privileged never speaks HTTP; the pure packages (wire types, formats,
// diff, plan, result, render, schedule) do neither; and no package but
// privileged runs a process, tests and cmd aside.
package fence

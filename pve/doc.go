// Package pve is felhom's client for the Proxmox VE REST API: API-token
// authentication, TLS with certificate pinning, typed reads, mutations that
// return task ids (UPIDs), WaitTask, and typed errors built in one place
// (CheckResponse).
//
// It owns the transport: the {"data": ...} envelope, form-encoded bodies,
// both forms of PVE's error answers, retries of idempotent reads, the
// concurrency limit and the request hooks. The values themselves (reads, write requests, UPIDs, lenient decoding) are
// package wire's, re-exported here under the same names. It does not
// decide anything about containers (that is reconcile's job), and it never
// runs a process: the fence in DESIGN.md ("pve never runs a process;
// privileged never speaks HTTP") is checked by a test over `go list -deps`.
// The secret token never leaves the Authorization header: Secret redacts
// itself everywhere else.
//
// A client logs requests at debug level and warnings to the logger given
// with WithLogger. Without one it writes warnings, and nothing else, to
// stderr: the warning that insecure: true turned TLS verification off must
// not depend on each caller remembering to pass a logger.
//
// The design notes (sources, details, what is not modelled) are in README.md
// beside this file.
package pve

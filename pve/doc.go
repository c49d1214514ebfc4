// Package pve is felhom's client for the Proxmox VE REST API: API-token
// authentication, TLS with certificate pinning, typed reads, mutations that
// return task ids (UPIDs), WaitTask, and typed errors built in one place
// (CheckResponse).
//
// It owns the wire: the {"data": ...} envelope, form-encoded bodies, PVE's
// loosely typed JSON, both forms of PVE's error answers, UPIDs, retries of
// idempotent reads, the concurrency limit and the request hook. It does not
// decide anything about containers (that is reconcile's job), and it never
// runs a process: the fence in DESIGN.md ("pve never runs a process;
// privileged never speaks HTTP") is checked by a test over `go list -deps`.
// The secret token never leaves the Authorization header: Secret redacts
// itself everywhere else.
//
// # Where the behaviour comes from
//
//   - UPID format: pve-common src/PVE/Tools.pm upid_encode ("%08X" fields,
//     trailing colon) and upid_decode (regex; pstart may have 9 hex digits;
//     either hex case). The task log file is named after the UPID string.
//   - Task status and log: pve-manager PVE/API2/Tasks.pm; the log endpoint
//     returns "total" beside "data"; the last line is "TASK OK",
//     "TASK WARNINGS: n" or "TASK ERROR: msg"; only log_warn's "WARN:" lines
//     count as warnings (pve-semantics.md §8).
//   - Errors: pve-http-server src/PVE/APIServer/Formatter/Standard.pm (the
//     "message" field since libpve-http-server-perl 5.2.0; before it the
//     text is only in the HTTP reason phrase), pve-common PVE/Exception.pm
//     raise_perm_exc ("Permission check failed (path, privs)"),
//     pve-guest-common PVE/AbstractConfig.pm check_lock ("CT is locked (x)"),
//     PVE::Tools::assert_if_modified ("detected modified configuration").
//   - PUT .../config answers null (pve-container src/PVE/API2/LXC/Config.pm
//     update_vm is synchronous); resize, snapshot, vzdump, start/stop and
//     restore answer a UPID (pve-semantics.md §1, §3, §5, §6).
//   - A DELETE with a body is refused ("501 Unexpected content for method
//     'DELETE'", responses/README.md), so DELETE parameters go in the query.
//   - pveproxy relays a failed hop to another node as 595/596/597/599
//     (AnyEvent::HTTP pseudo-statuses, pve-semantics.md §9); those and
//     502/503/504 are transient. A 500 is PVE's real answer.
//   - pveproxy and pvedaemon run 3 workers each (pve-manager
//     PVE/Service/pveproxy.pm, pvedaemon.pm max_workers), hence the modest
//     default concurrency.
package pve

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
// # Configuration
//
// LoadConfig reads a YAML file (unknown keys are errors) and lets the
// FELHOM_PVE_* environment variables override it:
//
//	url: https://pve1.example.net:8006      # FELHOM_PVE_URL
//	token_id: felhom@pve!ops                # FELHOM_PVE_TOKEN_ID
//	token_secret_file: /etc/felhom/token    # FELHOM_PVE_TOKEN_SECRET_FILE (or token_secret / FELHOM_PVE_TOKEN_SECRET)
//	fingerprint: "AA:BB:...:FF"             # FELHOM_PVE_FINGERPRINT, from `pvenode cert info`
//	# ca_file: /etc/pve/pve-root-ca.pem     # FELHOM_PVE_CA_FILE, instead of the pin
//	# insecure: false                       # FELHOM_PVE_INSECURE, only for throw-away setups
//	timeout: 60s                            # FELHOM_PVE_TIMEOUT, per request
//	max_concurrency: 4                      # FELHOM_PVE_MAX_CONCURRENCY
//	retries: 3                              # FELHOM_PVE_RETRIES, for GETs only; -1: none
//
// # Error text
//
// An error says each thing once, subject first, and never starts with
// "pve:" (the package is not a subject; callers add their own context). A
// failed request reads "METHOD PATH: cause", e.g. "PUT
// /nodes/pve/lxc/100/config: 500 CT is locked (backup)": the request line
// names node, container and object, so client methods return it as it is
// instead of adding "ct 100: set config:" in front. Methods add a subject only
// to mistakes they catch before sending ("ct 100: set config: no changes").
// Config errors start with "config" ("config FILE:LINE: unknown key ...",
// "config: url is required"); a task that failed reads "task TYPE ID on NODE
// (UPID): exit status". Every wrap uses %w, so errors.Is (ErrLocked, ...,
// context.Canceled) and errors.As (*APIError, *TaskError, *ConfigError) see
// through them.
//
// # Transport
//
// Only GETs are retried, after a network failure or a 502/503/504/595/596/
// 597/599, with exponential backoff and jitter that honours the context. A
// 500 is PVE's answer (a lock, a stale digest, a failed die) and is returned
// at once. A POST, PUT or DELETE is never re-sent after it may have reached
// the server; to keep pveproxy's idle-connection drops from breaking one,
// the client closes idle connections after 4 s, before pveproxy's 5 s (see
// idleConnTimeout). Each request (each attempt) is bounded by
// Config.Timeout, and at most Config.MaxConcurrency are in flight.
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
//   - pveproxy's connection handling: pve-http-server
//     src/PVE/APIServer/AnyEvent.pm (new: a 5 s inactivity timeout per
//     connection; response: no keep-alive after an answer >= 400).
//   - 401 has an empty body and only the reason phrase ("Authentication
//     failed!" since pve-manager 26c10a2, before it the raw error;
//     pve-semantics.md §9).
//   - GET .../config sends raw lxc.* lines as [[key, value], ...] under "lxc"
//     (responses/lxc-config-get-with-snapshot-parent.json); ConfigValues
//     spreads them out under their own keys.
//   - pveproxy and pvedaemon run 3 workers each (pve-manager
//     PVE/Service/pveproxy.pm, pvedaemon.pm max_workers), hence the modest
//     default concurrency.
package pve

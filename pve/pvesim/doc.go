// Package pvesim is a simulated Proxmox VE 9 cluster that speaks PVE's REST
// API (over HTTPS or in-process), seeded from an Inventory. Every felhom test,
// the demo and the benchmarks run against it, so it models PVE's behaviour for
// the endpoints felhom uses as closely as the reference allows: the wire
// format and error bodies, API-token auth and per-key permissions, parameter
// validation from per-endpoint tables, config kept as PVE's config-file text
// (digest = SHA1 of the text), pending changes, snapshots, resize,
// start/stop, vzdump, prune and tasks with PVE's UPIDs.
//
// It is also steerable for tests and benchmarks: a clock the test controls,
// request latency, injected faults, task outcomes, held locks and request
// counts (see steer.go, and the control endpoint under /_felhom/sim/).
//
// It must not run processes or touch anything outside the state it holds
// (apart from the optional state file). README.md lists what it models, what
// it does not, and the PVE source behind each behaviour.
package pvesim

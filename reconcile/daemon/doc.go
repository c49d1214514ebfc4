// Package daemon is felhom daemon's reconcile loop: on a new source
// revision, a trigger or the resync interval it loads the specs, plans the
// containers that need it and applies the plan (reconcile.Load and
// reconcile.Run, the calls felhom plan and felhom apply make), records what
// happened per container and serves it as status and metrics.
//
// It owns which containers a cycle works on (changed specs, due retries, or
// all at a resync), per-container backoff and serialisation, the last good
// revision and the status; with Options.Backups it also takes the specs'
// scheduled backups (backups.go) under the same per-container
// serialisation. It does not fetch sources (a Source does), does
// not diff or apply (reconcile does), and never copies apply's code.
package daemon

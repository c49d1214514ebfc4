// Package backup takes the backups that backup policies schedule: it reads
// what PVE has (each node's time zone, each container's node and lock,
// the backups on each policy's storage), asks reconcile/schedule what is
// due, and runs vzdump at the PVE edge, as a PVE backup job would.
//
// It owns the side of scheduled backups that talks to PVE; the decisions
// (due, catch-up, overdue, batching, retention preview) are
// reconcile/schedule's and are pure. It declares the narrow API it calls,
// which *pve.Client satisfies, and keeps only in-memory state: the node
// zones it read (once per node), and the time each container's last
// attempt failed (so a failure is retried at the next occurrence, not at
// once).
//
// How a run goes (Runner.Run):
//   - Due containers are grouped into schedule.Batches: one vzdump call
//     per node and equal options, with a vmid list (POST
//     /nodes/{node}/vzdump vmid=101,102). The vzdump carries the policy's
//     storage, mode, compress, notes-template, protected and its retention
//     as prune-backups, so PVE prunes each guest's own backups after its
//     archive is written (pve-manager PVE/VZDump.pm exec_backup_task), as
//     a PVE backup job does; felhom never deletes a backup itself.
//   - At most one felhom vzdump runs per node at a time (the Runner's
//     per-node slot, shared by every Run of one Runner): PVE itself lets
//     one vzdump per node work at a time (PVE/VZDump.pm getlock,
//     /var/run/vzdump.lock) and queues the others inside their tasks.
//     Nodes run in parallel.
//   - A container that is locked (lock: backup from a job PVE itself
//     runs, a snapshot, ...) is left out of its batch and waited out,
//     polling GET /cluster/resources on the Clock, up to Options.LockWait;
//     the others of the batch go on at once. felhom never removes a lock.
//   - Each guest's outcome is read from the task log, as PVE's job mail
//     reads it ("Finished Backup of VM N" or "ERROR: Backup of VM N failed
//   - ..."): one guest failing (storage full, a lock) fails only that
//     guest; a task that fails as a whole fails its guests with its exit
//     status. Failures carry that guest's log lines and are counted;
//     nothing stops the next batch or node.
//   - The new archive of each guest is read back from the storage listing
//     (volid, size), which is also what the next Observe reads: the state
//     of what is backed up lives on PVE.
//
// Options.Hold, when set, is taken for each container for the span of its
// vzdump: the daemon passes its per-container serialisation, so a due
// backup and a change never run on one container at once.
package backup

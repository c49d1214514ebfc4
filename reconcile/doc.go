// Package reconcile reads live state from PVE (Observe), turns it and the
// specs into a plan (Plan, with diff.Build and Preflight) and carries a plan
// out (Apply) under the safety rules of DESIGN.md ("Apply: the safety
// rules"). It declares the narrow interface it consumes (API, the subset of
// *pve.Client it calls) and a Clock, so the real client, the simulator and
// test fakes all serve.
//
// Drift needs to know what felhom last applied, and PVE keeps it (see
// "Drift: the baseline in the felhom snapshot" below).
//
// It does not parse specs (spec), compare values (reconcile/diff), hold plan
// data (reconcile/plan) or print plans (reconcile/render), and it never runs a
// process. It decides nothing from Change.Reason: apply executes Steps.
//
// # Observe: the fewest calls a correct plan needs
//
// One GET /cluster/resources?type=vm gives every container's node, run
// state and lock (the "lock" member of its returns schema in apidata.json,
// "the guest's current config lock"), so a container that migrated is
// followed to its new node. The config's own "lock" key, which .../pending
// lists like any other key, is the fresher view and wins. Then per managed container GET
// .../pending (config_with_pending_array in pve-guest-common
// PVE/GuestHelpers.pm: current value, pending value and pending delete of
// every key, and the digest, in one call) and GET .../snapshot; and once per
// node that hosts a managed container GET /nodes/{node}/storage for the
// storage types, which decide whether PVE can snapshot a volume
// (format.SnapshotCapable: pve-storage volume_has_feature 'snapshot' holds
// for lvmthin, zfspool, rbd and btrfs).
//
// # Drift: the baseline in the felhom snapshot
//
// Once a container's change is applied and verified, Apply writes
// diff.Baseline of the read-back (also ContainerResult.Baseline) into the
// description of the felhom snapshot it took before the change: the plan
// text, then one last line "felhom-baseline: " and a compact JSON object
// of change path to value (SnapshotDescription). The call is PUT
// .../snapshot/{snapname}/config (pve-container src/PVE/API2/LXC/Snapshot.pm
// update_snapshot_config: synchronous, answers null, refused while the
// config is locked); a refusal is a warning, the change stands. Observe
// reads the line back from the snapshot list it reads anyway: the newest
// felhom snapshot (by snaptime; names from plan.SnapshotName) whose
// description ends in a well-formed line becomes Live.Applied
// (ParseBaseline; anything else is skipped, never an error), so drift costs
// plan no call.
//
// No line is written:
//   - for a container whose change failed, was rolled back or went stale:
//     its snapshot keeps only the plan, and the older baseline still
//     describes what a rollback restored (a retention step failing after the
//     verified change does not count: the change stands, so does its line);
//   - for a container changed without a snapshot (a vzdump stood in, or
//     snapshot.before-change is off): there is nowhere to keep it, and an
//     older baseline may then mark fields this apply changed as drift until
//     the next apply with a snapshot;
//   - into a snapshot the plan's own snapshot-prune deletes.
//
// Without the specs (a saved plan) the older baseline is carried over (one
// more GET .../snapshot) without the config keys the plan wrote, whose form
// after the write only the spec gives; they are not marked until the next
// apply with the specs. PVE's schema gives a snapshot's
// description no maxLength; felhom keeps it within MaxSnapshotDescription
// bytes (reconcile/plan/FORMAT.md has the details).
//
// # The restart window's time zone
//
// A restart window's schedule is a PVE calendar event (pve/calendar), and
// felhom reads it in the local time zone of the felhom process (its TZ),
// at plan time and again at apply time, unless the event ends in "UTC",
// which is read in UTC. PVE reads its own schedules (backup jobs) in the
// node's local zone: pve-common PVE/CalendarEvent.pm compute_next_event
// hands them to proxmox-time, which edits the wall clock with the C
// library's local time (src/tm_editor.rs) unless the event says UTC, as
// pve/calendar's doc describes. felhom asks no node for its zone: where felhom
// runs in another zone than the nodes (a CI runner is often in UTC), write
// the window in UTC ("sun 02:00 UTC") so that both agree.
//
// # Apply: how each safety rule is kept
//
//  1. Only containers whose plan status is "changes" are touched.
//  2. Before any write, the felhom snapshot is created (its description is
//     the container's plan, and after the verified change also the
//     baseline) and its task awaited to "OK"; a vzdump backup
//     stands in when the plan says so (the diff decided from the storage
//     capability and the snapshot policy). No write happens unless that
//     step succeeded.
//  3. Before the first step apply re-reads .../pending and compares the
//     digest with the plan's: a mismatch stops that container as "stale".
//     Every write carries a digest: the plan's for the first, and for later
//     ones the digest re-read after felhom's own previous write, accepted
//     only when every key other than the ones that write touched is
//     unchanged (a snapshot changes the digest by adding "parent" and its
//     section; PVE's own digest check then guards the write itself).
//  4. A lock (backup, snapshot, ...) is waited out with polling on the
//     Clock, up to Options.LockWait, before the first step and before
//     each write; a write PVE refuses as locked (the lock came between
//     read and write) is tried again once the lock is gone, up to three
//     times; so is a snapshot, vzdump or snapshot delete that PVE or its
//     task finds locked. Before a reboot felhom waits for the lock itself,
//     as PVE's vm_reboot checks none. felhom never removes a lock; one
//     PVE left after felhom's task failed (snapshot-delete, rollback) is
//     reported with how to clear it. PVE's
//     tasks set and clear their own locks, so waiting for every task to end
//     (also on Ctrl-C) leaves none behind.
//  5. Every UPID is awaited with WaitTask: "OK" is success, "WARNINGS: n"
//     success with the warning lines kept, anything else a failure with the
//     task log's tail.
//  6. After the writes apply reads .../pending back: each key set or deleted
//     must be current (hot, or after the reboot) or pending (left for a
//     restart), as the plan classified it. The reboot step is in the plan
//     only when the restart policy allows it; otherwise the pending changes
//     are reported. A reboot planned because the restart window was open
//     carries that window (plan.ContainerPlan.RestartWindow), and apply
//     asks again right before it: a saved plan applied after the window
//     closed skips the reboot, and the changes are reported as waiting for
//     the window (a note with its next opening, and Pending after the
//     read-back).
//  7. A failure after the snapshot rolls the container back to it
//     ("rollback", the default) or leaves it ("leave"); the result lists
//     what was done either way. The policy is the container's own, the
//     spec's snapshot.on-failure carried in the plan
//     (plan.ContainerPlan.OnFailure); Options.OnFailure (felhom apply
//     --on-failure) overrides it for every container only when it is
//     given. A rollback runs only once one of felhom's writes landed,
//     judged from PVE's answer and the config read after it (a refused
//     write changed nothing; an unanswered one that the read shows in
//     place succeeded), and it restores the run state found at apply
//     time. Never rolled back: a stale digest between felhom's writes, or
//     any key felhom does not write changed since apply started (checked
//     right before the rollback: it would undo the other writer's change);
//     a read-back that could not be made (reads are retried; the change is
//     reported unverified); and a retention step after the read-back
//     matched (the change is in place and verified).
//  8. Apply only runs the plan's steps; the plan never deletes unusedN
//     volumes, containers or backups outside the declared retention. A
//     backup prune step rides on the vzdump to the same storage
//     (prune-backups with remove=1, as PVE's backup jobs prune); a prune
//     step with no such vzdump runs PVE's prune (DELETE
//     .../prunebackups, task prunebackups) and awaits its task. Either
//     way PVE marks before it removes, so only what the retention selects
//     goes, never a protected or renamed archive. Apply refuses a prune
//     step that does not name this container (vmid, type lxc) or carries
//     no retention: PVE would prune every guest, or by the storage's own.
//
// Diff plans a prune only beside a vzdump. Planning one on its own (a
// retention made stricter than what is on the storage) would need a read
// of the storage per container with a retention in every plan (the
// prunebackups dry run: 3 calls per such container instead of 2, also
// when nothing changes), and the excess it would find goes with the next
// backup felhom makes to that storage, whose vzdump prunes by the spec's
// retention. Until then the backups are kept, which is the safe side of
// rule 8.
//  9. Root-only changes go to the plan's pct-set step when the privileged
//     backend may write on the container's node (PlanOptions.Root), under
//     the same protection, digest and read-back as the API's writes; else
//     they are planned as blocked, and apply does not run blocked
//     containers. A plan with a pct-set step is refused before anything is
//     touched when Options.Privileged is nil or not available on the node;
//     a pct set that PVE refused with the digest unchanged landed nothing
//     and is not rolled back.
//  10. Containers run in parallel, at most Options.Concurrency at a time;
//     one container's steps run strictly in order; a failure ends only that
//     container.
package reconcile

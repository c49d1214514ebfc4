package backup

import (
	"sort"
	"time"

	"github.com/felhom/felhom/pve/prune"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/reconcile/schedule"
)

// RunBy is what every plan's backup section says takes the scheduled
// backups.
const RunBy = "Backup schedules are not changes: felhom plan and apply never take them. " +
	"felhom daemon takes each as it falls due; without the daemon, felhom backup --due takes the due ones " +
	"(run it from a timer, as examples/systemd/felhom-backup.timer does)."

// PlanSection is the plan's backup section for targets at now, from what
// Observe read: every target, found or not, by vmid.
func PlanSection(targets []Target, obs *Observed, now time.Time) *plan.Backups {
	if len(targets) == 0 {
		return nil
	}
	out := &plan.Backups{RunBy: RunBy, Containers: []plan.BackupSchedule{}}
	byVMID := map[int]schedule.Container{}
	for _, c := range obs.Containers {
		byVMID[c.VMID] = c
	}
	for _, t := range targets {
		bs := plan.BackupSchedule{VMID: t.VMID, Name: t.Name, Node: t.Node, Storage: t.Policy.Options.Storage,
			Schedule: t.Policy.Event.String(), Retention: t.Policy.Options.PruneBackups, Removes: []string{}}
		c, ok := byVMID[t.VMID]
		if !ok {
			bs.Error = "not read"
			if err := obs.Errors[t.VMID]; err != nil {
				bs.Error = err.Error()
			}
			out.Containers = append(out.Containers, bs)
			continue
		}
		loc := obs.Zones[c.Node]
		if t.Policy.Event.UTC() {
			loc = time.UTC
		}
		bs.Node, bs.TimeZone = c.Node, loc.String()
		st := schedule.Evaluate(c, obs.Zones[c.Node], now)
		bs.Due, bs.Overdue, bs.MaxAgeSeconds, bs.Backups = st.Due, st.Overdue, int64(st.MaxAge/time.Second), len(c.Backups)
		if !st.Next.IsZero() {
			bs.NextRun, bs.NextRunUTC = st.Next.In(loc).Format(time.RFC3339), st.Next.UTC().Format(time.RFC3339)
		}
		if st.Last != nil {
			bs.LastBackup, bs.LastArchive = st.Last.CTime.In(loc).Format(time.RFC3339), st.Last.VolID
		}
		// The run the preview is for: now when due, else the next one.
		at := st.Next
		if st.Due {
			at = now
		}
		if !at.IsZero() {
			for v, m := range schedule.Preview(c, obs.Zones[c.Node], at) {
				if m == prune.MarkRemove {
					bs.Removes = append(bs.Removes, v)
				}
			}
			sort.Strings(bs.Removes)
		}
		if bs.Overdue {
			out.Overdue++
		}
		out.Containers = append(out.Containers, bs)
	}
	sort.Slice(out.Containers, func(i, j int) bool { return out.Containers[i].VMID < out.Containers[j].VMID })
	return out
}

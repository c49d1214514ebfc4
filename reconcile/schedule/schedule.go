package schedule

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/felhom/felhom/pve/calendar"
	"github.com/felhom/felhom/pve/prune"
	"github.com/felhom/felhom/spec"
)

// Options are the vzdump settings of a backup policy, in PVE's parameter
// values. Containers whose Options are equal can share one vzdump call.
type Options struct {
	Storage       string
	Mode          string // snapshot, suspend or stop; "" is PVE's default (snapshot)
	Compress      string // 0, gzip, lzo or zstd; "" is PVE's default (0)
	NotesTemplate string // "" writes no notes
	Protected     bool
	PruneBackups  string // prune.Options.String(); "" keeps the storage's own retention
}

// Policy is one container's backup policy, parsed.
type Policy struct {
	Event   *calendar.Event
	Options Options
	// Retention is PruneBackups parsed; zero when PruneBackups is "".
	Retention prune.Options
	// MaxAge is the freshness bound; 0 means DefaultMaxAge.
	MaxAge time.Duration
}

// PolicyFromSpec turns a validated spec backup policy into a Policy.
func PolicyFromSpec(b *spec.BackupPolicy) (Policy, error) {
	ev, err := calendar.Parse(b.Schedule)
	if err != nil {
		return Policy{}, fmt.Errorf("backup.schedule: %w", err)
	}
	p := Policy{Event: ev, Options: Options{Storage: b.Storage, Mode: b.Mode, Compress: b.Compress}}
	if b.Compress == "none" {
		p.Options.Compress = "0"
	}
	if b.NotesTemplate != nil {
		p.Options.NotesTemplate = *b.NotesTemplate
	}
	if b.Protected != nil {
		p.Options.Protected = *b.Protected
	}
	if r := b.Retention; r != nil {
		p.Retention = prune.Options{KeepAll: r.KeepAll, KeepLast: r.KeepLast, KeepHourly: r.KeepHourly, KeepDaily: r.KeepDaily,
			KeepWeekly: r.KeepWeekly, KeepMonthly: r.KeepMonthly, KeepYearly: r.KeepYearly}
		p.Options.PruneBackups = p.Retention.String()
	}
	if b.MaxAge != nil {
		p.MaxAge = time.Duration(*b.MaxAge)
	}
	return p, nil
}

// Backup is one backup archive of a container, as the storage lists it.
type Backup struct {
	VolID     string
	CTime     time.Time // the archive's creation time (from its name)
	Size      int64
	Protected bool
}

// Container is one container with a backup policy and its backups on the
// policy's storage.
type Container struct {
	VMID   int
	Name   string
	Node   string
	Policy Policy
	// Backups are the container's backups on Policy.Options.Storage, in
	// any order.
	Backups []Backup
	// Failed is when the caller last saw a backup attempt for this
	// container fail (zero: none it remembers).
	Failed time.Time
}

// Status is what Evaluate found for one container at one moment.
type Status struct {
	VMID int
	Name string
	Node string
	// Last is the newest backup; nil when there is none.
	Last *Backup
	// DueAt is the first occurrence after the newest backup (or after the
	// last failed attempt, when that is later). A container with neither
	// is due at the moment evaluated (DueAt is then that moment). Zero
	// when the event never fires again.
	DueAt time.Time
	// Due reports that DueAt is not after now: a backup should be taken.
	Due bool
	// Occurrence is, when Due, the latest occurrence at or before now:
	// the run that the backup taken now stands for (zero when the
	// container has no backup and the event had no occurrence before).
	Occurrence time.Time
	// Missed counts the occurrences since the newest backup that had no
	// backup, beyond the one taken now (only the latest is caught up).
	Missed int
	// Next is the first occurrence strictly after now (zero: never).
	Next time.Time
	// MaxAge is the freshness bound that applies (the policy's, or
	// DefaultMaxAge; 0 when the event fires fewer than twice).
	MaxAge time.Duration
	// Age is now minus Last's ctime (0 without Last).
	Age time.Duration
	// Overdue reports a container without backup, or whose newest backup
	// is older than MaxAge.
	Overdue bool
}

// DefaultMaxAgeRuns is how many occurrences DefaultMaxAge looks at.
const DefaultMaxAgeRuns = 64

// DefaultMaxAge is one and a half times the longest gap between
// consecutive occurrences of ev among the DefaultMaxAgeRuns after after;
// 0 when ev fires fewer than twice. The gaps are those of the event read
// in UTC, so they are the expression's own: a run that a spring-forward
// gap skips (a daily 02:30 in most of Europe) does not double the bound
// for the weeks around it.
func DefaultMaxAge(ev *calendar.Event, after time.Time) time.Duration {
	runs := ev.NextN(after.UTC(), DefaultMaxAgeRuns)
	var gap time.Duration
	for i := 1; i < len(runs); i++ {
		gap = max(gap, runs[i].Sub(runs[i-1]))
	}
	return gap + gap/2
}

// Newest returns the backup with the latest ctime (ties: the later
// volid), or nil.
func Newest(backups []Backup) *Backup {
	var n *Backup
	for i := range backups {
		b := &backups[i]
		if n == nil || b.CTime.After(n.CTime) || b.CTime.Equal(n.CTime) && b.VolID > n.VolID {
			n = b
		}
	}
	return n
}

// Evaluate works out c's backup status at now, reading the calendar event
// in loc (the node's zone; UTC events are read in UTC).
func Evaluate(c Container, loc *time.Location, now time.Time) Status {
	if loc == nil {
		loc = time.UTC
	}
	now = now.In(loc)
	ev := c.Policy.Event
	st := Status{VMID: c.VMID, Name: c.Name, Node: c.Node, Last: Newest(c.Backups)}
	if n, ok := ev.Next(now); ok {
		st.Next = n
	}
	ref := c.Failed
	if st.Last != nil && st.Last.CTime.After(ref) {
		ref = st.Last.CTime
	}
	if ref.After(now) {
		ref = now // a ctime in the future (clock skew) counts as now
	}
	if ref.IsZero() {
		st.DueAt = now
	} else if n, ok := ev.Next(ref.In(loc)); ok {
		st.DueAt = n
	}
	st.Due = !st.DueAt.IsZero() && !st.DueAt.After(now)
	if st.Due {
		st.Occurrence, st.Missed = latest(ev, now, ref.In(loc))
	}
	st.MaxAge = c.Policy.MaxAge
	if st.MaxAge == 0 {
		st.MaxAge = DefaultMaxAge(ev, now)
	}
	switch {
	case st.Last == nil:
		st.Overdue = true
	default:
		st.Age = max(now.Sub(st.Last.CTime), 0)
		st.Overdue = st.MaxAge > 0 && st.Age > st.MaxAge
	}
	return st
}

// latest returns the latest occurrence of ev at or before now that is
// after ref (ref zero: any), and how many earlier ones after ref there
// were (counted up to maxCount). It searches back from now in doubling
// spans, so a long downtime with a frequent event costs few steps.
func latest(ev *calendar.Event, now, ref time.Time) (time.Time, int) {
	floor := ref
	if floor.IsZero() {
		floor = now.AddDate(-2, 0, 0) // far enough back for a yearly event
	}
	start := floor
	for span := time.Hour; ; span *= 2 {
		s := now.Add(-span)
		if !s.After(floor) {
			break
		}
		if n, ok := ev.Next(s); ok && !n.After(now) {
			start = s
			break
		}
	}
	var o time.Time
	for t := start; ; {
		n, ok := ev.Next(t)
		if !ok || n.After(now) {
			break
		}
		o, t = n, n
	}
	if o.IsZero() || ref.IsZero() {
		return o, 0
	}
	return o, countBetween(ev, ref, o) - 1
}

// maxCount bounds countBetween.
const maxCount = 10000

// countBetween counts the occurrences of ev in (from, to], up to maxCount.
func countBetween(ev *calendar.Event, from, to time.Time) int {
	n := 0
	for t := from; n < maxCount; n++ {
		next, ok := ev.Next(t)
		if !ok || next.After(to) {
			break
		}
		t = next
	}
	return n
}

// Preview is what the vzdump of the next run prunes: PVE adds the new
// archive, then marks the container's backups by the retention
// (pve/prune Select, as vzdump's prune at the end of each guest's backup
// does). It returns the mark of each listed backup by volid; nil when the
// policy has no retention of its own or keeps all. at is the run's time.
func Preview(c Container, loc *time.Location, at time.Time) map[string]prune.Mark {
	r := c.Policy.Retention
	if c.Policy.Options.PruneBackups == "" || r.KeepsAll() {
		return nil
	}
	if loc == nil {
		loc = time.UTC
	}
	next := fmt.Sprintf("%s:backup/vzdump-lxc-%d-%s.tar", c.Policy.Options.Storage, c.VMID, at.In(loc).Format("2006_01_02-15_04_05"))
	list := make([]prune.Backup, 0, len(c.Backups)+1)
	for _, b := range c.Backups {
		list = append(list, prune.FromVolume(b.VolID, b.CTime, c.VMID, b.Protected, loc))
	}
	list = append(list, prune.FromVolume(next, at, c.VMID, false, loc))
	marks := prune.Select(list, r, loc)
	delete(marks, next)
	return marks
}

// Batch is one vzdump call: due containers of one node with equal Options.
type Batch struct {
	Node    string
	Options Options
	VMIDs   []int // ascending
}

// VMIDList is the batch's vmids as vzdump's vmid parameter (a
// pve-vmid-list: comma separated).
func (b Batch) VMIDList() string {
	s := ""
	for i, v := range b.VMIDs {
		if i > 0 {
			s += ","
		}
		s += strconv.Itoa(v)
	}
	return s
}

// Batches groups containers into vzdump calls: one per node and distinct
// Options, vmids ascending, batches ordered by node, then storage, then
// the first vmid. Each vmid appears once (the first entry wins).
func Batches(cs []Container) []Batch {
	type key struct {
		node string
		opts Options
	}
	idx := map[key]int{}
	seen := map[int]bool{}
	var out []Batch
	for _, c := range cs {
		if seen[c.VMID] {
			continue
		}
		seen[c.VMID] = true
		k := key{c.Node, c.Policy.Options}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Batch{Node: c.Node, Options: c.Policy.Options})
		}
		out[i].VMIDs = append(out[i].VMIDs, c.VMID)
	}
	for i := range out {
		sort.Ints(out[i].VMIDs)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		if a.Options.Storage != b.Options.Storage {
			return a.Options.Storage < b.Options.Storage
		}
		return a.VMIDs[0] < b.VMIDs[0]
	})
	return out
}

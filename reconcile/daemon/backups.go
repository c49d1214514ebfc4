package daemon

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/felhom/felhom/reconcile/backup"
	"github.com/felhom/felhom/spec"
)

// Scheduled backups in the loop (issue 12). When Options.Backups is set,
// Run also runs RunBackups: each pass takes the containers of the revision
// in force that have a backup policy and are not suspended, reads their
// state from PVE (reconcile/backup Observe), backs up the due ones
// (batched, one vzdump per node at a time) and sleeps until the next run
// falls due, or Options.Resync at most, so new schedules are seen. A
// container's backup takes the loop's per-container slot for the span of
// its vzdump (backup.Options.Hold): a cycle never changes a container while
// it is backed up (the cycle leaves it for the next), and a backup waits
// while a cycle works on it. What has been backed up is read from PVE on
// every pass; the only state kept is each container's last failed attempt,
// so a failure is retried at the next occurrence.

// BackupStatus is one container's scheduled backups, as /status shows them.
type BackupStatus struct {
	Schedule string `json:"schedule"`
	Storage  string `json:"storage"`
	TimeZone string `json:"time_zone"`
	// NextRun is the next occurrence; LastSuccess the newest backup on the
	// storage (its archive and size); Overdue that it is older than the
	// policy's max-age (or there is none).
	NextRun     time.Time `json:"next_run,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastArchive string    `json:"last_archive,omitempty"`
	LastSize    int64     `json:"last_size,omitempty"`
	Overdue     bool      `json:"overdue"`
	// LastAttempt, LastOutcome (ok, failed), LastError and LastLog are the
	// daemon's last backup of the container (its part of the task log when
	// it failed).
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastOutcome string    `json:"last_outcome,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastLog     []string  `json:"last_log,omitempty"`
}

// hold is the backups' per-container slot: it waits, polling on the
// clock, while a cycle works on vmid.
func (l *Loop) hold(ctx context.Context, vmid int) (func(), error) {
	for {
		if len(l.cts.tryAcquire([]int{vmid})) == 1 {
			return func() { l.cts.release([]int{vmid}) }, nil
		}
		if err := l.opts.Clock.Sleep(ctx, time.Second); err != nil {
			return nil, err
		}
	}
}

// backupTargets are the backup targets of the revision in force.
func (l *Loop) backupTargets() []backup.Target {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []backup.Target
	for _, c := range l.st.cts {
		if c.spec == nil || c.suspended() {
			continue
		}
		t, err := backup.Targets([]spec.Container{*c.spec})
		if err == nil && len(t) == 1 {
			out = append(out, t[0])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].VMID < out[j].VMID })
	return out
}

// BackupPass runs one pass: it backs up what is due (again, until nothing
// is) and records the state of every scheduled container. It returns when
// the next backup falls due (zero: none) and the reports of the runs.
func (l *Loop) BackupPass(ctx context.Context) (time.Time, []*backup.Report) {
	r := l.backupRunner()
	var reps []*backup.Report
	for round := 0; ; round++ {
		targets := l.backupTargets()
		if len(targets) == 0 {
			return time.Time{}, reps
		}
		obs, err := r.Observe(ctx, targets)
		now := l.opts.Clock.Now()
		if err != nil {
			l.log.Warn("backups: observe", "error", err.Error())
			return now.Add(l.opts.BackoffInitial), reps
		}
		jobs := backup.Due(obs, now)
		// A second round catches what fell due during the first; a
		// third is never needed (a failure is not due again until its
		// next occurrence), so it is not taken.
		if len(jobs) == 0 || round == 2 || ctx.Err() != nil {
			l.recordBackups(obs, now, nil)
			return obs.NextDue(now), reps
		}
		rep := r.Run(ctx, jobs)
		reps = append(reps, rep)
		l.recordBackups(obs, now, rep)
		for _, x := range rep.Results {
			if x.Outcome == backup.OutcomeOK {
				l.log.Info("backup", "vmid", x.VMID, "name", x.Name, "node", x.Node, "archive", x.Archive, "size", x.Size, "duration", x.Duration.String())
			} else {
				l.log.Warn("backup failed", "vmid", x.VMID, "name", x.Name, "node", x.Node, "storage", x.Storage, "error", x.Error)
			}
		}
	}
}

// backupRunner is the loop's one backup runner (its per-node slots and
// its memory of failures last as long as the loop).
func (l *Loop) backupRunner() *backup.Runner {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.backups == nil {
		l.backups = backup.New(l.opts.Backups, l.opts.Clock, backup.Options{LockWait: l.opts.BackupLockWait, Hold: l.hold})
	}
	return l.backups
}

// RunBackups runs BackupPass whenever a backup falls due, and at least
// every Options.Resync, until ctx ends.
func (l *Loop) RunBackups(ctx context.Context) {
	for ctx.Err() == nil {
		next, _ := l.BackupPass(ctx)
		now := l.opts.Clock.Now()
		wait := l.opts.Resync
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(now), time.Second))
		}
		if l.opts.Clock.Sleep(ctx, wait) != nil {
			return
		}
	}
}

// recordBackups writes what obs and rep say into the containers' status
// and the metrics.
func (l *Loop) recordBackups(obs *backup.Observed, now time.Time, rep *backup.Report) {
	results := map[int]backup.Result{}
	if rep != nil {
		for _, x := range rep.Results {
			results[x.VMID] = x
		}
	}
	l.mu.Lock()
	for _, st := range obs.Evaluate(now) {
		c := l.st.cts[st.VMID]
		if c == nil {
			continue
		}
		var bs BackupStatus
		if c.Backup != nil {
			bs = *c.Backup
		}
		for _, oc := range obs.Containers {
			if oc.VMID == st.VMID {
				bs.Schedule, bs.Storage = oc.Policy.Event.String(), oc.Policy.Options.Storage
			}
		}
		bs.TimeZone, bs.NextRun, bs.Overdue = obs.Zones[st.Node].String(), st.Next, st.Overdue
		if st.Last != nil {
			bs.LastSuccess, bs.LastArchive, bs.LastSize = st.Last.CTime, st.Last.VolID, st.Last.Size
		}
		if x, ok := results[st.VMID]; ok {
			bs.LastAttempt, bs.LastOutcome, bs.LastError, bs.LastLog = x.Started, string(x.Outcome), x.Error, x.Log
			if x.Outcome == backup.OutcomeOK && x.Archive != "" {
				bs.LastSuccess, bs.LastArchive, bs.LastSize = now, x.Archive, x.Size
				bs.Overdue = false
			}
		}
		c.Backup = &bs
	}
	st := l.st.snapshot()
	l.mu.Unlock()
	if m := l.opts.Metrics; m != nil {
		m.backup.observe(rep, st)
	}
}

// backupMetrics are the metrics of scheduled backups.
type backupMetrics struct {
	runs        *prometheus.CounterVec
	duration    prometheus.Histogram
	lastSuccess *prometheus.GaugeVec
	lastSize    *prometheus.GaugeVec
	overdue     *prometheus.GaugeVec
	overdueN    prometheus.Gauge
}

func newBackupMetrics(reg prometheus.Registerer) backupMetrics {
	m := backupMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "felhom_backup_runs_total",
			Help: "Scheduled container backups taken, by outcome (ok, failed)."}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "felhom_backup_duration_seconds",
			Help: "Duration of each container's scheduled backup, as its vzdump task log gives it.", Buckets: prometheus.ExponentialBuckets(1, 2, 16)}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "felhom_backup_last_success_timestamp_seconds",
			Help: "When the container's newest backup on its policy's storage was made, in seconds since the epoch."}, []string{"vmid", "name", "storage"}),
		lastSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "felhom_backup_last_size_bytes",
			Help: "Size of the container's newest backup archive on its policy's storage."}, []string{"vmid", "name", "storage"}),
		overdue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "felhom_backup_overdue",
			Help: "1 while the container's newest backup is older than its backup.max-age (or it has none), else 0."}, []string{"vmid", "name"}),
		overdueN: prometheus.NewGauge(prometheus.GaugeOpts{Name: "felhom_backup_overdue_containers",
			Help: "Containers whose newest backup is older than their backup.max-age, or who have none."}),
	}
	reg.MustRegister(m.runs, m.duration, m.lastSuccess, m.lastSize, m.overdue, m.overdueN)
	for _, o := range []backup.Outcome{backup.OutcomeOK, backup.OutcomeFailed} {
		m.runs.WithLabelValues(string(o))
	}
	return m
}

func (m backupMetrics) observe(rep *backup.Report, st Status) {
	if rep != nil {
		for _, x := range rep.Results {
			m.runs.WithLabelValues(string(x.Outcome)).Inc()
			if x.Outcome == backup.OutcomeOK {
				m.duration.Observe(x.Duration.Seconds())
			}
		}
	}
	m.lastSuccess.Reset()
	m.lastSize.Reset()
	m.overdue.Reset()
	n := 0
	for _, c := range st.Containers {
		b := c.Backup
		if b == nil {
			continue
		}
		id := strconv.Itoa(c.VMID)
		if !b.LastSuccess.IsZero() {
			m.lastSuccess.WithLabelValues(id, c.Name, b.Storage).Set(float64(b.LastSuccess.UnixNano()) / 1e9)
			m.lastSize.WithLabelValues(id, c.Name, b.Storage).Set(float64(b.LastSize))
		}
		v := 0.0
		if b.Overdue {
			v, n = 1, n+1
		}
		m.overdue.WithLabelValues(id, c.Name).Set(v)
	}
	m.overdueN.Set(float64(n))
}

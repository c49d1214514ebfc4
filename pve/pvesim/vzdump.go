package pvesim

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/pve/prune"
)

// vzdump and restore (pve-manager PVE/API2/VZDump.pm, PVE/VZDump.pm;
// pve-container src/PVE/VZDump/LXC.pm, src/PVE/API2/LXC.pm create_vm,
// src/PVE/LXC/Create.pm; pve-guest-common PVE/VZDump/Common.pm).

// archiveExt maps compress to the archive suffix.
var archiveExt = map[string]string{"0": ".tar", "": ".tar", "1": ".tar.lzo", "lzo": ".tar.lzo", "gzip": ".tar.gz", "zstd": ".tar.zst"}

// vzdump is POST /nodes/{node}/vzdump (pve-manager PVE/API2/VZDump.pm
// vzdump): the parameter checks, "OK" without a task when every listed
// guest is on another node, else task vzdump, id = the vmid when exactly
// one local guest is backed up.
func (s *Sim) vzdump(r *request) (any, error) {
	n, err := s.lookupNode(r)
	if err != nil {
		return nil, err
	}
	sid := r.params["storage"]
	if sid == "" {
		sid = "local" // get_storage_param
	}
	// assert_param_permission_vzdump, then verify_vzdump_parameters.
	if r.has("prune-backups") {
		if err := s.check(r, "/storage/"+sid, "Datastore.Allocate"); err != nil {
			return nil, err
		}
	}
	for _, k := range []string{"all", "exclude", "pool"} {
		if r.boolParam(k) || k != "all" && r.params[k] != "" {
			if r.params["vmid"] != "" {
				return nil, paramError(map[string]string{k: "option conflicts with option 'vmid'"})
			}
		}
	}
	if tmpl := r.params["notes-template"]; tmpl != "" {
		if msg := verifyNotesTemplate(tmpl); msg != "" {
			return nil, paramError(map[string]string{"notes-template": msg})
		}
	}
	all := r.boolParam("all") || r.params["exclude"] != "" && r.params["pool"] == ""
	if !all && !r.boolParam("stop") && r.params["pool"] == "" && r.params["vmid"] == "" {
		return nil, paramError(map[string]string{"vmid": "property is missing"})
	}

	// get_included_guests: the listed vmids on this node plus those that
	// exist nowhere (they "visibly fail later"); guests on other nodes
	// are skipped.
	var local, skipped []int
	if all {
		for _, vmid := range s.vmids() {
			if s.cts[vmid].node == n.name {
				local = append(local, vmid)
			}
		}
	} else {
		for _, v := range format.SplitList(r.params["vmid"]) {
			vmid, _ := strconv.Atoi(v)
			if ct := s.cts[vmid]; ct != nil && ct.node != n.name {
				skipped = append(skipped, vmid)
				continue
			}
			local = append(local, vmid)
		}
	}
	exclude := map[int]bool{}
	for _, v := range format.SplitList(r.params["exclude"]) {
		vmid, _ := strconv.Atoi(v)
		exclude[vmid] = true
	}
	guests := local[:0]
	for _, vmid := range local {
		if !exclude[vmid] {
			guests = append(guests, vmid)
		}
	}
	sort.Ints(guests)
	// "silent exit if specified VMs run on other nodes"
	if len(guests) == 0 && !all {
		return "OK", nil
	}
	if err := s.check(r, "/storage/"+sid, "Datastore.AllocateSpace"); err != nil {
		return nil, err
	}
	st := n.storage[sid]
	if st == nil {
		return nil, errorf("storage '%s' does not exist", sid)
	}
	if !st.hasContent("backup") {
		return nil, errorf("storage '%s' does not support backups", sid)
	}
	keep, err := pruneOptions(r, st)
	if err != nil {
		return nil, err
	}
	id := ""
	if len(guests) == 1 {
		id = strconv.Itoa(guests[0])
	}

	job := &vzdumpJob{s: s, r: r, node: n, st: st, guests: guests, skipped: skipped, keep: keep, all: all,
		mode: r.params["mode"], compress: r.params["compress"], locked: map[int]bool{}, failed: map[int]string{},
		vzsnap: map[int]bool{}, oldSnap: map[int]bool{}, stopped: map[int]bool{}}
	if job.mode == "" {
		job.mode = "snapshot"
	}
	return s.startTask(r, taskSpec{node: n.name, typ: "vzdump", id: id, begin: job.begin, finish: job.finish, abort: job.abort}), nil
}

// verifyNotesTemplate is VZDump.pm's verify_notes_template: no line feed;
// only \n and \\ as escapes; only {{cluster}}, {{guestname}}, {{node}} and
// {{vmid}}. It returns PVE's message ("" when the template is fine), with
// PVE's char positions (pos() after the match, minus 2 for an escape and
// minus the name's length for a variable).
func verifyNotesTemplate(tmpl string) string {
	if strings.Contains(tmpl, "\n") {
		return "contains a line feed\n"
	}
	var bad []string
	for i := 0; i+1 < len(tmpl); i++ {
		if tmpl[i] != '\\' {
			continue
		}
		if c := tmpl[i+1]; c != 'n' && c != '\\' {
			bad = append(bad, fmt.Sprintf("escape sequence '\\%c' at char %d", c, i))
		}
		i++ // /\\(.)/g goes on after the escaped character
	}
	for _, m := range notesVarRE.FindAllStringSubmatchIndex(tmpl, -1) {
		name := tmpl[m[2]:m[3]]
		switch name {
		case "cluster", "guestname", "node", "vmid":
		default:
			bad = append(bad, fmt.Sprintf("variable '%s' at char %d", name, m[1]-len(name)))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return "found unknown: " + strings.Join(bad, ", ") + "\n"
}

var notesVarRE = regexp.MustCompile(`\{\{([^\s{}]+)\}\}`)

// vzdumpJob is one vzdump task.
type vzdumpJob struct {
	s        *Sim
	r        *request
	node     *simNode
	st       *simStorage
	guests   []int
	skipped  []int
	keep     prune.Options
	all      bool
	mode     string
	compress string
	started  time.Time
	locked   map[int]bool   // guests this job set lock: backup on
	failed   map[int]string // guests that failed before their backup
	vzsnap   map[int]bool   // guests with the temporary 'vzdump' snapshot
	oldSnap  map[int]bool   // guests where a leftover 'vzdump' snapshot was removed
	stopped  map[int]bool   // running guests stop mode stopped; restarted at the end
}

// begin logs the job's start and checks VM.Backup on every guest that
// exists (exec_backup: without all=1 a missing privilege ends the whole
// task; with all=1 the guest is left out), then sets lock: backup on each
// guest (set_lock fails when the config is already locked), takes the
// temporary snapshot in snapshot mode, and stops a running guest in stop
// mode.
func (j *vzdumpJob) begin(t *task) error {
	s := j.s
	j.started = s.clock.Now()
	args := []string{"vzdump"}
	for _, v := range j.guests {
		args = append(args, strconv.Itoa(v))
	}
	for _, k := range []string{"storage", "mode", "compress", "prune-backups", "remove", "notes-template", "protected"} {
		if v, ok := j.r.params[k]; ok {
			args = append(args, "--"+k, quoteArg(v))
		}
	}
	t.logf("INFO: starting new backup job: %s", strings.Join(args, " "))
	if len(j.skipped) > 0 {
		ids := make([]string, len(j.skipped))
		sort.Ints(j.skipped)
		for i, v := range j.skipped {
			ids[i] = strconv.Itoa(v)
		}
		t.logf("INFO: skip external VMs: %s", strings.Join(ids, ", "))
	}
	kept := j.guests[:0]
	for _, vmid := range j.guests {
		if s.cts[vmid] != nil && !s.hasAny(j.r.token, vmPath(vmid), "VM.Backup") {
			if !j.all {
				return permError(vmPath(vmid) + ", VM.Backup")
			}
			continue
		}
		kept = append(kept, vmid)
	}
	j.guests = kept
	for _, vmid := range j.guests {
		ct := s.cts[vmid]
		if ct == nil {
			continue // exec_backup_task: "unable to find VM"
		}
		if l := ct.lock(); l != "" {
			j.failed[vmid] = "CT is locked (" + l + ")"
			continue
		}
		if err := ct.setLock("backup"); err != nil {
			j.failed[vmid] = err.Error()
			continue
		}
		j.locked[vmid] = true
		if err := j.snapshot(ct); err != nil {
			j.failed[vmid] = err.Error()
			continue
		}
		if j.mode == "stop" && ct.running {
			ct.running = false
			j.stopped[vmid] = true
		}
	}
	return nil
}

// snapshot takes the temporary 'vzdump' snapshot of a running guest
// backed up in snapshot mode, as VZDump/LXC.pm does: a leftover one is
// force-removed first; the backup lock is dropped for snapshot_create and
// taken again, so while the archive is written the config has lock:
// backup, a [vzdump] section and parent: vzdump.
func (j *vzdumpJob) snapshot(ct *simCT) error {
	f, err := ct.file()
	if err != nil {
		return err
	}
	_, _, canSnapshot, err := j.volumes(ct, f)
	if err != nil || !ct.running || j.mode != "snapshot" || !canSnapshot {
		return err
	}
	f.SetLock("")
	if f.Snapshot("vzdump") != nil {
		if err := f.SnapshotDelete("vzdump"); err != nil {
			return err
		}
		j.oldSnap[ct.vmid] = true
	}
	if err := f.SnapshotPrepare("vzdump", "vzdump backup snapshot", j.started.Unix()); err != nil {
		return err
	}
	if err := f.SnapshotCommit("vzdump"); err != nil {
		return err
	}
	f.SetLock("backup")
	ct.store(f)
	j.vzsnap[ct.vmid] = true
	return nil
}

// removeVzdumpSnapshot is the clean-up: the backup lock goes, then
// snapshot_delete('vzdump') relinks parent.
func (j *vzdumpJob) removeVzdumpSnapshot(ct *simCT) {
	f, err := ct.file()
	if err != nil {
		return
	}
	if f.Lock() == "backup" {
		f.SetLock("")
	}
	if f.Snapshot("vzdump") != nil && f.SnapshotDelete("vzdump") == nil {
		ct.store(f)
	}
	delete(j.vzsnap, ct.vmid)
}

// abort undoes begin when a steered failure ends the task: the temporary
// snapshots and the locks go, and the guests stop mode stopped start again
// (exec_backup_task's clean-up).
func (j *vzdumpJob) abort(t *task) {
	for vmid := range j.vzsnap {
		if ct := j.s.cts[vmid]; ct != nil {
			j.removeVzdumpSnapshot(ct)
		}
	}
	for vmid := range j.locked {
		if ct := j.s.cts[vmid]; ct != nil && ct.lock() == "backup" {
			_ = ct.setLock("")
		}
	}
	for _, vmid := range sortedIDs(j.stopped) {
		if ct := j.s.cts[vmid]; ct != nil && !ct.running {
			_ = j.s.startCT(t, ct)
		}
	}
}

func sortedIDs(m map[int]bool) []int {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

func (j *vzdumpJob) finish(t *task) error {
	errorsSeen := false
	for _, vmid := range j.guests {
		if err := j.backup(t, vmid); err != nil {
			// exec_backup_task: the error, then the time it failed.
			t.logf("ERROR: Backup of VM %d failed - %s", vmid, strings.TrimSuffix(err.Error(), "\n"))
			t.logf("INFO: Failed at %s", j.started.In(j.node.loc).Format("2006-01-02 15:04:05"))
			errorsSeen = true
		}
	}
	if errorsSeen {
		t.logf("INFO: Backup job finished with errors")
		return fmt.Errorf("job errors")
	}
	t.logf("INFO: Backup job finished successfully")
	return nil
}

func quoteArg(v string) string {
	if strings.ContainsAny(v, " \t'\"{}") {
		return "'" + strings.ReplaceAll(v, "'", `'"'"'`) + "'"
	}
	return v
}

// backupLimit is exec_backup_task's check before a guest's backup: with
// remove=0 and a finite retention, the guest may have at most the sum of
// the keep-* values in unprotected backups on the storage ("There is a
// max backup limit of N enforced..."); with protected=1, at most
// max-protected-backups protected ones (get_max_protected_backups: 5,
// unlimited with Datastore.Allocate on the storage).
func (j *vzdumpJob) backupLimit(vmid int) error {
	limit := 0
	if j.keep.KeepAll == nil || !*j.keep.KeepAll {
		for _, p := range []*int{j.keep.KeepLast, j.keep.KeepHourly, j.keep.KeepDaily, j.keep.KeepWeekly, j.keep.KeepMonthly, j.keep.KeepYearly} {
			if p != nil {
				limit += *p
			}
		}
	}
	protected := j.r.boolParam("protected")
	if !(limit > 0 && !j.removes()) && !protected {
		return nil
	}
	count, protectedCount := 0, 0
	for _, b := range j.st.backups {
		bvmid, typ, _, ok := prune.ArchiveInfo(b.volid, j.node.loc)
		if !ok {
			bvmid, typ = b.vmid, ""
		}
		if bvmid != vmid || typ != "" && typ != "lxc" {
			continue
		}
		if b.protected {
			protectedCount++
		} else {
			count++
		}
	}
	if protected {
		max := 5
		if j.s.hasAny(j.r.token, "/storage/"+j.st.id, "Datastore.Allocate") {
			max = -1
		}
		if max > -1 && protectedCount >= max {
			return fmt.Errorf("The number of protected backups per guest is limited to %d on storage '%s'", max, j.st.id)
		}
		return nil
	}
	if count >= limit {
		return fmt.Errorf("There is a max backup limit of %d enforced by the target storage or the vzdump parameters. Either increase the limit or delete old backups.", limit)
	}
	return nil
}

// removes reports whether the job prunes after each backup: remove
// (default 1), forced off by keep-all.
func (j *vzdumpJob) removes() bool {
	return j.r.params["remove"] != "0" && !(j.keep.KeepAll != nil && *j.keep.KeepAll)
}

// backup backs up one guest in exec_backup_task's order: the backup
// limit, the start lines, prepare (mount points, mode), the archive,
// notes and protection, prune, then the clean-up: unlock, the temporary
// snapshot, and a guest stop mode stopped is started again with vm_start,
// which applies its pending changes (pve-container VZDump/LXC.pm
// start_vm).
func (j *vzdumpJob) backup(t *task, vmid int) error {
	s := j.s
	ct := s.cts[vmid]
	if ct == nil {
		return fmt.Errorf("unable to find VM '%d'", vmid)
	}
	if err := j.backupLimit(vmid); err != nil {
		j.cleanup(t, ct, false)
		return err
	}
	loc := j.node.loc
	start := j.started.In(loc)
	t.logf("INFO: Starting Backup of VM %d (lxc)", vmid)
	t.logf("INFO: Backup started at %s", start.Format("2006-01-02 15:04:05"))
	running := ct.running || j.stopped[vmid]
	status := "stopped"
	if running {
		status = "running"
	}
	t.logf("INFO: status = %s", status)
	if msg, bad := j.failed[vmid]; bad { // lock_vm
		return errors.New(msg)
	}
	err := j.archive(t, ct, running, start)
	j.cleanup(t, ct, true)
	if err != nil {
		return err
	}
	d := t.due.Sub(t.started)
	t.logf("INFO: Finished Backup of VM %d (%02d:%02d:%02d)", vmid, int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	t.logf("INFO: Backup finished at %s", start.Add(d).Format("2006-01-02 15:04:05"))
	return nil
}

// archive is the part of exec_backup_task from prepare to prune.
func (j *vzdumpJob) archive(t *task, ct *simCT, running bool, start time.Time) error {
	s, vmid := j.s, ct.vmid
	f, err := ct.file()
	if err != nil {
		return err
	}
	if name, ok := f.Get("hostname"); ok {
		t.logf("INFO: CT Name: %s", name)
	}
	lines, size, canSnapshot, err := j.volumes(ct, f)
	if err != nil {
		return err
	}
	for _, l := range lines {
		t.logf("%s", l)
	}
	archiveConfig := f.Main
	mode := j.mode
	if !running {
		mode = "stop"
	} else if mode == "snapshot" && !canSnapshot {
		t.logf("INFO: mode failure - some volumes do not support snapshots")
		t.logf("INFO: trying 'suspend' mode instead")
		mode = "suspend"
	}
	if j.oldSnap[vmid] { // VZDump/LXC.pm prepare
		t.logf("INFO: found old vzdump snapshot (force removal)")
	}
	t.logf("INFO: backup mode: %s", mode)
	t.logf("INFO: ionice priority: 7")
	switch {
	case mode == "snapshot":
		t.logf("INFO: create storage snapshot 'vzdump'")
	case mode == "suspend":
		t.logf("INFO: starting first sync /proc/%d/root/ to /var/tmp/vzdumptmp", 10000+vmid)
		t.logf("INFO: suspending guest")
		t.logf("INFO: starting final sync /proc/%d/root/ to /var/tmp/vzdumptmp", 10000+vmid)
		t.logf("INFO: resuming guest")
		t.logf("INFO: guest is online again after <1 seconds")
	case running: // stop mode on a running guest
		t.logf("INFO: stopping virtual guest")
	}
	name := fmt.Sprintf("vzdump-lxc-%d-%s%s", vmid, start.Format("2006_01_02-15_04_05"), archiveExt[j.compress])
	volid := j.st.id + ":backup/" + name
	archive := size / 8
	if archive < 1<<20 {
		archive = 1 << 20
	}
	if j.st.used()+archive > j.st.total {
		return fmt.Errorf("no space left on device")
	}
	t.logf("INFO: creating vzdump archive '%s/dump/%s'", storagePath(j.st), name)
	t.logf("INFO: Total bytes written: %d (%dMiB, 100.00 MiB/s)", size/4, size/4>>20)
	t.logf("INFO: archive file size: %s", formatSize(archive))
	b := &simBackup{volid: volid, size: archive, vmid: vmid, config: string(configOnly(archiveConfig))}
	if tmpl := j.r.params["notes-template"]; tmpl != "" {
		t.logf("INFO: adding notes to backup")
		hostname, _ := f.Get("hostname")
		b.notes = expandNotes(tmpl, s.cluster, hostname, j.node.name, vmid)
	}
	if j.r.boolParam("protected") {
		b.protected = true
		t.logf("INFO: marking backup as protected")
	}
	j.st.backups[volid] = b
	if j.removes() {
		// The retention sorted by key, joined with ", ".
		t.logf("INFO: prune older backups with retention: %s", strings.ReplaceAll(j.keep.String(), ",", ", "))
		removed := removeMarked(t, j.st, s.pruneMarks(j.node, j.st, j.keep, vmid, "lxc"), "INFO: ")
		extra := ""
		if removed > 0 {
			extra = " not covered by keep-retention policy"
		}
		t.logf("INFO: pruned %d backup(s)%s", removed, extra)
	}
	return nil
}

// cleanup is exec_backup_task's clean-up: unlock, remove the temporary
// snapshot (prepared: prepare ran), restart a guest stop mode stopped.
func (j *vzdumpJob) cleanup(t *task, ct *simCT, prepared bool) {
	if j.locked[ct.vmid] && ct.lock() == "backup" {
		_ = ct.setLock("")
	}
	if prepared && j.vzsnap[ct.vmid] {
		t.logf("INFO: cleanup temporary 'vzdump' snapshot")
		j.removeVzdumpSnapshot(ct)
	}
	if j.stopped[ct.vmid] {
		delete(j.stopped, ct.vmid)
		t.logf("INFO: restarting vm")
		if err := j.s.startCT(t, ct); err != nil {
			t.logf("%s", strings.TrimSuffix(err.Error(), "\n")) // warn $err
			return
		}
		d := int(t.due.Sub(t.started).Seconds())
		if d < 1 {
			t.logf("INFO: guest is online again after <1 seconds")
		} else {
			t.logf("INFO: guest is online again after %d seconds", d)
		}
	}
}

// formatSize is VZDump.pm format_size.
func formatSize(n int64) string {
	kb := float64(n) / 1024
	if kb < 1024 {
		return strconv.Itoa(int(kb)) + "KB"
	}
	mb := kb / 1024
	if mb < 1024 {
		return strconv.Itoa(int(mb)) + "MB"
	}
	if gb := mb / 1024; gb < 1024 {
		return fmt.Sprintf("%.2fGB", gb)
	}
	return fmt.Sprintf("%.2fTB", mb/1024/1024)
}

// volumes returns the log lines about what is in the backup (rootfs and
// volume mount points with backup=1; bind, device and backup=0 mount
// points are excluded), the size of the included volumes, and whether all
// of them can be snapshotted (has_feature('snapshot', ..., backup_only)).
func (j *vzdumpJob) volumes(ct *simCT, f *ctconf.File) (lines []string, size int64, canSnapshot bool, err error) {
	canSnapshot = true
	for _, key := range f.Main.MountKeys() {
		value, _ := f.Get(key)
		path := "/"
		if key != "rootfs" {
			mp, err := format.ParseMountPoint(value)
			if err != nil {
				return nil, 0, false, err
			}
			path = mp.MP
			switch {
			case mp.Kind() != format.Volume:
				lines = append(lines, fmt.Sprintf("INFO: excluding %s mount point %s ('%s') from backup (not a volume)", mp.Kind(), key, path))
				continue
			case mp.Backup == nil || !*mp.Backup:
				lines = append(lines, fmt.Sprintf("INFO: excluding volume mount point %s ('%s') from backup (disabled)", key, path))
				continue
			}
		}
		lines = append(lines, fmt.Sprintf("INFO: including mount point %s ('%s') in backup", key, path))
		volid, vsize, ok := volumeOf(key, value)
		if !ok {
			canSnapshot = false
			continue
		}
		size += vsize
		if st, _, err := j.s.storageOf(ct.node, volid); err != nil || !st.canSnapshot() {
			canSnapshot = false
		}
	}
	return lines, size, canSnapshot, nil
}

func storagePath(st *simStorage) string {
	if st.id == "local" {
		return "/var/lib/vz"
	}
	return "/mnt/pve/" + st.id
}

// expandNotes fills a notes template ({{cluster}}, {{guestname}},
// {{node}}, {{vmid}}; "\n" is a newline and "\\" a backslash), as
// PVE::VZDump::Common's notes template expansion does.
func expandNotes(tmpl, cluster, guest, node string, vmid int) string {
	r := strings.NewReplacer(`\\`, `\`, `\n`, "\n", "{{cluster}}", cluster, "{{guestname}}", guest, "{{node}}", node, "{{vmid}}", strconv.Itoa(vmid))
	return r.Replace(tmpl)
}

// configOnly returns the main section of a config as file text (what
// vzdump stores in the archive): no pending changes, no snapshots, no lock,
// no parent.
func configOnly(main *ctconf.Section) []byte {
	f := &ctconf.File{Main: ctconf.NewSection()}
	for _, k := range main.Keys() {
		if k == "lock" || k == "parent" || k == "digest" || isIndexed(k, "unused") {
			continue
		}
		v, _ := main.Get(k)
		f.Main.Set(k, v)
	}
	f.Main.Lxc = append(f.Main.Lxc, main.Lxc...)
	return f.Bytes()
}

// findBackup finds a backup archive by volid on the node's storages.
func (s *Sim) findBackup(n *simNode, volid string) (*simStorage, *simBackup) {
	sid, _, _ := strings.Cut(volid, ":")
	st := n.storage[sid]
	if st == nil {
		return nil, nil
	}
	return st, st.backups[volid]
}

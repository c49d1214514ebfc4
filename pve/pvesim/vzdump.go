package pvesim

import (
	"fmt"
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

// vzdump is POST /nodes/{node}/vzdump: task vzdump, id = the vmid when
// exactly one local guest is backed up.
func (s *Sim) vzdump(r *request) (any, error) {
	n, err := s.lookupNode(r)
	if err != nil {
		return nil, err
	}
	if r.boolParam("all") && r.has("vmid") {
		return nil, paramError(map[string]string{"all": "option conflicts with option 'vmid'"})
	}
	if !r.boolParam("all") && !r.has("vmid") && !r.has("pool") {
		return nil, paramError(map[string]string{"vmid": "property is missing and it is not optional"})
	}
	sid := r.params["storage"]
	if sid == "" {
		sid = "local"
	}
	if r.has("storage") {
		if err := s.check(r, "/storage/"+sid, "Datastore.AllocateSpace"); err != nil {
			return nil, err
		}
	}
	st := n.storage[sid]
	if st == nil {
		return nil, errorf("storage '%s' does not exist", sid)
	}
	if !st.hasContent("backup") {
		return nil, errorf("storage '%s' does not support backups", sid)
	}
	if r.has("prune-backups") {
		if err := s.check(r, "/storage/"+sid, "Datastore.Allocate"); err != nil {
			return nil, err
		}
	}
	keep, err := pruneOptions(r, st)
	if err != nil {
		return nil, err
	}

	// Guests: the listed vmids on this node plus those that exist nowhere
	// (they "visibly fail later"); guests on other nodes are skipped.
	var local, skipped []int
	if r.boolParam("all") {
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
	id := ""
	if len(guests) == 1 {
		id = strconv.Itoa(guests[0])
	}

	job := &vzdumpJob{s: s, r: r, node: n, st: st, guests: guests, skipped: skipped, keep: keep,
		mode: r.params["mode"], compress: r.params["compress"], locked: map[int]bool{}, failed: map[int]string{},
		vzsnap: map[int]bool{}, oldSnap: map[int]bool{}}
	if job.mode == "" {
		job.mode = "snapshot"
	}
	return s.startTask(r, taskSpec{node: n.name, typ: "vzdump", id: id, begin: job.begin, finish: job.finish, abort: job.abort}), nil
}

// vzdumpJob is one vzdump task.
type vzdumpJob struct {
	s        *Sim
	r        *request
	node     *simNode
	st       *simStorage
	guests   []int
	skipped  []int
	keep     prune.Options
	mode     string
	compress string
	started  time.Time
	locked   map[int]bool   // guests this job set lock: backup on
	failed   map[int]string // guests that failed before their backup
	vzsnap   map[int]bool   // guests with the temporary 'vzdump' snapshot
	oldSnap  map[int]bool   // guests where a leftover 'vzdump' snapshot was removed
}

// begin checks each guest and sets lock: backup (set_lock fails when the
// config is already locked).
func (j *vzdumpJob) begin(t *task) error {
	s := j.s
	j.started = s.clock.Now()
	for _, vmid := range j.guests {
		ct := s.cts[vmid]
		if ct == nil {
			j.failed[vmid] = fmt.Sprintf("unable to find configuration file for VM %d on node '%s'", vmid, j.node.name)
			continue
		}
		if err := s.check(j.r, vmPath(vmid), "VM.Backup"); err != nil {
			j.failed[vmid] = err.Error()
			continue
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
}

func (j *vzdumpJob) finish(t *task) error {
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
		var ids []string
		for _, v := range j.skipped {
			ids = append(ids, strconv.Itoa(v))
		}
		t.logf("INFO: skip external VMs: %s", strings.Join(ids, ", "))
	}
	errorsSeen := false
	for _, vmid := range j.guests {
		if msg, bad := j.failed[vmid]; bad {
			t.logf("ERROR: Backup of VM %d failed - %s", vmid, msg)
			errorsSeen = true
			continue
		}
		if err := j.backup(t, vmid); err != nil {
			t.logf("ERROR: Backup of VM %d failed - %v", vmid, err)
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

// backup backs up one guest: mode selection, archive, notes, protection,
// unlock, then prune.
func (j *vzdumpJob) backup(t *task, vmid int) error {
	s := j.s
	ct := s.cts[vmid]
	defer func() {
		if j.locked[vmid] && ct.lock() == "backup" {
			_ = ct.setLock("")
		}
	}()
	f, err := ct.file()
	if err != nil {
		return err
	}
	loc := j.node.loc
	start := j.started.In(loc)
	t.logf("INFO: Starting Backup of VM %d (lxc)", vmid)
	t.logf("INFO: Backup started at %s", start.Format("2006-01-02 15:04:05"))
	status := "stopped"
	if ct.running {
		status = "running"
	}
	t.logf("INFO: status = %s", status)
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
	if !ct.running {
		mode = "stop"
	} else if mode == "snapshot" && !canSnapshot {
		t.logf("INFO: mode failure - some volumes do not support snapshots")
		t.logf("INFO: trying 'suspend' mode instead")
		mode = "suspend"
	}
	t.logf("INFO: backup mode: %s", mode)
	t.logf("INFO: ionice priority: 7")
	if j.oldSnap[vmid] {
		t.logf("INFO: found old vzdump snapshot (force removal)")
	}
	switch {
	case mode == "snapshot":
		t.logf("INFO: create storage snapshot 'vzdump'")
	case mode == "suspend":
		t.logf("INFO: starting first sync /proc/%d/root/ to /var/tmp/vzdumptmp", 10000+vmid)
		t.logf("INFO: suspending guest")
		t.logf("INFO: starting final sync /proc/%d/root/ to /var/tmp/vzdumptmp", 10000+vmid)
		t.logf("INFO: resuming guest")
	case ct.running: // stop mode on a running guest
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
	t.logf("INFO: archive file size: %dMB", archive>>20)
	b := &simBackup{volid: volid, size: archive, vmid: vmid, config: string(configOnly(archiveConfig))}
	if tmpl, ok := j.r.params["notes-template"]; ok {
		hostname, _ := f.Get("hostname")
		b.notes = expandNotes(tmpl, s.cluster, hostname, j.node.name, vmid)
		t.logf("INFO: adding notes to backup")
	}
	if j.r.boolParam("protected") {
		b.protected = true
		t.logf("INFO: marking backup as protected")
	}
	j.st.backups[volid] = b
	if mode == "stop" && ct.running {
		t.logf("INFO: restarting vm")
	}
	if j.vzsnap[vmid] {
		t.logf("INFO: cleanup temporary 'vzdump' snapshot")
		j.removeVzdumpSnapshot(ct)
	}
	if j.r.params["remove"] != "0" && !(j.keep.KeepAll != nil && *j.keep.KeepAll) {
		t.logf("INFO: prune older backups with retention: %s", j.keep.String())
		removed := removeMarked(t, j.st, s.pruneMarks(j.node, j.st, j.keep, vmid, "lxc"), "INFO: ")
		extra := ""
		if removed > 0 {
			extra = " not covered by keep-retention policy"
		}
		t.logf("INFO: pruned %d backup(s)%s", removed, extra)
	}
	d := t.due.Sub(t.started)
	t.logf("INFO: Finished Backup of VM %d (%02d:%02d:%02d)", vmid, int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	t.logf("INFO: Backup finished at %s", start.Add(d).Format("2006-01-02 15:04:05"))
	return nil
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

// createCT is POST /nodes/{node}/lxc. Only restore=1 (restore a vzdump
// archive) is simulated: it is the create path a token can use.
func (s *Sim) createCT(r *request) (any, error) {
	n, err := s.lookupNode(r)
	if err != nil {
		return nil, err
	}
	vmid := r.vmid()
	existing := s.cts[vmid]
	if existing != nil && r.boolParam("force") {
		if err := s.check(r, vmPath(vmid), "VM.Backup"); err != nil {
			return nil, err
		}
	} else if err := s.check(r, vmPath(vmid), "VM.Allocate"); err != nil {
		return nil, err
	}
	sid := r.params["storage"]
	if sid == "" {
		sid = "local"
	}
	if err := s.check(r, "/storage/"+sid, "Datastore.AllocateSpace"); err != nil {
		return nil, err
	}
	if !r.boolParam("restore") {
		return nil, errorf("pvesim: creating a container from a template is not simulated; restore a backup with restore=1")
	}
	archive := r.params["ostemplate"]
	ast, b := s.findBackup(n, archive)
	if b == nil {
		return nil, errorf("volume '%s' does not exist", archive)
	}
	if !s.hasAny(r.token, "/storage/"+ast.id, "Datastore.Allocate") {
		if err := s.check(r, "/storage/"+ast.id, "Datastore.AllocateSpace"); err != nil {
			return nil, err
		}
		if b.vmid != 0 {
			if err := s.check(r, vmPath(b.vmid), "VM.Backup"); err != nil {
				return nil, err
			}
		}
	}
	var overrides []string
	for k := range r.params {
		if k != "rootfs" && ctconf.Settable(k) {
			overrides = append(overrides, k)
		}
	}
	sort.Strings(overrides)
	noOld := func(string) (string, bool) { return "", false }
	if err := s.checkCTModifyConfig(r, n.name, vmid, noOld, true, overrides, false); err != nil {
		return nil, err
	}
	if existing != nil {
		if !r.boolParam("force") || existing.node != n.name {
			return nil, errorf("CT %d already exists on node '%s'", vmid, existing.node)
		}
		if existing.running {
			return nil, errorf("can't overwrite running container")
		}
		if err := existing.setLock("create"); err != nil {
			return nil, err
		}
	}
	if err := (allocator{s: s, ct: &simCT{vmid: vmid, node: n.name}}).CheckRootdir(sid); err != nil {
		return nil, err
	}
	text := b.config
	if text == "" {
		text = fmt.Sprintf("arch: amd64\nhostname: ct%d\nmemory: 512\nostype: debian\nrootfs: %s:8\nswap: 512\n", vmid, sid)
	}
	src, err := ctconf.Parse([]byte(text))
	if err != nil {
		return nil, errorf("unable to read config from archive '%s': %v", archive, err)
	}
	if existing == nil {
		lockText := "lock: create\n"
		s.cts[vmid] = &simCT{vmid: vmid, node: n.name, conf: lockText}
	}
	ct := s.cts[vmid]
	params := r.params
	return s.startTask(r, taskSpec{node: n.name, typ: "vzrestore", id: strconv.Itoa(vmid),
		finish: func(t *task) error {
			return s.restoreInto(t, ct, src, sid, params, existing != nil)
		},
		abort: func(t *task) {
			if existing == nil {
				delete(s.cts, vmid)
			} else {
				_ = ct.setLock("")
			}
		},
	}), nil
}

// restoreInto writes the archive's config into ct with new volumes on
// storage sid (the old ones are destroyed when overwriting), then the
// parameters of the call on top.
func (s *Sim) restoreInto(t *task, ct *simCT, src *ctconf.File, sid string, params map[string]string, overwrite bool) error {
	alloc := allocator{s: s, ct: ct}
	if overwrite {
		if old, err := ct.file(); err == nil {
			for _, key := range old.Main.MountKeys() {
				value, _ := old.Get(key)
				if volid, _, ok := volumeOf(key, value); ok {
					_ = alloc.Free(volid)
				}
			}
			for _, k := range old.Main.Keys() {
				if isIndexed(k, "unused") {
					v, _ := old.Get(k)
					_ = alloc.Free(strings.TrimPrefix(v, "volume="))
				}
			}
		}
	}
	f := &ctconf.File{Main: ctconf.NewSection()}
	for _, k := range src.Main.Keys() {
		v, _ := src.Main.Get(k)
		f.Main.Set(k, v)
	}
	f.Main.Lxc = append(f.Main.Lxc, src.Main.Lxc...)
	for _, k := range []string{"lock", "parent", "digest"} {
		f.Delete(k)
	}
	for k, v := range params {
		if ctconf.Settable(k) {
			f.Set(k, v)
		}
	}
	for _, key := range f.Main.MountKeys() {
		value, _ := f.Get(key)
		vol, cur, err := mountVolume(key, value)
		if err != nil {
			return err
		}
		if format.Classify(vol) != format.Volume {
			continue
		}
		size := int64(8 << 30)
		if cur != nil {
			size = int64(*cur)
		}
		if _, sz, ok := (format.RootFS{Volume: vol}).NewVolume(); ok { // STORAGE:SIZE_GiB
			size = int64(sz)
		}
		volid, err := alloc.Alloc(sid, key, size)
		if err != nil {
			return err
		}
		f.Set(key, withVolume(key, value, volid, format.Size(size)))
		t.logf("restoring '%s' to '%s' (%s)", vol, sid, key)
	}
	if params["unique"] == "1" {
		for _, k := range f.Main.Keys() {
			if !isIndexed(k, "net") {
				continue
			}
			v, _ := f.Get(k)
			nt, err := format.ParseNet(v)
			if err != nil {
				continue
			}
			nt.HWAddr = fmt.Sprintf("BC:24:11:%02X:%02X:%02X", s.rnd.IntN(256), s.rnd.IntN(256), s.rnd.IntN(256))
			f.Set(k, nt.String())
		}
	}
	ct.store(f)
	t.logf("merged configuration from archive")
	if params["start"] == "1" {
		return s.startCT(t, ct)
	}
	return nil
}

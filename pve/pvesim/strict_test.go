package pvesim

import (
	"strings"
	"testing"
	"time"
)

// storageOf returns the inventory storage id on node.
func invStorage(inv *Inventory, node, id string) *Storage {
	for _, st := range inv.Node(node).Storages {
		if st.ID == id {
			return st
		}
	}
	return nil
}

// TestVzdumpBackupLimit (issue 9 item 1): with remove=0 and a finite
// retention, exec_backup_task refuses a backup once the guest has as many
// unprotected backups as the keep-* values add up to; with protected=1, at
// most 5 protected ones without Datastore.Allocate.
func TestVzdumpBackupLimit(t *testing.T) {
	inv := backupInventory()
	nas := invStorage(inv, "pve1", "nas")
	nas.PruneBackups = "keep-last=1,keep-daily=1"
	nas.AddBackup(Backup{Volid: "nas:backup/vzdump-lxc-103-2026_11_20-02_00_00.tar.zst"})
	nas.AddBackup(Backup{Volid: "nas:backup/vzdump-lxc-103-2026_11_21-02_00_00.tar.zst"})
	nas.AddBackup(Backup{Volid: "nas:backup/vzdump-lxc-103-2026_11_22-02_00_00.tar.zst", Protected: true})
	for i := 0; i < 5; i++ {
		nas.AddBackup(Backup{Volid: "nas:backup/vzdump-lxc-102-2026_11_1" + string(rune('0'+i)) + "-02_00_00.tar.zst", Protected: true})
	}
	inv.AddUser("bk2@pve", Role("/storage", "PVEDatastoreUser"), Role("/vms", "PVEVMUser")).AddToken("tk", "secret-bk2", false)
	e := newEnv(t, inv)
	count := func() int { return len(backupVolids(e, "nas")) }
	before := count()

	st, log := e.task("POST", "/nodes/pve1/vzdump", "vmid", "103", "storage", "nas", "remove", "0")
	want := "ERROR: Backup of VM 103 failed - There is a max backup limit of 2 enforced by the target storage or the vzdump parameters. Either increase the limit or delete old backups."
	if st["exitstatus"] != "job errors" || !hasLine(log, want) || hasLine(log, "INFO: Starting Backup of VM 103 (lxc)") {
		t.Fatalf("%v\n%s", st, strings.Join(log, "\n"))
	}
	if got := count(); got != before {
		t.Fatalf("a refused backup was taken: %d -> %d", before, got)
	}
	if l := e.conf(103); strings.Contains(l, "lock:") {
		t.Fatalf("lock left: %s", l)
	}
	// A higher limit in the call, or remove=1, lets it through.
	e.sim.Clock().Advance(time.Minute)
	if st, log := e.task("POST", "/nodes/pve1/vzdump", "vmid", "103", "storage", "nas", "remove", "0", "prune-backups", "keep-last=3"); st["exitstatus"] != "OK" {
		t.Fatalf("keep-last=3: %v\n%s", st, strings.Join(log, "\n"))
	}
	e.sim.Clock().Advance(time.Minute)
	if st, log := e.task("POST", "/nodes/pve1/vzdump", "vmid", "103", "storage", "nas"); st["exitstatus"] != "OK" {
		t.Fatalf("remove=1: %v\n%s", st, strings.Join(log, "\n"))
	}
	// Protected backups: 5 per guest without Datastore.Allocate.
	st, log = e.as("bk2@pve!tk=secret-bk2").task("POST", "/nodes/pve1/vzdump", "vmid", "102", "storage", "nas", "protected", "1")
	if st["exitstatus"] != "job errors" || !hasLine(log, "ERROR: Backup of VM 102 failed - The number of protected backups per guest is limited to 5 on storage 'nas'") {
		t.Fatalf("protected: %v\n%s", st, strings.Join(log, "\n"))
	}
	if st, log := e.task("POST", "/nodes/pve1/vzdump", "vmid", "102", "storage", "nas", "protected", "1"); st["exitstatus"] != "OK" {
		t.Fatalf("protected with Datastore.Allocate: %v\n%s", st, strings.Join(log, "\n"))
	}
}

// pendingInventory has ct 100 running with a pending hostname and ct 101
// stopped.
func pendingInventory() *Inventory {
	inv := backupInventory()
	c := &inv.Node("pve1").Containers[0]
	c.Config += "\n[pve:pending]\nhostname: web-new\n"
	return inv
}

// TestStopModeBackupAppliesPending (issue 9 item 2): a stop-mode backup of
// a running CT stops it and starts it again with vm_start, which applies
// the pending changes; the log has PVE's order (prune, then the clean-up,
// then the restart).
func TestStopModeBackupAppliesPending(t *testing.T) {
	e := newEnv(t, pendingInventory())
	e.sim.SetTaskDuration(time.Minute)
	upid := e.ok("POST", "/nodes/pve1/vzdump", "vmid", "100", "storage", "nas", "mode", "stop", "prune-backups", "keep-daily=7,keep-last=3").str()
	if e.sim.Running(100) {
		t.Fatal("ct 100 runs while a stop-mode backup writes its archive")
	}
	e.sim.Clock().Advance(time.Minute)
	st, log := e.taskResult(upid)
	if st["exitstatus"] != "OK" {
		t.Fatalf("%v\n%s", st, strings.Join(log, "\n"))
	}
	c := e.conf(100)
	if !e.sim.Running(100) || strings.Contains(c, "[pve:pending]") || !strings.Contains(c, "hostname: web-new\n") {
		t.Fatalf("running %v, config:\n%s", e.sim.Running(100), c)
	}
	order := []string{
		"INFO: status = running",
		"INFO: backup mode: stop",
		"INFO: stopping virtual guest",
		"INFO: prune older backups with retention: keep-daily=7, keep-last=3",
		"INFO: pruned 0 backup(s)",
		"INFO: restarting vm",
		"INFO: guest is online again after 60 seconds",
		"INFO: Finished Backup of VM 100 (00:01:00)",
	}
	i := 0
	for _, l := range log {
		if i < len(order) && l == order[i] {
			i++
		}
	}
	if i != len(order) {
		t.Fatalf("log lacks %q in order:\n%s", order[i], strings.Join(log, "\n"))
	}
}

// TestSnapshotModeCleanupAfterPrune (issue 9 item 9): the temporary
// snapshot is removed in the clean-up, after the prune lines.
func TestSnapshotModeCleanupAfterPrune(t *testing.T) {
	e := newEnv(t, backupInventory())
	_, log := e.task("POST", "/nodes/pve1/vzdump", "vmid", "100", "storage", "nas", "notes-template", "", "prune-backups", "keep-last=5")
	joined := strings.Join(log, "\n")
	p := strings.Index(joined, "INFO: pruned 0 backup(s)")
	c := strings.Index(joined, "INFO: cleanup temporary 'vzdump' snapshot")
	if p < 0 || c < p || strings.Contains(joined, "adding notes") {
		t.Fatalf("prune at %d, cleanup at %d:\n%s", p, c, joined)
	}
}

// TestVzdumpOtherNodesOK (issue 9 item 9): guests all on other nodes: the
// call answers "OK", no task.
func TestVzdumpOtherNodesOK(t *testing.T) {
	e := newEnv(t, backupInventory())
	if r := e.ok("POST", "/nodes/pve1/vzdump", "vmid", "200", "storage", "nas"); r.str() != "OK" {
		t.Fatalf("answer %s", r.raw)
	}
	if n := len(e.sim.taskList); n != 0 {
		t.Fatalf("%d tasks started", n)
	}
}

// TestRollbackRestoresVolumeSize (issue 9 item 3): lvmthin rolls back by
// replacing the volume with the snapshot's (LvmThinPlugin
// volume_snapshot_rollback), zfspool subvols get their tracked refquota
// back (ZFSPoolPlugin, fix #6561): after a grow and a rollback the volume
// has the snapshot's size again, and can be grown again.
func TestRollbackRestoresVolumeSize(t *testing.T) {
	for _, tc := range []struct {
		vmid    string
		storage string
		volume  string
		before  float64
	}{
		{"100", "local-lvm", "local-lvm:vm-100-disk-0", 8 << 30},
		{"103", "tank", "tank:subvol-103-disk-0", 16 << 30},
	} {
		t.Run(tc.storage, func(t *testing.T) {
			e := newEnv(t, backupInventory())
			size := func() float64 {
				for _, it := range e.ok("GET", "/nodes/pve1/storage/"+tc.storage+"/content").list() {
					if m := it.(map[string]any); m["volid"] == tc.volume {
						return m["size"].(float64)
					}
				}
				t.Fatalf("%s not listed", tc.volume)
				return 0
			}
			base := "/nodes/pve1/lxc/" + tc.vmid
			e.task("POST", base+"/snapshot", "snapname", "before")
			if st, log := e.task("PUT", base+"/resize", "disk", "rootfs", "size", "+2G"); st["exitstatus"] != "OK" {
				t.Fatalf("resize: %v %v", st, log)
			}
			if got := size(); got != tc.before+2<<30 {
				t.Fatalf("after grow %v", got)
			}
			if st, log := e.task("POST", base+"/snapshot/before/rollback"); st["exitstatus"] != "OK" {
				t.Fatalf("rollback: %v %v", st, log)
			}
			if got := size(); got != tc.before {
				t.Fatalf("after rollback the volume is %v bytes, the snapshot's was %v", got, tc.before)
			}
			if st, log := e.task("PUT", base+"/resize", "disk", "rootfs", "size", "+2G"); st["exitstatus"] != "OK" {
				t.Fatalf("grow again: %v %v", st, log)
			}
		})
	}
}

// TestRollbackKeepsSize (issue 10 item 5): a storage whose snapshots do not
// keep the size (zfspool before pve-storage "fix #6561", inventory
// rollback_keeps_size) brings the config's size= back on rollback and
// leaves the volume grown; resize_vm then compares with the volume, so a
// resize to the config's old target is refused.
func TestRollbackKeepsSize(t *testing.T) {
	inv := backupInventory()
	for _, st := range inv.Node("pve1").Storages {
		if st.ID == "tank" {
			st.RollbackKeepsSize = true
		}
	}
	e := newEnv(t, inv)
	base := "/nodes/pve1/lxc/103"
	e.task("POST", base+"/snapshot", "snapname", "before")
	if st, log := e.task("PUT", base+"/resize", "disk", "rootfs", "size", "18G"); st["exitstatus"] != "OK" {
		t.Fatalf("resize: %v %v", st, log)
	}
	if st, log := e.task("POST", base+"/snapshot/before/rollback"); st["exitstatus"] != "OK" {
		t.Fatalf("rollback: %v %v", st, log)
	}
	var size float64
	for _, it := range e.ok("GET", "/nodes/pve1/storage/tank/content").list() {
		if m := it.(map[string]any); m["volid"] == "tank:subvol-103-disk-0" {
			size = m["size"].(float64)
		}
	}
	if size != 18<<30 || !strings.Contains(e.conf(103), "size=16G") {
		t.Fatalf("after rollback: volume %v bytes, config:\n%s", size, e.conf(103))
	}
	if r := e.call("PUT", base+"/resize", "disk", "rootfs", "size", "18G"); r.status != 500 || !strings.Contains(r.reason, "disk is already at specified size") {
		t.Errorf("resize to the size the volume has: %d %s", r.status, r.reason)
	}
}

// TestRebootIgnoresLocks (issue 9 item 4): vm_reboot checks no lock, so a
// reboot during a backup's lock goes through (and applies pending
// changes); start, stop and shutdown check the lock inside their task.
func TestRebootIgnoresLocks(t *testing.T) {
	e := newEnv(t, pendingInventory())
	if err := e.sim.HoldLock(100, "backup", time.Hour); err != nil {
		t.Fatal(err)
	}
	st, log := e.task("POST", "/nodes/pve1/lxc/100/status/reboot")
	if st["exitstatus"] != "OK" || !e.sim.Running(100) || !strings.Contains(e.conf(100), "hostname: web-new\n") {
		t.Fatalf("reboot under lock backup: %v %v\n%s", st, log, e.conf(100))
	}
	// During a running vzdump task (snapshot mode) too.
	e.sim.Clock().Advance(time.Hour)
	e.sim.SetTaskDuration(time.Minute)
	dump := e.ok("POST", "/nodes/pve1/vzdump", "vmid", "100", "storage", "nas").str()
	reboot := e.ok("POST", "/nodes/pve1/lxc/100/status/reboot").str()
	e.sim.Clock().Advance(time.Minute)
	for _, upid := range []string{dump, reboot} {
		if st, log := e.taskResult(upid); st["exitstatus"] != "OK" {
			t.Fatalf("reboot during vzdump: %v %v", st, log)
		}
	}
	e.sim.SetTaskDuration(0)
	if err := e.sim.HoldLock(100, "backup", time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"shutdown", "stop"} {
		st, log := e.task("POST", "/nodes/pve1/lxc/100/status/"+cmd)
		if st["exitstatus"] != "CT is locked (backup)" || !e.sim.Running(100) {
			t.Fatalf("%s under lock: %v %v", cmd, st, log)
		}
	}
}

// TestPowerChecksInTask (issue 9 item 9): the lock and template checks of
// start are in the worker (a UPID, then the task fails); a missing CT's
// start fails in its task too.
func TestPowerChecksInTask(t *testing.T) {
	inv := backupInventory()
	inv.Node("pve1").AddContainer(104, false, "arch: amd64\nhostname: tpl\nmemory: 512\nostype: debian\nrootfs: local-lvm:base-104-disk-0,size=8G\ntemplate: 1\n")
	e := newEnv(t, inv)
	if err := e.sim.HoldLock(101, "snapshot", time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ vmid, exit string }{
		{"101", "CT is locked (snapshot)"},
		{"104", "you can't start a CT if it's a template"},
		{"999", "Configuration file 'nodes/pve1/lxc/999.conf' does not exist"},
	} {
		st, log := e.task("POST", "/nodes/pve1/lxc/"+tc.vmid+"/status/start")
		if st["exitstatus"] != tc.exit || log[len(log)-1] != "TASK ERROR: "+tc.exit {
			t.Errorf("start %s: %v %v", tc.vmid, st, log)
		}
	}
	runErrCases(t, e, []errCase{
		{name: "stop a missing CT", method: "POST", path: "/nodes/pve1/lxc/999/status/stop", status: 500, msg: "CT 999 not running"},
		{name: "reboot a stopped CT", method: "POST", path: "/nodes/pve1/lxc/101/status/reboot", status: 500, msg: "VM 101 not running"},
	})
}

// TestPendingFailureIsNoWarning (issue 9 item 9): a pending change that
// fails at start is vmconfig_apply_pending's plain warn: a log line, the
// task ends OK.
func TestPendingFailureIsNoWarning(t *testing.T) {
	inv := backupInventory()
	c := &inv.Node("pve1").Containers[1] // ct 101, stopped
	c.Config += "\n[pve:pending]\nmp1: nosuch:4,mp=/data\n"
	e := newEnv(t, inv)
	st, log := e.task("POST", "/nodes/pve1/lxc/101/status/start")
	joined := strings.Join(log, "\n")
	if st["exitstatus"] != "OK" || !strings.Contains(joined, "unable to apply pending change mp1 : ") || strings.Contains(joined, "WARN") {
		t.Fatalf("%v\n%s", st, joined)
	}
}

// TestContainerIndex (issue 9 item 7): the container index lists
// vmdiridx's subdirectories in its order.
func TestContainerIndex(t *testing.T) {
	e := newEnv(t, backupInventory())
	var got []string
	for _, it := range e.ok("GET", "/nodes/pve1/lxc/100").list() {
		got = append(got, it.(map[string]any)["subdir"].(string))
	}
	want := "config pending status vncproxy termproxy vncwebsocket spiceproxy migrate clone rrd rrddata firewall snapshot resize interfaces"
	if strings.Join(got, " ") != want {
		t.Fatalf("index %v", got)
	}
}

// TestTaskLogTotal (issue 9 item 9): the task log answer carries the
// number of log lines as "total" beside "data".
func TestTaskLogTotal(t *testing.T) {
	e := newEnv(t, backupInventory())
	upid := e.ok("POST", "/nodes/pve1/lxc/100/snapshot", "snapname", "s1").str()
	r := e.ok("GET", "/nodes/pve1/tasks/"+upid+"/log", "limit", "1")
	_, log := e.taskResult(upid)
	if r.body["total"] != float64(len(log)) || len(r.list()) != 1 {
		t.Fatalf("total %v, %d lines: %s", r.body["total"], len(log), r.raw)
	}
}

// TestSnapshotMissingCTFailsInTask (issue 9 item 9): a snapshot of a
// missing vmid is a UPID whose task fails.
func TestSnapshotMissingCTFailsInTask(t *testing.T) {
	e := newEnv(t, backupInventory())
	st, _ := e.task("POST", "/nodes/pve1/lxc/999/snapshot", "snapname", "s1")
	if st["exitstatus"] != "Configuration file 'nodes/pve1/lxc/999.conf' does not exist" {
		t.Fatalf("%v", st)
	}
}

// TestStatusCurrentType (issue 9 item 7): status/current carries
// vmstatus's type: lxc.
func TestStatusCurrentType(t *testing.T) {
	e := newEnv(t, backupInventory())
	if got := e.ok("GET", "/nodes/pve1/lxc/100/status/current").obj()["type"]; got != "lxc" {
		t.Fatalf("type %v", got)
	}
}

// TestUnknownTaskLog (issue 9 item 9): the log of an unknown task is
// dump_logfile's one line for a missing file.
func TestUnknownTaskLog(t *testing.T) {
	e := newEnv(t, backupInventory())
	upid := "UPID:pve1:00001234:00000001:6B06B1E1:vzdump:100:admin@pve!full:"
	r := e.ok("GET", "/nodes/pve1/tasks/"+upid+"/log")
	if string(r.raw) != `{"data":[{"n":1,"t":"unable to open file - No such file or directory"}],"total":1}` {
		t.Fatalf("%s", r.raw)
	}
}

// TestMissingPrivilegesToAccess (issue 9 item 9): check_volume_access
// dies "missing privileges to access X", a 500, for a volume without an
// owner vmid when the caller lacks Datastore.Allocate: a renamed backup
// archive to restore, a volume name without a vmid to mount. The owner's
// own backup needs no VM.Backup.
func TestMissingPrivilegesToAccess(t *testing.T) {
	inv := baseInventory()
	nas := invStorage(inv, "pve1", "nas")
	nas.AddBackup(Backup{Volid: "nas:backup/before-upgrade.tar.zst", CTime: testStart.Add(-time.Hour).Unix()})
	nas.AddBackup(Backup{Volid: "nas:backup/vzdump-lxc-150-2026_11_20-02_00_00.tar.zst"})
	inv.AddUser("dsu@pve", Role("/storage", "PVEDatastoreUser"), Privs("/vms", "VM.Allocate", "VM.Audit", "VM.Config.Disk", "VM.Config.Options", "VM.Config.Memory")).AddToken("tk", "secret-dsu", false)
	e := newEnv(t, inv)
	dsu := e.as("dsu@pve!tk=secret-dsu")
	r := dsu.call("POST", "/nodes/pve1/lxc", "vmid", "160", "restore", "1", "ostemplate", "nas:backup/before-upgrade.tar.zst", "storage", "local-lvm")
	if r.status != 500 || r.reason != "missing privileges to access nas:backup/before-upgrade.tar.zst" {
		t.Errorf("renamed archive: %d %s", r.status, r.reason)
	}
	// Restoring vmid 150's own backup to vmid 150: the owner needs no VM.Backup.
	if st, log := dsu.task("POST", "/nodes/pve1/lxc", "vmid", "150", "restore", "1", "ostemplate", "nas:backup/vzdump-lxc-150-2026_11_20-02_00_00.tar.zst", "storage", "local-lvm"); st["exitstatus"] != "OK" {
		t.Errorf("own backup: %v\n%s", st, strings.Join(log, "\n"))
	}
	// Someone else's backup needs VM.Backup on its owner.
	if r := dsu.call("POST", "/nodes/pve1/lxc", "vmid", "161", "restore", "1", "ostemplate", "nas:backup/vzdump-lxc-150-2026_11_20-02_00_00.tar.zst", "storage", "local-lvm"); r.status != 403 || r.reason != "Permission check failed (/vms/150, VM.Backup)" {
		t.Errorf("other's backup: %d %s", r.status, r.reason)
	}
	if r := dsu.call("PUT", "/nodes/pve1/lxc/103/config", "mp1", "tank:mydata,mp=/data"); r.status != 500 || r.reason != "missing privileges to access tank:mydata" {
		t.Errorf("mount without owner: %d %s", r.status, r.reason)
	}
	// With Datastore.Allocate (admin) the same calls pass the check.
	if r := e.call("PUT", "/nodes/pve1/lxc/103/config", "mp1", "tank:mydata,mp=/data"); r.status == 500 && strings.HasPrefix(r.reason, "missing privileges") {
		t.Errorf("admin: %d %s", r.status, r.reason)
	}
}

// TestAttachRescansSize (issue 9 item 9): attaching an existing volume
// writes the volume's own size (apply_pending_mountpoint's
// $rescan_volume), not the size= the call gave.
func TestAttachRescansSize(t *testing.T) {
	inv := baseInventory()
	inv.Node("pve1").Containers[3].Config += "unused0: tank:subvol-103-disk-1\n"
	e := newEnv(t, inv)
	e.sim.mu.Lock()
	e.sim.node["pve1"].storage["tank"].volumes["subvol-103-disk-1"].size = 3 << 30
	e.sim.mu.Unlock()
	e.ok("PUT", "/nodes/pve1/lxc/103/config", "mp0", "tank:subvol-103-disk-1,mp=/data,size=1G")
	if c := e.conf(103); !strings.Contains(c, "mp0: tank:subvol-103-disk-1,mp=/data,size=3G\n") {
		t.Fatalf("config:\n%s", c)
	}
}

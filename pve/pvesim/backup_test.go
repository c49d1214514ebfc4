package pvesim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func backupInventory() *Inventory {
	inv := baseInventory()
	inv.Node("pve1").Timezone = "Europe/Budapest"
	inv.Node("pve1").Containers[2].Running = true // ct 102 on dir storage, running
	inv.AddUser("backup@pve", Role("/storage", "PVEDatastoreUser"), Privs("/vms", "VM.Audit")).AddToken("bk", "secret-bk", false)
	return inv
}

func backupVolids(e *env, storage string) []string {
	var out []string
	for _, it := range e.ok("GET", "/nodes/pve1/storage/"+storage+"/content", "content", "backup").list() {
		out = append(out, it.(map[string]any)["volid"].(string))
	}
	return out
}

func hasLine(log []string, line string) bool {
	for _, l := range log {
		if l == line {
			return true
		}
	}
	return false
}

func TestVzdumpRules(t *testing.T) {
	e := newEnv(t, backupInventory())

	t.Run("task, lock, archive name in local time, notes, protected", func(t *testing.T) {
		e.sim.SetTaskDuration(time.Minute)
		defer e.sim.SetTaskDuration(0)
		upid := e.ok("POST", "/nodes/pve1/vzdump", "vmid", "100", "storage", "nas", "mode", "snapshot", "compress", "zstd",
			"notes-template", "{{guestname}} on {{node}} in {{cluster}}", "protected", "1").str()
		if !strings.Contains(upid, ":vzdump:100:admin@pve!full:") {
			t.Fatalf("UPID %s", upid)
		}
		// Snapshot mode: lock backup, plus the temporary [vzdump] snapshot
		// (parent: vzdump) while the archive is written.
		if c := e.conf(100); !strings.Contains(c, "lock: backup\n") || !strings.Contains(c, "\n[vzdump]\n#vzdump backup snapshot\n") || !strings.Contains(c, "parent: vzdump\n") {
			t.Fatalf("during the task:\n%s", c)
		}
		runErrCases(t, e, []errCase{{name: "put during backup", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"cores", "1"}, status: 500, msg: "CT is locked (backup)"}})
		e.sim.Clock().Advance(time.Minute)
		st, log := e.taskResult(upid)
		if st["exitstatus"] != "OK" || log[len(log)-1] != "TASK OK" {
			t.Fatalf("%v\n%s", st, strings.Join(log, "\n"))
		}
		if c := e.conf(100); strings.Contains(c, "lock:") || strings.Contains(c, "vzdump") || strings.Contains(c, "parent:") {
			t.Fatalf("left behind:\n%s", c)
		}
		// 10:00 UTC is 11:00 in Budapest in November.
		const want = "nas:backup/vzdump-lxc-100-2026_11_25-11_00_00.tar.zst"
		var got map[string]any
		for _, it := range e.ok("GET", "/nodes/pve1/storage/nas/content").list() {
			if m := it.(map[string]any); m["volid"] == want {
				got = m
			}
		}
		if got == nil || got["notes"] != "web on pve1 in lab" || got["protected"] != float64(1) || got["ctime"] != float64(testStart.Unix()) || got["subtype"] != "lxc" || got["format"] != "tar.zst" {
			t.Fatalf("backup entry %v", got)
		}
		for _, line := range []string{"INFO: backup mode: snapshot", "INFO: including mount point rootfs ('/') in backup", "INFO: including mount point mp0 ('/srv') in backup", "INFO: adding notes to backup", "INFO: marking backup as protected"} {
			if !hasLine(log, line) {
				t.Errorf("log lacks %q:\n%s", line, strings.Join(log, "\n"))
			}
		}
	})
	t.Run("mode fallback and exclusions", func(t *testing.T) {
		for _, tc := range []struct {
			vmid  string
			lines []string
		}{
			{"102", []string{"INFO: mode failure - some volumes do not support snapshots", "INFO: trying 'suspend' mode instead", "INFO: backup mode: suspend"}},
			{"101", []string{"INFO: excluding bind mount point mp0 ('/media') from backup (not a volume)", "INFO: backup mode: stop"}},
		} {
			st, log := e.task("POST", "/nodes/pve1/vzdump", "vmid", tc.vmid, "storage", "nas")
			if st["exitstatus"] != "OK" {
				t.Fatalf("%s: %v %v", tc.vmid, st, log)
			}
			for _, line := range tc.lines {
				if !hasLine(log, line) {
					t.Errorf("%s: log lacks %q:\n%s", tc.vmid, line, strings.Join(log, "\n"))
				}
			}
		}
	})
	t.Run("compress", func(t *testing.T) {
		budapest, _ := time.LoadLocation("Europe/Budapest")
		for _, tc := range []struct{ compress, ext string }{{"0", ".tar"}, {"gzip", ".tar.gz"}, {"lzo", ".tar.lzo"}, {"1", ".tar.lzo"}} {
			e.sim.Clock().Advance(time.Second)
			e.task("POST", "/nodes/pve1/vzdump", "vmid", "103", "storage", "nas", "compress", tc.compress)
			name := "nas:backup/vzdump-lxc-103-" + e.sim.Clock().Now().In(budapest).Format("2006_01_02-15_04_05") + tc.ext
			if !strings.Contains(strings.Join(backupVolids(e, "nas"), " "), name) {
				t.Errorf("compress %s: no %s in %v", tc.compress, name, backupVolids(e, "nas"))
			}
		}
	})
	t.Run("prune after backup", func(t *testing.T) {
		before := len(backupVolids(e, "nas"))
		e.sim.Clock().Advance(time.Second)
		st, log := e.task("POST", "/nodes/pve1/vzdump", "vmid", "103", "storage", "nas", "prune-backups", "keep-last=2")
		if st["exitstatus"] != "OK" || !hasLine(log, "INFO: prune older backups with retention: keep-last=2") || !hasLine(log, "INFO: pruned 3 backup(s) not covered by keep-retention policy") {
			t.Fatalf("%v\n%s", st, strings.Join(log, "\n"))
		}
		if after := len(backupVolids(e, "nas")); after != before+1-3 {
			t.Errorf("backups %d -> %d", before, after)
		}
	})
	t.Run("several guests: empty task id", func(t *testing.T) {
		upid := e.ok("POST", "/nodes/pve1/vzdump", "vmid", "100,103", "storage", "nas").str()
		if !strings.Contains(upid, ":vzdump::admin@pve!full:") {
			t.Errorf("UPID %s", upid)
		}
		e.sim.FinishTasks()
	})
	t.Run("job errors", func(t *testing.T) {
		if err := e.sim.HoldLock(103, "snapshot", time.Hour); err != nil {
			t.Fatal(err)
		}
		defer e.sim.Clock().Advance(time.Hour)
		st, log := e.task("POST", "/nodes/pve1/vzdump", "vmid", "103,999", "storage", "nas")
		for _, line := range []string{"ERROR: Backup of VM 103 failed - CT is locked (snapshot)", "ERROR: Backup of VM 999 failed - unable to find VM '999'", "TASK ERROR: job errors"} {
			if !hasLine(log, line) {
				t.Errorf("log lacks %q:\n%s", line, strings.Join(log, "\n"))
			}
		}
		if st["exitstatus"] != "job errors" {
			t.Errorf("%v", st)
		}
		// exec_backup checks VM.Backup outside the per-guest eval: the
		// whole task dies, nothing is backed up.
		st, log = e.as("backup@pve!bk=secret-bk").task("POST", "/nodes/pve1/vzdump", "vmid", "100,103", "storage", "nas")
		if st["exitstatus"] != "Permission check failed (/vms/100, VM.Backup)" || len(log) != 2 || !strings.HasPrefix(log[0], "INFO: starting new backup job: vzdump 100 103") {
			t.Errorf("%v\n%s", st, strings.Join(log, "\n"))
		}
		// With all=1 a guest without VM.Backup is left out.
		st, log = e.as("backup@pve!bk=secret-bk").task("POST", "/nodes/pve1/vzdump", "all", "1", "storage", "nas")
		if st["exitstatus"] != "OK" || strings.Contains(strings.Join(log, "\n"), "Backup of VM") {
			t.Errorf("all=1: %v\n%s", st, strings.Join(log, "\n"))
		}
	})
	runErrCases(t, e, []errCase{
		{name: "storage without backup content", method: "POST", path: "/nodes/pve1/vzdump", kv: []string{"vmid", "100", "storage", "local-lvm"}, status: 500, msg: "storage 'local-lvm' does not support backups"},
		{name: "no guest given", method: "POST", path: "/nodes/pve1/vzdump", kv: []string{"storage", "nas"}, status: 400, errs: map[string]string{"vmid": "property is missing"}},
		{name: "notes-template unknown variable and escape", method: "POST", path: "/nodes/pve1/vzdump", kv: []string{"vmid", "100", "storage", "nas", "notes-template", `{{guestname}} \t {{host}}`}, status: 400,
			errs: map[string]string{"notes-template": "found unknown: escape sequence '\\t' at char 14, variable 'host' at char 21\n"}},
		{name: "notes-template with a line feed", method: "POST", path: "/nodes/pve1/vzdump", kv: []string{"vmid", "100", "storage", "nas", "notes-template", "a\nb"}, status: 400,
			errs: map[string]string{"notes-template": "contains a line feed\n"}},
		{name: "exclude with vmid", method: "POST", path: "/nodes/pve1/vzdump", kv: []string{"vmid", "100", "exclude", "101", "storage", "nas"}, status: 400,
			errs: map[string]string{"exclude": "option conflicts with option 'vmid'"}},
		{name: "prune-backups needs Allocate", token: "backup@pve!bk=secret-bk", method: "POST", path: "/nodes/pve1/vzdump", kv: []string{"vmid", "100", "storage", "nas", "prune-backups", "keep-last=1"}, status: 403,
			msg: "Permission check failed (/storage/nas, Datastore.Allocate)"},
	})
}

func TestRestore(t *testing.T) {
	e := newEnv(t, backupInventory())
	e.task("POST", "/nodes/pve1/vzdump", "vmid", "100", "storage", "nas", "compress", "zstd")
	archive := "nas:backup/vzdump-lxc-100-2026_11_25-11_00_00.tar.zst"
	st, log := e.task("POST", "/nodes/pve1/lxc", "vmid", "150", "restore", "1", "ostemplate", archive, "storage", "local-lvm", "hostname", "web-copy", "unique", "1")
	if st["exitstatus"] != "OK" || st["type"] != "vzrestore" {
		t.Fatalf("%v %v", st, log)
	}
	c := e.conf(150)
	for _, want := range []string{"hostname: web-copy\n", "rootfs: local-lvm:vm-150-disk-0,size=8G\n", "mp0: local-lvm:vm-150-disk-1,mp=/srv,backup=1,size=4G\n", "memory: 1024\n"} {
		if !strings.Contains(c, want) {
			t.Errorf("restored config lacks %q:\n%s", want, c)
		}
	}
	if strings.Contains(c, "BC:24:11:00:00:01") {
		t.Errorf("unique=1 must give a new MAC:\n%s", c)
	}
	// The archive's config, to who may restore it (VZDump.pm extractconfig).
	if got := e.ok("GET", "/nodes/pve1/vzdump/extractconfig", "volume", archive).str(); !strings.Contains(got, "hostname: web\n") || !strings.Contains(got, "BC:24:11:00:00:01") {
		t.Errorf("extractconfig: %q", got)
	}
	runErrCases(t, e, []errCase{
		{name: "extractconfig without VM.Backup", token: "backup@pve!bk=secret-bk", method: "GET", path: "/nodes/pve1/vzdump/extractconfig", kv: []string{"volume", archive}, status: 403,
			msg: "Permission check failed (/vms/100, VM.Backup)"},
		{name: "extractconfig of nothing", method: "GET", path: "/nodes/pve1/vzdump/extractconfig", kv: []string{"volume", "nas:backup/nope.tar.zst"}, status: 500, msg: "volume 'nas:backup/nope.tar.zst' does not exist"},
	})
	// With unique, the archive's interface replaces one given for its slot
	// (Create.pm sanitize_and_merge_config); without, the given one wins.
	for _, tc := range []struct {
		vmid           int
		unique, bridge string
	}{{152, "1", "bridge=vmbr0"}, {153, "0", "bridge=vmbr9"}} {
		st, log := e.task("POST", "/nodes/pve1/lxc", "vmid", strconv.Itoa(tc.vmid), "restore", "1", "ostemplate", archive, "storage", "local-lvm", "unique", tc.unique,
			"net0", "name=eth0,bridge=vmbr9,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp")
		if st["exitstatus"] != "OK" {
			t.Fatalf("%v %v", st, log)
		}
		c := e.conf(tc.vmid)
		if !strings.Contains(c, tc.bridge) || (tc.unique == "1") == strings.Contains(c, "BC:24:11:AA:BB:CC") {
			t.Errorf("unique=%s with net0 given: want %s and the given MAC only without unique:\n%s", tc.unique, tc.bridge, c)
		}
	}
	runErrCases(t, e, []errCase{
		{name: "exists", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "150", "restore", "1", "ostemplate", archive, "storage", "local-lvm"}, status: 500, msg: "CT 150 already exists on node 'pve1'"},
		{name: "running, force", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "100", "restore", "1", "force", "1", "ostemplate", archive, "storage", "local-lvm"}, status: 500, msg: "can't overwrite running container"},
		{name: "missing archive", method: "POST", path: "/nodes/pve1/lxc", kv: []string{"vmid", "151", "restore", "1", "ostemplate", "nas:backup/nope.tar.zst", "storage", "local-lvm"}, status: 500, msg: "volume 'nas:backup/nope.tar.zst' does not exist"},
	})
	st, _ = e.task("POST", "/nodes/pve1/lxc", "vmid", "150", "restore", "1", "force", "1", "ostemplate", archive, "storage", "local-lvm")
	if st["exitstatus"] != "OK" || !strings.Contains(e.conf(150), "hostname: web\n") {
		t.Fatalf("overwrite: %v\n%s", st, e.conf(150))
	}
}

func pruneInventory() *Inventory {
	inv := backupInventory()
	nas := inv.Node("pve1").Storages[3]
	for _, b := range []Backup{
		{Volid: "nas:backup/vzdump-lxc-300-2026_11_25-02_00_00.tar.zst"},
		{Volid: "nas:backup/vzdump-lxc-300-2026_11_24-02_00_00.tar.zst"},
		{Volid: "nas:backup/vzdump-lxc-300-2026_11_24-01_00_00.tar.zst"},
		{Volid: "nas:backup/vzdump-lxc-300-2026_11_23-02_00_00.tar.zst", Protected: true},
		{Volid: "nas:backup/vzdump-lxc-300-2026_11_22-02_00_00.tar.zst"},
		{Volid: "nas:backup/vzdump-lxc-300-2026_11_21-02_00_00.tar.zst"},
		{Volid: "nas:backup/vzdump-qemu-300-2026_11_20-02_00_00.vma.zst"},
		{Volid: "nas:backup/my-copy-of-300.tar.zst", CTime: 1700000000},
	} {
		nas.AddBackup(b)
	}
	return inv
}

func TestPruneRules(t *testing.T) {
	e := newEnv(t, pruneInventory())
	marks := func(kv ...string) string {
		var out []string
		for _, it := range e.ok("GET", "/nodes/pve1/storage/nas/prunebackups", kv...).list() {
			m := it.(map[string]any)
			name := strings.TrimPrefix(m["volid"].(string), "nas:backup/")
			out = append(out, name+"="+m["mark"].(string))
		}
		return strings.Join(out, " ")
	}
	got := marks("prune-backups", "keep-daily=2", "vmid", "300", "type", "lxc")
	// Newest first per day; the 23rd is protected and counts toward
	// nothing; the renamed archive has no type and is filtered out by type.
	want := "vzdump-lxc-300-2026_11_21-02_00_00.tar.zst=remove vzdump-lxc-300-2026_11_22-02_00_00.tar.zst=remove vzdump-lxc-300-2026_11_23-02_00_00.tar.zst=protected vzdump-lxc-300-2026_11_24-01_00_00.tar.zst=remove vzdump-lxc-300-2026_11_24-02_00_00.tar.zst=keep vzdump-lxc-300-2026_11_25-02_00_00.tar.zst=keep"
	if got != want {
		t.Errorf("keep-daily=2:\n got %s\nwant %s", got, want)
	}
	// A renamed archive carries no vmid, so only a listing without the vmid
	// filter shows it.
	if got := marks("prune-backups", "keep-last=1"); !strings.Contains(got, "my-copy-of-300.tar.zst=renamed") || !strings.Contains(got, "vzdump-qemu-300-2026_11_20-02_00_00.vma.zst=keep") {
		t.Errorf("keep-last=1 (both types): %s", got)
	}
	if got := marks("vmid", "300"); strings.Contains(got, "remove") {
		t.Errorf("no option means keep-all: %s", got)
	}
	for _, it := range e.ok("GET", "/nodes/pve1/storage/nas/prunebackups").list() {
		m := it.(map[string]any)
		if m["volid"] == "nas:backup/my-copy-of-300.tar.zst" && (m["ctime"] != float64(1700000000) || m["type"] != "unknown") {
			t.Errorf("renamed entry %v", m)
		}
	}

	upid := e.ok("DELETE", "/nodes/pve1/storage/nas/prunebackups", "prune-backups", "keep-daily=2", "vmid", "300", "type", "lxc").str()
	if !regexp.MustCompile(`:prunebackups:300@nas:`).MatchString(upid) {
		t.Errorf("UPID %s", upid)
	}
	e.sim.FinishTasks()
	st, log := e.taskResult(upid)
	if st["exitstatus"] != "OK" || !hasLine(log, "info: removing backup 'nas:backup/vzdump-lxc-300-2026_11_21-02_00_00.tar.zst'") {
		t.Fatalf("%v\n%s", st, strings.Join(log, "\n"))
	}
	left := strings.Join(backupVolids(e, "nas"), " ")
	for _, gone := range []string{"2026_11_21", "2026_11_22", "2026_11_24-01"} {
		if strings.Contains(left, "vzdump-lxc-300-"+gone) {
			t.Errorf("%s not removed: %s", gone, left)
		}
	}
	for _, kept := range []string{"lxc-300-2026_11_23", "lxc-300-2026_11_25", "qemu-300", "my-copy-of-300"} {
		if !strings.Contains(left, kept) {
			t.Errorf("%s removed: %s", kept, left)
		}
	}
}

func TestStorageListing(t *testing.T) {
	e := newEnv(t, baseInventory())
	var ids []string
	for _, it := range e.ok("GET", "/nodes/pve1/storage", "content", "backup").list() {
		m := it.(map[string]any)
		ids = append(ids, m["storage"].(string))
		if m["total"].(float64) <= 0 || m["active"] != float64(1) {
			t.Errorf("%v", m)
		}
	}
	if strings.Join(ids, ",") != "local,nas" {
		t.Errorf("backup storages %v", ids)
	}
	vols := e.ok("GET", "/nodes/pve1/storage/local-lvm/content", "vmid", "100").list()
	if len(vols) != 2 || vols[0].(map[string]any)["volid"] != "local-lvm:vm-100-disk-0" || vols[0].(map[string]any)["size"] != float64(8<<30) {
		t.Errorf("volumes %v", vols)
	}
}

// TestPruneAlgorithmThroughAPI: PVE's passes (keep-last, hourly, daily,
// ISO weekly, monthly, yearly) through GET prunebackups, in the node's
// local time.
func TestPruneAlgorithmThroughAPI(t *testing.T) {
	inv := backupInventory()
	nas := inv.Node("pve1").Storages[3]
	dates := []string{"2026_11_25-02_00_00", "2026_11_24-02_00_00", "2026_11_17-02_00_00", "2026_11_10-02_00_00",
		"2026_10_15-02_00_00", "2026_09_15-02_00_00", "2025_12_31-02_00_00", "2024_06_01-02_00_00"}
	for _, d := range dates {
		nas.AddBackup(Backup{Volid: "nas:backup/vzdump-lxc-400-" + d + ".tar.zst"})
	}
	e := newEnv(t, inv)
	for _, tc := range []struct {
		keep string
		kept string // the dates marked keep, newest first
	}{
		{"keep-last=3", "2026_11_25 2026_11_24 2026_11_17"},
		{"keep-hourly=2", "2026_11_25 2026_11_24"},
		{"keep-daily=3", "2026_11_25 2026_11_24 2026_11_17"},
		{"keep-weekly=2", "2026_11_25 2026_11_17"}, // 24th shares ISO week 48 with the 25th
		{"keep-weekly=5", "2026_11_25 2026_11_17 2026_11_10 2026_10_15 2026_09_15"},
		{"keep-monthly=3", "2026_11_25 2026_10_15 2026_09_15"},
		{"keep-yearly=2", "2026_11_25 2025_12_31"},
		{"keep-last=1,keep-yearly=2", "2026_11_25 2025_12_31 2024_06_01"}, // 2026 already kept by keep-last
		{"keep-daily=1,keep-monthly=2", "2026_11_25 2026_10_15 2026_09_15"},
		{"keep-all=1", strings.Join([]string{"2026_11_25", "2026_11_24", "2026_11_17", "2026_11_10", "2026_10_15", "2026_09_15", "2025_12_31", "2024_06_01"}, " ")},
	} {
		t.Run(tc.keep, func(t *testing.T) {
			var kept []string
			for _, it := range e.ok("GET", "/nodes/pve1/storage/nas/prunebackups", "prune-backups", tc.keep, "vmid", "400").list() {
				m := it.(map[string]any)
				if m["mark"] == "keep" {
					kept = append(kept, strings.TrimPrefix(m["volid"].(string), "nas:backup/vzdump-lxc-400-")[:10])
				}
			}
			// The listing is sorted by volid (oldest first); compare newest first.
			for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
				kept[i], kept[j] = kept[j], kept[i]
			}
			if got := strings.Join(kept, " "); got != tc.kept {
				t.Errorf("kept %s, want %s", got, tc.kept)
			}
		})
	}
}

// TestVzdumpRetentionChoice: vzdump takes its retention as the prune
// endpoints do (VZDump.pm "$opts->{'prune-backups'} //= storage's"): the
// parameter when given, even empty (nothing to keep by, so all are kept),
// else the storage's prune-backups.
func TestVzdumpRetentionChoice(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kv     []string
		pruned bool
	}{
		{"storage's setting", nil, true},
		{"empty parameter keeps all", []string{"prune-backups", ""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := backupInventory()
			var nas *Storage
			for _, st := range inv.Node("pve1").Storages {
				if st.ID == "nas" {
					nas = st
				}
			}
			nas.PruneBackups = "keep-last=1"
			nas.AddBackup(Backup{Volid: "nas:backup/vzdump-lxc-103-2026_11_20-02_00_00.tar.zst"})
			nas.AddBackup(Backup{Volid: "nas:backup/vzdump-lxc-103-2026_11_21-02_00_00.tar.zst"})
			e := newEnv(t, inv)
			st, log := e.task("POST", "/nodes/pve1/vzdump", append([]string{"vmid", "103", "storage", "nas"}, tc.kv...)...)
			if st["exitstatus"] != "OK" {
				t.Fatalf("%v\n%s", st, strings.Join(log, "\n"))
			}
			want := 3
			if tc.pruned {
				want = 1
			}
			if got := backupVolids(e, "nas"); len(got) != want || hasLine(log, "INFO: prune older backups with retention: keep-last=1") != tc.pruned {
				t.Errorf("backups %v (want %d), log:\n%s", got, want, strings.Join(log, "\n"))
			}
		})
	}
}

// A restore takes the archive's interfaces over: PVE checks SDN.Use on
// their bridges before it makes the disks (create_vm's early
// check_bridge_access), so a token without it fails the task and no
// container is left.
func TestRestoreChecksTheArchivesBridges(t *testing.T) {
	inv := backupInventory()
	inv.AddUser("restorer@pve", Role("/vms", "PVEVMAdmin"), Role("/storage", "PVEDatastoreUser")).AddToken("rs", "secret-rs", false)
	e := newEnv(t, inv)
	e.task("POST", "/nodes/pve1/vzdump", "vmid", "100", "storage", "nas", "compress", "zstd")
	archive := "nas:backup/vzdump-lxc-100-2026_11_25-11_00_00.tar.zst"
	st, log := e.as("restorer@pve!rs=secret-rs").task("POST", "/nodes/pve1/lxc", "vmid", "154", "restore", "1", "ostemplate", archive, "storage", "local-lvm")
	if !strings.Contains(fmt.Sprint(st["exitstatus"]), "unable to restore CT 154 - Permission check failed (/sdn/zones/localnetwork/vmbr0, SDN.Use)") {
		t.Errorf("restore without SDN.Use: %v %v", st, log)
	}
	if _, ok := e.sim.ConfigText(154); ok {
		t.Error("a failed restore left ct 154")
	}
	// A privileged one asks Sys.Modify on / (create_vm: "implicit
	// privileged change, or creating a new privileged container").
	st, log = e.as("restorer@pve!rs=secret-rs").task("POST", "/nodes/pve1/lxc", "vmid", "155", "restore", "1", "ostemplate", archive, "storage", "local-lvm",
		"unprivileged", "0", "net0", "name=eth0,ip=dhcp")
	if !strings.Contains(fmt.Sprint(st["exitstatus"]), "unable to restore CT 155 - Permission check failed (/, Sys.Modify)") {
		t.Errorf("privileged restore without Sys.Modify: %v %v", st, log)
	}
}

package pvesim

import (
	"strings"
	"testing"
	"time"
)

// snapTask runs a snapshot-type task to its end and returns exitstatus and
// the last log line.
func snapTask(t *testing.T, e *env, method, path string, kv ...string) (string, string) {
	t.Helper()
	st, log := e.task(method, path, kv...)
	exit, _ := st["exitstatus"].(string)
	return exit, log[len(log)-1]
}

func TestSnapshotRules(t *testing.T) {
	e := newEnv(t, baseInventory())
	runErrCases(t, e, []errCase{
		{name: "reserved current", method: "POST", path: "/nodes/pve1/lxc/100/snapshot", kv: []string{"snapname", "current"}, status: 500,
			msg: "unable to use snapshot name 'current' (reserved name)"},
		{name: "reserved vzdump", method: "POST", path: "/nodes/pve1/lxc/100/snapshot", kv: []string{"snapname", "vzdump"}, status: 500,
			msg: "unable to use snapshot name 'vzdump' (reserved name)"},
	})
	for _, tc := range []struct {
		name     string
		method   string
		path     string
		kv       []string
		wantExit string
	}{
		{"lvmthin volumes", "POST", "/nodes/pve1/lxc/100/snapshot", []string{"snapname", "s1", "description", "first"}, "OK"},
		{"name already used", "POST", "/nodes/pve1/lxc/100/snapshot", []string{"snapname", "s1"}, "snapshot name 's1' already used"},
		{"bind mount blocks", "POST", "/nodes/pve1/lxc/101/snapshot", []string{"snapname", "s1"}, "snapshot feature is not available"},
		{"dir storage cannot", "POST", "/nodes/pve1/lxc/102/snapshot", []string{"snapname", "s1"}, "snapshot feature is not available"},
		{"zfs first", "POST", "/nodes/pve1/lxc/103/snapshot", []string{"snapname", "z1"}, "OK"},
		{"zfs second", "POST", "/nodes/pve1/lxc/103/snapshot", []string{"snapname", "z2"}, "OK"},
		{"zfs rollback not most recent", "POST", "/nodes/pve1/lxc/103/snapshot/z1/rollback", nil, "can't rollback, 'z1' is not most recent snapshot on 'tank:subvol-103-disk-0'"},
		{"zfs rollback most recent", "POST", "/nodes/pve1/lxc/103/snapshot/z2/rollback", nil, "OK"},
		{"delete missing", "DELETE", "/nodes/pve1/lxc/100/snapshot/nope", nil, "snapshot 'nope' does not exist"},
		{"rollback missing", "POST", "/nodes/pve1/lxc/100/snapshot/nope/rollback", nil, "snapshot 'nope' does not exist"},
		{"zfs delete newest", "DELETE", "/nodes/pve1/lxc/103/snapshot/z2", nil, "OK"},
		{"zfs rollback now most recent", "POST", "/nodes/pve1/lxc/103/snapshot/z1/rollback", nil, "OK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exit, last := snapTask(t, e, tc.method, tc.path, tc.kv...)
			if exit != tc.wantExit {
				t.Fatalf("exitstatus %q, want %q", exit, tc.wantExit)
			}
			wantLast := "TASK OK"
			if tc.wantExit != "OK" {
				wantLast = "TASK ERROR: " + tc.wantExit
			}
			if last != wantLast {
				t.Errorf("last log line %q, want %q", last, wantLast)
			}
		})
	}

	t.Run("list with current", func(t *testing.T) {
		list := e.ok("GET", "/nodes/pve1/lxc/100/snapshot").list()
		if len(list) != 2 {
			t.Fatalf("%v", list)
		}
		s1, cur := list[0].(map[string]any), list[1].(map[string]any)
		// PVE reads a description back from '#' lines, each ending in "\n".
		if s1["name"] != "s1" || s1["description"] != "first\n" || s1["snaptime"] != float64(testStart.Unix()) {
			t.Errorf("s1: %v", s1)
		}
		digest := e.ok("GET", "/nodes/pve1/lxc/100/config").obj()["digest"]
		if cur["name"] != "current" || cur["running"] != float64(1) || cur["parent"] != "s1" || cur["digest"] != digest || cur["description"] != "You are here!" {
			t.Errorf("current: %v", cur)
		}
	})
	t.Run("lock while the task runs", func(t *testing.T) {
		e.sim.SetTaskDuration(time.Minute)
		defer e.sim.SetTaskDuration(0)
		upid := e.ok("POST", "/nodes/pve1/lxc/100/snapshot", "snapname", "s2").str()
		if c := e.conf(100); !strings.Contains(c, "lock: snapshot\n") || !strings.Contains(c, "snapstate: prepare") {
			t.Fatalf("during the task:\n%s", c)
		}
		runErrCases(t, e, []errCase{{name: "put while snapshotting", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"cores", "3"}, status: 500, msg: "CT is locked (snapshot)"}})
		e.sim.Clock().Advance(time.Minute)
		if st, _ := e.taskResult(upid); st["exitstatus"] != "OK" {
			t.Fatalf("%v", st)
		}
		if c := e.conf(100); strings.Contains(c, "lock:") || strings.Contains(c, "snapstate") {
			t.Fatalf("after the task:\n%s", c)
		}
	})
	t.Run("locked container", func(t *testing.T) {
		if err := e.sim.HoldLock(100, "backup", time.Hour); err != nil {
			t.Fatal(err)
		}
		defer e.sim.Clock().Advance(time.Hour)
		if exit, _ := snapTask(t, e, "POST", "/nodes/pve1/lxc/100/snapshot", "snapname", "s3"); exit != "CT is locked (backup)" {
			t.Fatalf("exit %q", exit)
		}
	})
	t.Run("rollback force-stops a running container", func(t *testing.T) {
		e.ok("PUT", "/nodes/pve1/lxc/100/config", "memory", "4096")
		if exit, _ := snapTask(t, e, "POST", "/nodes/pve1/lxc/100/snapshot/s1/rollback"); exit != "OK" {
			t.Fatalf("exit %q", exit)
		}
		if e.sim.Running(100) {
			t.Error("still running after rollback without start")
		}
		if c := e.conf(100); !strings.Contains(c, "memory: 1024\n") || !strings.Contains(c, "parent: s1\n") {
			t.Errorf("after rollback:\n%s", c)
		}
		if exit, _ := snapTask(t, e, "POST", "/nodes/pve1/lxc/100/snapshot/s1/rollback", "start", "1"); exit != "OK" || !e.sim.Running(100) {
			t.Errorf("rollback with start: %q, running %v", exit, e.sim.Running(100))
		}
	})
	t.Run("snapshot config", func(t *testing.T) {
		e.ok("PUT", "/nodes/pve1/lxc/100/snapshot/s1/config", "description", "renamed")
		cfg := e.ok("GET", "/nodes/pve1/lxc/100/snapshot/s1/config").obj()
		if cfg["description"] != "renamed\n" || cfg["memory"] != float64(1024) {
			t.Errorf("%v", cfg)
		}
		snapCfg := e.ok("GET", "/nodes/pve1/lxc/100/config", "snapshot", "s1").obj()
		if snapCfg["snaptime"] != float64(testStart.Unix()) {
			t.Errorf("config?snapshot=s1: %v", snapCfg)
		}
	})
	t.Run("steered failure removes the partial snapshot", func(t *testing.T) {
		e.sim.SetTaskOutcome(TaskOutcome{Type: "vzsnapshot", Fail: "zfs error: out of space", Count: 1})
		if exit, _ := snapTask(t, e, "POST", "/nodes/pve1/lxc/100/snapshot", "snapname", "s4"); exit != "zfs error: out of space" {
			t.Fatalf("exit %q", exit)
		}
		if c := e.conf(100); strings.Contains(c, "[s4]") || strings.Contains(c, "lock:") {
			t.Fatalf("after failure:\n%s", c)
		}
		if exit, _ := snapTask(t, e, "POST", "/nodes/pve1/lxc/100/snapshot", "snapname", "s4"); exit != "OK" {
			t.Fatalf("count 1 should steer one task only: %q", exit)
		}
	})
}

// TestSnapshotCapabilityByStorage: PVE can snapshot container volumes on
// lvmthin, zfspool, rbd and btrfs, not on dir, nfs, cifs or lvm; a bind or
// device mount point blocks the whole container, and so does a volume
// mount point that cannot snapshot, backup=0 or not.
func TestSnapshotCapabilityByStorage(t *testing.T) {
	const ok, no = "OK", "snapshot feature is not available"
	for _, tc := range []struct {
		rootType string
		mp0      string // "" for none
		dataType string // type of storage "data" used by mp0
		want     string
	}{
		{"lvmthin", "", "", ok},
		{"zfspool", "", "", ok},
		{"rbd", "", "", ok},
		{"btrfs", "", "", ok},
		{"dir", "", "", no},
		{"nfs", "", "", no},
		{"cifs", "", "", no},
		{"lvm", "", "", no},
		{"lvmthin", "/mnt/data,mp=/data", "", no},
		{"lvmthin", "/dev/sdb1,mp=/data", "", no},
		{"lvmthin", "data:vm-100-disk-1,mp=/data,backup=0", "dir", no},
		{"lvmthin", "data:vm-100-disk-1,mp=/data", "zfspool", ok},
	} {
		t.Run(tc.rootType+" "+tc.mp0, func(t *testing.T) {
			inv := NewInventory("lab")
			n := inv.AddNode("pve1")
			n.AddStorage("root", tc.rootType, "rootdir")
			conf := "arch: amd64\nhostname: t\nmemory: 512\nostype: debian\nrootfs: root:vm-100-disk-0,size=4G\n"
			if tc.mp0 != "" {
				conf += "mp0: " + tc.mp0 + "\n"
			}
			if tc.dataType != "" {
				n.AddStorage("data", tc.dataType, "rootdir")
			}
			n.AddContainer(100, false, conf)
			inv.AddUser("admin@pve", Role("/", "Administrator")).AddToken("full", "secret-admin", false)
			e := newEnv(t, inv)
			has := e.ok("GET", "/nodes/pve1/lxc/100/feature", "feature", "snapshot").obj()["hasFeature"]
			if (has == float64(1)) != (tc.want == ok) {
				t.Errorf("feature snapshot: hasFeature %v", has)
			}
			if exit, _ := snapTask(t, e, "POST", "/nodes/pve1/lxc/100/snapshot", "snapname", "s1"); exit != tc.want {
				t.Fatalf("exit %q, want %q", exit, tc.want)
			}
		})
	}
}

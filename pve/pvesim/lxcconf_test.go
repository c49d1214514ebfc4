package pvesim

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/felhom/felhom/internal/testref"
	"github.com/felhom/felhom/pve/ctconf"
)

// confInventory holds one container with the given config on a node whose
// storages are named as in pve-container's snapshot test data ("local" and
// "somestore" snapshot-capable, like the test's mock storage).
func confInventory(vmid int, running bool, conf string) *Inventory {
	inv := NewInventory("lab")
	n := inv.AddNode("pve1")
	n.AddStorage("local", "lvmthin", "rootdir", "images")
	n.AddStorage("somestore", "lvmthin", "rootdir", "images")
	n.AddStorage("preserved", "lvmthin", "rootdir", "images")
	n.AddContainer(vmid, running, conf)
	inv.AddUser("admin@pve", Role("/", "Administrator")).AddToken("full", "secret-admin", false)
	return inv
}

func readConf(t *testing.T, name string) string {
	return string(testref.Read(t, filepath.Join("pve-api/lxc-conf", name)))
}

// TestLXCConfRoundTrip: every real config loads and is served back byte
// for byte, and its digest is the SHA1 of the file.
func TestLXCConfRoundTrip(t *testing.T) {
	for _, path := range testref.Glob(t, "pve-api/lxc-conf/*.conf") {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			text := readConf(t, name)
			e := newEnv(t, confInventory(104, false, text))
			if got := e.conf(104); got != text {
				t.Fatalf("config changed on load:\n%s", cmp.Diff(text, got))
			}
			f, err := ctconf.Parse([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(f.Bytes()); got != text {
				t.Fatalf("write-back changed the file:\n%s", cmp.Diff(text, got))
			}
			cfg := e.ok("GET", "/nodes/pve1/lxc/104/config", "current", "1").obj()
			if cfg["digest"] != ctconf.Digest([]byte(text)) {
				t.Errorf("digest %v, want %s", cfg["digest"], ctconf.Digest([]byte(text)))
			}
		})
	}
}

// TestSnapshotReferencePairs drives the snapshot operations through the
// HTTP API and compares the config with pve-container's expected files.
func TestSnapshotReferencePairs(t *testing.T) {
	snaptime := time.Unix(1234567890, 0).UTC()
	t.Run("delete test2", func(t *testing.T) {
		e := newEnv(t, confInventory(104, false, readConf(t, "snapshot-chain-3-snaps.conf")))
		st, log := e.task("DELETE", "/nodes/pve1/lxc/104/snapshot/test2")
		if st["exitstatus"] != "OK" {
			t.Fatalf("task %v %v", st, log)
		}
		want := readConf(t, "snapshot-chain-after-delete-test2.conf")
		if got := e.conf(104); got != want {
			t.Fatalf("after delete:\n%s", cmp.Diff(want, got))
		}
	})
	t.Run("rollback test2", func(t *testing.T) {
		// The input (pve-container's snapshot-input/rollback/lxc/104.conf):
		// the current config of the 3-snapshot chain, with the snapshot
		// sections of the expected file.
		want := readConf(t, "snapshot-after-rollback-to-test2.conf")
		chain := readConf(t, "snapshot-chain-3-snaps.conf")
		before := chain[:strings.Index(chain, "\n[test]")] + want[strings.Index(want, "\n[test]"):]
		e := newEnv(t, confInventory(104, false, before))
		st, log := e.task("POST", "/nodes/pve1/lxc/104/snapshot/test2/rollback")
		if st["exitstatus"] != "OK" {
			t.Fatalf("task %v %v", st, log)
		}
		if got := e.conf(104); got != want {
			t.Fatalf("after rollback:\n%s", cmp.Diff(want, got))
		}
	})
	t.Run("create with mount points", func(t *testing.T) {
		want := readConf(t, "snapshot-with-mountpoints.conf")
		// The input: the expected file without the snapshot.
		before := strings.Replace(want[:strings.Index(want, "\n[test]")+1], "parent: test\n", "", 1)
		e := newEnv(t, confInventory(103, false, before), WithClock(ManualClock(snaptime)))
		st, log := e.task("POST", "/nodes/pve1/lxc/103/snapshot", "snapname", "test", "description", "test comment")
		if st["exitstatus"] != "OK" {
			t.Fatalf("task %v %v", st, log)
		}
		if got := e.conf(103); got != want {
			t.Fatalf("after create:\n%s", cmp.Diff(want, got))
		}
	})
	t.Run("create in progress", func(t *testing.T) {
		want := readConf(t, "snapshot-create-in-progress-lock-snapstate.conf")
		// The input: no test2 section and no lock.
		before := want[:strings.Index(want, "\n[test2]")+1]
		before = strings.Replace(before, "lock: snapshot\n", "", 1)
		e := newEnv(t, confInventory(102, false, before), WithClock(ManualClock(snaptime)), WithTaskDuration(time.Minute))
		upid := e.ok("POST", "/nodes/pve1/lxc/102/snapshot", "snapname", "test2", "description", "test comment").str()
		if got := e.conf(102); got != want {
			t.Fatalf("while the task runs:\n%s", cmp.Diff(want, got))
		}
		st, _ := e.taskResult(upid)
		if st["status"] != "running" {
			t.Fatalf("task should still run: %v", st)
		}
		e.sim.Clock().Advance(time.Minute)
		st, _ = e.taskResult(upid)
		if st["exitstatus"] != "OK" {
			t.Fatalf("task: %v", st)
		}
		got := e.conf(102)
		if strings.Contains(got, "lock:") || strings.Contains(got, "snapstate") || !regexp.MustCompile(`(?m)^parent: test2$`).MatchString(got) {
			t.Fatalf("after commit:\n%s", got)
		}
	})
}

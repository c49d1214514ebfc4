package pvesim

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/internal/testref"
)

// jsonKind names a JSON value's type.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// shape returns "key:kind" for each key of an object, sorted.
func shape(m map[string]any, ignore ...string) []string {
	skip := map[string]bool{}
	for _, k := range ignore {
		skip[k] = true
	}
	var out []string
	for k, v := range m {
		if !skip[k] {
			out = append(out, k+":"+jsonKind(v))
		}
	}
	sort.Strings(out)
	return out
}

func refJSON(t *testing.T, name string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(testref.Read(t, filepath.Join("pve-api/responses", name)), &v); err != nil {
		t.Fatal(err)
	}
	if m, ok := v.(map[string]any); ok {
		if d, ok := m["data"]; ok {
			return d
		}
	}
	return v
}

// refBody returns a captured response's whole body, for error answers
// whose data is null.
func refBody(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(testref.Read(t, filepath.Join("pve-api/responses", name)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sameShape(t *testing.T, what string, got, want map[string]any, ignore ...string) {
	t.Helper()
	g, w := shape(got, ignore...), shape(want, ignore...)
	if strings.Join(g, " ") != strings.Join(w, " ") {
		t.Errorf("%s:\n got %v\nwant %v", what, g, w)
	}
}

// TestResponseShapes compares the simulator's answers with real captured
// PVE responses: same keys, same JSON types.
func TestResponseShapes(t *testing.T) {
	inv := baseInventory()
	n := inv.Node("pve1")
	n.AddStorage("local-ssd", "zfspool", "rootdir", "images")
	n.AddContainer(334, false, "arch: amd64\ncores: 1\nfeatures: nesting=1\nhostname: TEST-lxc-basic\nmemory: 1024\nnet0: name=eth0,bridge=vmbr10,firewall=1,hwaddr=00:11:50:EB:74:7D,ip=dhcp,type=veth\nostype: ubuntu\nrootfs: local-ssd:subvol-334-disk-0,size=2G\nswap: 0\nunprivileged: 1\n")
	n.AddStorage("local-zfs", "zfspool", "rootdir", "images")
	n.AddContainer(500, true, "arch: amd64\ncmode: shell\ncores: 1\nfeatures: fuse=1,mount=nfs;cifs,nesting=1\nhostname: docker\nmemory: 4096\nnet0: name=eth0,bridge=vmbr0,gw=192.168.100.1,hwaddr=BC:24:11:1B:6D:D4,ip=192.168.100.44/24,type=veth\nostype: debian\nparent: autoweekly251223173813\nrootfs: local-zfs:subvol-500-disk-0,replicate=0,size=6G\nswap: 2048\ntags:  \nlxc.apparmor.profile: unconfined\n")
	nas := n.Storages[3] // nas
	nas.AddBackup(Backup{Volid: "nas:backup/vzdump-lxc-104-2026_08_16-02_16_19.tar.zst", Size: 1273148176})
	nas.AddBackup(Backup{Volid: "nas:backup/vzdump-lxc-105-2026_07_05-01_05_14.tar.zst", Size: 860517483, Notes: "whats-next"})
	e := newEnv(t, inv)

	t.Run("version", func(t *testing.T) {
		sameShape(t, "version", e.ok("GET", "/version").obj(), refJSON(t, "version.pve7.2.proxmoxer.json").(map[string]any))
	})
	t.Run("config", func(t *testing.T) {
		sameShape(t, "config 334", e.ok("GET", "/nodes/pve1/lxc/334/config").obj(), refJSON(t, "lxc-config-get.pve7.json").(map[string]any))
		got := e.ok("GET", "/nodes/pve1/lxc/500/config").obj()
		sameShape(t, "config 500", got, refJSON(t, "lxc-config-get-with-snapshot-parent.json").(map[string]any))
		if lxc, _ := got["lxc"].([]any); len(lxc) != 1 || fmt.Sprint(lxc[0]) != "[lxc.apparmor.profile unconfined]" {
			t.Errorf("lxc pairs: %v", got["lxc"])
		}
	})
	t.Run("cluster resources", func(t *testing.T) {
		ref := refJSON(t, "cluster-resources.excerpt-lxc.json").([]any)
		byVMID := map[float64]map[string]any{}
		for _, it := range e.ok("GET", "/cluster/resources", "type", "vm").list() {
			m := it.(map[string]any)
			byVMID[m["vmid"].(float64)] = m
		}
		// The capture is PVE 8's: memhost came with PVE 9's pve-vm-9.0
		// RRD row (pve-manager API2Tools.pm extract_vm_stats).
		sameShape(t, "running", byVMID[100], ref[0].(map[string]any), "memhost")
		sameShape(t, "stopped", byVMID[334], ref[1].(map[string]any), "memhost")
	})
	t.Run("storage content", func(t *testing.T) {
		ref := refJSON(t, "storage-content-backup.excerpt.json").([]any)
		items := e.ok("GET", "/nodes/pve1/storage/nas/content", "content", "backup").list()
		if len(items) != 2 {
			t.Fatalf("items: %v", items)
		}
		sameShape(t, "backup", items[0].(map[string]any), ref[0].(map[string]any))
		sameShape(t, "backup with notes", items[1].(map[string]any), ref[2].(map[string]any))
	})
	t.Run("tasks", func(t *testing.T) {
		e := newEnv(t, baseInventory(), WithTaskDuration(time.Minute))
		upid := e.ok("POST", "/nodes/pve1/lxc/102/status/start").str()
		running := e.ok("GET", "/nodes/pve1/tasks/"+upid+"/status").obj()
		sameShape(t, "running (token)", running, refJSON(t, "task-status-running-apitoken.json").(map[string]any))
		// Captured from a root@pam task: no tokenid.
		sameShape(t, "running (user)", running, refJSON(t, "task-status-running.proxmoxer.json").(map[string]any), "tokenid")
		e.sim.Clock().Advance(time.Minute)
		stopped := e.ok("GET", "/nodes/pve1/tasks/"+upid+"/status").obj()
		for _, ref := range []string{"task-status-stopped-ok.json", "task-status-stopped-warnings.json", "task-status-stopped-error.proxmoxer.json"} {
			// The captured stopped tasks ran as root@pam: no tokenid.
			sameShape(t, ref, stopped, refJSON(t, ref).(map[string]any), "tokenid")
		}
		list := e.ok("GET", "/nodes/pve1/tasks").list()
		if len(list) != 1 {
			t.Fatalf("task list: %v", list)
		}
		sameShape(t, "task list", list[0].(map[string]any), refJSON(t, "node-tasks-list-vzdump.json").([]any)[0].(map[string]any))
	})
	t.Run("errors", func(t *testing.T) {
		// The parameters of the captures are unknown to PUT config too, so
		// the errors maps must match exactly, not only in shape.
		for _, tc := range []struct {
			legacy bool
			ref    string
			param  string
		}{
			{false, "error-400-param-verification.pve9.json", "vmstate"},
			{true, "error-400-param-verification.pre-8.4.json", "overrule-shutdown"},
		} {
			var opts []Option
			if tc.legacy {
				opts = append(opts, WithLegacyErrors())
			}
			e := newEnv(t, baseInventory(), opts...)
			ref := refBody(t, tc.ref)
			r := e.call("PUT", "/nodes/pve1/lxc/100/config", tc.param, "1")
			if r.status != 400 {
				t.Fatalf("%s: status %d %s", tc.ref, r.status, r.raw)
			}
			sameShape(t, tc.ref, r.body, ref)
			if fmt.Sprint(r.body["errors"]) != fmt.Sprint(ref["errors"]) || fmt.Sprint(r.body["message"]) != fmt.Sprint(ref["message"]) {
				t.Errorf("%s: body %s, want the captured errors and message", tc.ref, r.raw)
			}

			// 403 and 500: pre-8.4 bodies are the capture; current ones
			// are the 400 body without errors (pve-http-server puts the
			// message in every error body since 8.4).
			forbidden := e.as("viewer@pve!ro=secret-ro").call("PUT", "/nodes/pve1/lxc/100/config", "memory", "512")
			failed := e.call("PUT", "/nodes/pve1/lxc/100/config", "memory", "512", "digest", strings.Repeat("0", 40))
			for _, got := range []resp{forbidden, failed} {
				if got.status != 403 && got.status != 500 {
					t.Fatalf("status %d %s", got.status, got.raw)
				}
				if tc.legacy {
					sameShape(t, fmt.Sprintf("legacy %d", got.status), got.body, refBody(t, "error-403-500-body.pre-8.4.json"))
				} else {
					sameShape(t, fmt.Sprintf("current %d", got.status), got.body, ref, "errors")
				}
			}
			if forbidden.status != 403 || failed.status != 500 {
				t.Errorf("statuses %d, %d; want 403, 500", forbidden.status, failed.status)
			}
		}
	})
}

package pvesim_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/felhom/felhom/pve/pvesim"
)

var update = flag.Bool("update", false, "rewrite testdata/listings.golden.json from the current code")

const listingsGolden = "testdata/listings.golden.json"

// listingsInventory is a cluster with every kind of guest the listings
// describe: running and stopped containers, locked (in the config and held
// as by a backup), tagged, a template, pending changes, a snapshot, cores
// or cpulimit or neither, no hostname, no memory, a rootfs without size,
// QEMU guests, an aarch64 node with its own hardware figures, shared and
// local storages with backups, and tokens that see everything, part of
// the guests (privsep, non-propagating entries) or no node figures.
func listingsInventory() *pvesim.Inventory {
	inv := pvesim.NewInventory("golden")
	p1 := inv.AddNode("pve1")
	p1.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	p1.AddStorage("local", "dir", "backup", "vztmpl").AddBackup(pvesim.Backup{Volid: "local:backup/vzdump-lxc-101-2026_08_16-02_16_19.tar.zst", Size: 1 << 30})
	p1.AddStorage("nas", "nfs", "backup").Shared = true
	p2 := inv.AddNode("pve2")
	p2.MaxCPU, p2.MaxMem, p2.Arch, p2.Timezone = 4, 16<<30, "aarch64", "Europe/Budapest"
	p2.AddStorage("local-lvm", "lvmthin", "rootdir", "images").Total = 1 << 40
	p2.AddStorage("nas", "nfs", "backup").Shared = true
	p3 := inv.AddNode("pve3")
	p3.AddStorage("tank", "zfspool", "rootdir", "images")

	p1.AddContainer(101, true, "arch: amd64\ncores: 2\nhostname: web\nmemory: 1024\nnet0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:65,ip=dhcp,type=veth\nostype: debian\nrootfs: local-lvm:vm-101-disk-0,size=8G\nswap: 512\ntags: prod;web\nunprivileged: 1\n")
	p1.AddContainer(102, false, "arch: amd64\ncores: 1\nhostname: db\nlock: backup\nmemory: 2048\nostype: debian\nrootfs: local-lvm:vm-102-disk-0,size=20G\nswap: 0\n")
	p1.AddContainer(103, false, "arch: amd64\nhostname: tmpl\nmemory: 512\nostype: debian\nrootfs: local-lvm:base-103-disk-0,size=4G\ntemplate: 1\n")
	p1.AddContainer(104, true, "arch: amd64\ncores: 4\nhostname: pend\nmemory: 1024\nostype: debian\nrootfs: local-lvm:vm-104-disk-0,size=8G\nswap: 512\n\n[pve:pending]\ncores: 2\ndelete: swap\nmemory: 4096\ntags: new\n")
	p1.AddContainer(105, true, "arch: amd64\ncpulimit: 1.5\nhostname: snap\nmemory: 768\nostype: debian\nparent: before\nrootfs: local-lvm:vm-105-disk-0,size=8G\n\n[before]\narch: amd64\nhostname: snap\nmemory: 512\nostype: debian\nrootfs: local-lvm:vm-105-disk-0,size=8G\nsnaptime: 1700000000\n")
	p1.AddVM(150, "win")
	p2.AddContainer(201, true, "arch: arm64\nostype: alpine\nrootfs: local-lvm:vm-201-disk-0\n")
	p2.AddContainer(202, false, "arch: arm64\nhostname: tagged\nmemory: 256\nostype: alpine\nrootfs: local-lvm:vm-202-disk-0,size=2G\ntags: a;b;c\ntemplate: 0\n")
	p2.AddContainer(203, true, "arch: arm64\ncores: 1\nhostname: held\nostype: alpine\nrootfs: local-lvm:vm-203-disk-0,size=1G\n")
	// Not a valid hostname or tag, but loaded verbatim: the JSON escapes.
	p2.AddContainer(204, false, "arch: arm64\nhostname: my <host> & \"é\"\\\nostype: alpine\nrootfs: local-lvm:vm-204-disk-0,size=1G\ntags: a&b;<c>\n")
	p2.AddContainer(205, false, "arch: arm64\nhostname: empty\nlock: \nostype: alpine\nrootfs: local-lvm:vm-205-disk-0,size=1G\ntags: \n")
	p2.AddVM(250, "")
	p3.AddContainer(301, false, "arch: amd64\ncpulimit: 2\nhostname: zfs\nlock: mounted\nmemory: 4096\nostype: ubuntu\nrootfs: tank:subvol-301-disk-0,size=16G\nswap: 1024\ntags: x\n")

	inv.AddUser("admin@pve", pvesim.Role("/", "Administrator")).AddToken("full", "s-admin", false)
	inv.AddUser("felhom@pve", pvesim.Role("/vms", "PVEVMAdmin"), pvesim.Role("/storage", "PVEDatastoreAdmin"),
		pvesim.Role("/nodes", "PVEAuditor")).AddToken("reconcile", "s-felhom", false)
	inv.AddUser("some@pve", pvesim.Role("/", "PVEAuditor")).AddToken("sep", "s-some", true,
		pvesim.Privs("/vms/101", "VM.Audit"), pvesim.Privs("/vms/202", "VM.Audit"), pvesim.Privs("/vms/150", "VM.Audit"),
		pvesim.Privs("/storage/nas", "Datastore.Audit"), pvesim.Privs("/nodes/pve2", "Sys.Audit"))
	no := false
	inv.AddUser("narrow@pve", pvesim.ACL{Path: "/vms", Privileges: []string{"VM.Audit"}, Propagate: &no},
		pvesim.Role("/vms/102", "PVEAuditor"), pvesim.Role("/vms/301", "PVEVMUser"),
		pvesim.ACL{Path: "/nodes/pve1", Privileges: []string{"Sys.Audit"}, Propagate: &no},
		pvesim.Privs("/storage/local", "Datastore.AllocateSpace")).AddToken("tok", "s-narrow", false)
	inv.AddUser("nobody@pve").AddToken("none", "s-none", false)
	inv.AddUser("root@pam").AddToken("all", "s-root", false)
	return inv
}

// listingsRequests are the calls the golden file holds, per token: the
// cluster resources with every type filter, each node's lxc list, and
// each container's status/current and pending.
func listingsRequests(inv *pvesim.Inventory) []string {
	var paths []string
	for _, typ := range []string{"", "?type=vm", "?type=node", "?type=storage", "?type=sdn"} {
		paths = append(paths, "/cluster/resources"+typ)
	}
	for _, n := range inv.Nodes {
		paths = append(paths, "/nodes/"+n.Name+"/lxc")
		for _, c := range n.Containers {
			base := fmt.Sprintf("/nodes/%s/lxc/%d", n.Name, c.VMID)
			paths = append(paths, base+"/status/current", base+"/pending")
		}
	}
	paths = append(paths, "/nodes/pve2/lxc/101/pending", "/nodes/pve1/lxc/999/status/current")
	return paths
}

var listingsTokens = map[string]string{
	"admin@pve!full":       "s-admin",
	"felhom@pve!reconcile": "s-felhom",
	"some@pve!sep":         "s-some",
	"narrow@pve!tok":       "s-narrow",
	"nobody@pve!none":      "s-none",
	"root@pam!all":         "s-root",
}

// listingsAnswers serves every request for every token and returns the
// answers by "token GET path": the status and the body decoded with
// UseNumber (so 1 and 1.0, 0 and "0" stay apart).
func listingsAnswers(t *testing.T) map[string]any {
	t.Helper()
	inv := listingsInventory()
	s, err := pvesim.New(inv, pvesim.WithClock(pvesim.ManualClock(time.Date(2026, 8, 16, 2, 0, 0, 0, time.UTC))))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.HoldLock(203, "backup", 3*time.Hour); err != nil {
		t.Fatal(err)
	}
	s.Clock().Advance(90 * time.Minute) // uptimes of 2.5 h; the held lock is still held
	h := s.Handler()
	out := map[string]any{}
	for tok, secret := range listingsTokens {
		for _, p := range listingsRequests(inv) {
			req := httptest.NewRequest("GET", "/api2/json"+p, nil)
			req.Header.Set("Authorization", "PVEAPIToken="+tok+"="+secret)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
			dec.UseNumber()
			var body any
			if rec.Body.Len() > 0 {
				if err := dec.Decode(&body); err != nil {
					t.Fatalf("%s GET %s: %v: %s", tok, p, err, rec.Body)
				}
			}
			out[tok+" GET "+p] = map[string]any{"status": json.Number(fmt.Sprint(rec.Code)), "body": body}
		}
	}
	return out
}

// TestListingsGolden: cluster/resources, the node's lxc list,
// status/current and pending answer, value for value and type for type,
// what they answered before issue 15 made them cheap (the golden file
// was written by that code; -update rewrites it from the current code).
func TestListingsGolden(t *testing.T) {
	got := listingsAnswers(t)
	if *update {
		b, err := json.MarshalIndent(got, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(listingsGolden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(listingsGolden)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var want map[string]any
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !reflect.DeepEqual(got[k], want[k]) {
			g, _ := json.Marshal(got[k])
			w, _ := json.Marshal(want[k])
			t.Errorf("%s:\n got %s\nwant %s", k, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d answers, the golden file has %d", len(got), len(want))
	}
}

package diff

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

var (
	testNow  = time.Date(2026, 11, 25, 17, 29, 25, 0, time.UTC)
	testOpts = Options{Now: testNow, Revision: "3f2a9c1"}
)

// baseConf is a plain unprivileged container as PVE writes it.
const baseConf = `arch: amd64
cores: 2
hostname: web
memory: 1024
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:1B:6D:D4,ip=dhcp,type=veth
ostype: debian
rootfs: local-lvm:vm-101-disk-0,size=8G
swap: 512
unprivileged: 1
`

// ct parses a spec for container "web" (vmid 101 on pve1) whose spec body
// (YAML under spec:, without the identity) is body.
func ct(t testing.TB, body string) *spec.Container {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: web\nspec:\n  node: pve1\n  vmid: 101\n")
	for _, line := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		if line != "" {
			b.WriteString("  " + line + "\n")
		}
	}
	docs, diags := spec.Parse("test.yaml", []byte(b.String()))
	if diags.HasErrors() {
		t.Fatalf("spec: %v\n%s", diags, b.String())
	}
	return &docs[0]
}

// Storages as the node's storage list shows them, with room to spare.
var (
	lvmthin    = Storage{Type: "lvmthin", Content: []string{"rootdir", "images"}, Avail: 500 << 30}
	zfspool    = Storage{Type: "zfspool", Content: []string{"rootdir", "images"}, Avail: 500 << 30}
	dirStorage = Storage{Type: "dir", Content: []string{"rootdir", "images", "backup", "vztmpl"}, Avail: 500 << 30}
	nfsBackup  = Storage{Type: "nfs", Content: []string{"backup"}, Avail: 500 << 30}
)

// liveFrom builds Live from a config file's text as observe would see it
// through GET .../pending (ctconf computes what PVE returns).
func liveFrom(t testing.TB, conf string, running bool) *Live {
	t.Helper()
	f, err := ctconf.Parse([]byte(conf))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	l := &Live{Node: "pve1", VMID: 101, Running: running, Digest: f.Digest,
		Config: map[string]string{}, Pending: map[string]string{}, PendingDelete: map[string]bool{},
		Storages: map[string]Storage{"local-lvm": lvmthin, "tank": zfspool, "nfs": nfsBackup, "nfs-backup": nfsBackup, "backups": nfsBackup}}
	for _, e := range f.PendingEntries() {
		if e.Key == "digest" {
			continue
		}
		if e.Key == "lock" {
			l.Lock = e.Value
		}
		if e.HasValue {
			l.Config[e.Key] = e.Value
		}
		if e.HasPending {
			l.Pending[e.Key] = e.Pending
		}
		if e.Delete != 0 {
			l.PendingDelete[e.Key] = true
		}
	}
	for _, s := range f.Snapshots {
		l.Snapshots = append(l.Snapshots, s.Name)
	}
	return l
}

// allocator stands in for the storages when a test applies a plan.
type allocator struct{ n int }

func (a *allocator) CheckRootdir(string) error { return nil }
func (a *allocator) Alloc(storage, key string, size int64) (string, error) {
	a.n++
	return fmt.Sprintf("%s:vm-101-disk-%d", storage, 10+a.n), nil
}
func (a *allocator) Free(string) error { return nil }

// applySteps carries out a container plan's steps on a config file as PVE
// would (through ctconf, the simulator's config model) and returns the new
// file text. Snapshot, vzdump and prune steps do not change the main config.
func applySteps(t testing.TB, conf string, running bool, cp plan.ContainerPlan) string {
	t.Helper()
	f, err := ctconf.Parse([]byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	alloc := &allocator{}
	for _, s := range cp.Steps {
		switch s.Action {
		case plan.ActionResize:
			disk := s.Params["disk"]
			size, err := format.ParseDiskSize(s.Params["size"])
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := f.Get(disk)
			if disk == "rootfs" {
				r, err := format.ParseRootFS(raw)
				if err != nil {
					t.Fatal(err)
				}
				r.Size = &size
				f.Set(disk, r.String())
			} else {
				m, err := format.ParseMountPoint(raw)
				if err != nil {
					t.Fatal(err)
				}
				m.Size = &size
				f.Set(disk, m.String())
			}
		case plan.ActionSetConfig:
			u := ctconf.Update{VMID: 101, Set: map[string]string{}}
			for k, v := range s.Params {
				switch k {
				case "delete":
					u.Delete = strings.Split(v, ",")
				case "revert":
					u.Revert = strings.Split(v, ",")
				default:
					u.Set[k] = v
				}
			}
			if _, err := f.ApplyUpdate(u, running, alloc); err != nil {
				t.Fatalf("set config %v: %v", s.Params, err)
			}
		case plan.ActionReboot:
			if _, err := f.ApplyPending(alloc); err != nil {
				t.Fatal(err)
			}
		}
	}
	return string(f.Bytes())
}

// changeList prints a plan's changes as "path op class" lines.
func changeList(cp plan.ContainerPlan) []string {
	var out []string
	for _, c := range cp.Changes {
		s := c.Path + " " + c.Op.Symbol() + " " + string(c.Class)
		if c.Drift {
			s += " drift"
		}
		out = append(out, s)
	}
	return out
}

func stepList(cp plan.ContainerPlan) []string {
	var out []string
	for _, s := range cp.Steps {
		out = append(out, s.Action.Token())
	}
	return out
}

func privList(cp plan.ContainerPlan) []string {
	var out []string
	for _, p := range cp.Privileges {
		out = append(out, p.Name+"@"+p.Path)
	}
	sort.Strings(out)
	return out
}

func ptr[T any](v T) *T { return &v }

// wantPlan checks a container plan's status and its changes (changeList).
func wantPlan(t *testing.T, cp plan.ContainerPlan, status plan.Status, changes []string) {
	t.Helper()
	if cp.Status != status {
		t.Errorf("status %s, want %s (blocked %q, warnings %q)", cp.Status, status, cp.Blocked, cp.Warnings)
	}
	if got := changeList(cp); !reflect.DeepEqual(got, changes) {
		t.Errorf("changes\n got %q\nwant %q", got, changes)
	}
}

// wantSteps checks a container plan's steps (stepList).
func wantSteps(t *testing.T, cp plan.ContainerPlan, steps []string) {
	t.Helper()
	if got := stepList(cp); !reflect.DeepEqual(got, steps) {
		t.Errorf("steps\n got %q\nwant %q", got, steps)
	}
}

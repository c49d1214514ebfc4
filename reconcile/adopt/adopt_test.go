package adopt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/felhom/felhom/internal/testref"
	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

func TestDocument(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]string
		want   []string // lines the document holds
		not    []string // text it must not hold
		named  string
		// changes are the paths the round trip plans: none, as the
		// hostname too is written only when PVE has one.
		changes []string
	}{
		{
			name: "sizes with units, structured net and mounts",
			config: map[string]string{
				"hostname": "web", "memory": "1536", "swap": "512", "cores": "2", "onboot": "1",
				"net0":   "name=eth0,bridge=vmbr0,firewall=1,hwaddr=BC:24:11:5E:7A:01,ip=dhcp,type=veth",
				"rootfs": "local-lvm:vm-101-disk-0,size=8G",
				"mp0":    "local-lvm:vm-101-disk-1,mp=/srv/www,backup=1,size=16G",
				"mp1":    "/tank/media,mp=/media,ro=1",
				"tags":   "prod;web", "arch": "amd64", "ostype": "debian", "unprivileged": "1",
			},
			named: "web",
			want: []string{
				"# yaml-language-server: $schema=" + SchemaURL,
				"# Not managed by this spec (left as they are on PVE): arch, ostype,",
				"the root password,\n# SSH public keys and the template the container was made from.",
				"  name: web", "  hostname: web", "  memory: 1536M", "  swap: 512M", "  cores: 2", "  onboot: true",
				"  tags: [prod, web]",
				"    net0:", "      name: eth0", "      bridge: vmbr0", "      ip: dhcp", "      hwaddr: BC:24:11:5E:7A:01", "      firewall: true",
				"  rootfs:", "    storage: local-lvm", "    size: 8G",
				"    mp0:", "      volume: local-lvm:vm-101-disk-1", "      size: 16G", "      mp: /srv/www", "      backup: true",
				"    mp1:", "      bind: /tank/media", "      ro: true",
			},
			not: []string{"type:", "vmbr0,"},
		},
		{
			name:   "a hostname that is not a DNS label names the container by vmid; values YAML would misread are quoted",
			config: map[string]string{"hostname": "db.example.net", "description": "on\nsecond line\n", "nameserver": "1.1.1.1 9.9.9.9", "cpulimit": "1.5"},
			named:  "db",
			want:   []string{"  hostname: db.example.net", "  cpulimit: 1.5", "  nameserver: 1.1.1.1 9.9.9.9", "  description: |"},
		},
		{
			name:   "no hostname",
			config: map[string]string{"memory": "512", "features": "nesting=1,keyctl=1,mount=nfs;cifs", "dev0": "/dev/dri/renderD128,gid=44", "startup": "order=2,up=30"},
			named:  "ct105",
			not:    []string{"  hostname:"},
			want: []string{"PVE has no hostname set for it: this spec leaves it unset", "  name: ct105", "  features:", "    nesting: true", "    keyctl: true", "    mount: [nfs, cifs]",
				"    dev0:", "      path: /dev/dri/renderD128", "      gid: 44", "  startup:", "    order: 2", "    up: 30"},
		},
		{
			name:   "keys the spec cannot hold are left out and named",
			config: map[string]string{"hostname": "x", "mp0": "local:105/vm-105-disk-1.raw,mp=/a,keepattrs=1", "net1": "name=eth1,bridge=vmbr1,host-managed=1", "lxc.idmap": "u 0 100000 65536"},
			named:  "x",
			want:   []string{"(left as they are on PVE): lxc.idmap, mp0, net1."},
			not:    []string{"mountpoints:", "net:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Document(Live{Node: "pve1", VMID: 105, Config: tt.config})
			if err != nil {
				t.Fatal(err)
			}
			text := string(r.YAML)
			if r.Name != tt.named {
				t.Errorf("name %q, want %q", r.Name, tt.named)
			}
			if !strings.HasPrefix(text, "# yaml-language-server: $schema=") {
				t.Errorf("first line: %q", strings.SplitN(text, "\n", 2)[0])
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(text, w) {
					t.Errorf("holds %q:\n%s", w, text)
				}
			}
			roundTrip(t, Live{Node: "pve1", VMID: 105, Config: tt.config}, r, tt.changes...)
		})
	}
}

func TestDocumentRefusesWhatPVEWouldNotWrite(t *testing.T) {
	if _, err := Document(Live{Node: "pve1", VMID: 100, Config: map[string]string{"net0": "bridge=vmbr0"}}); err == nil || !strings.Contains(err.Error(), "net0") {
		t.Errorf("err %v, want one naming net0", err)
	}
}

// roundTrip loads the document as felhom loads specs and plans it against
// the config it came from: no change but the paths in want.
func roundTrip(t *testing.T, l Live, r *Result, want ...string) {
	t.Helper()
	roundTripLive(t, &diff.Live{Node: l.Node, VMID: l.VMID, Config: l.Config}, r, want...)
}

// roundTripLive is roundTrip against live, which may hold pending values:
// those are planned as awaiting restart, which is no change.
func roundTripLive(t *testing.T, live *diff.Live, r *Result, want ...string) {
	t.Helper()
	set, diags := spec.Load(fstest.MapFS{r.Name + ".yaml": &fstest.MapFile{Data: r.YAML}}, ".")
	if diags.HasErrors() {
		t.Fatalf("the imported spec does not load: %v\n%s", diags, r.YAML)
	}
	for _, running := range []bool{false, true} {
		live.Running = running
		cp := diff.Diff(set.Containers[0], live, diff.Options{Now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), Revision: "r"})
		var paths []string
		for _, c := range cp.Changes {
			if c.Class != plan.ClassAwaitingRestart {
				paths = append(paths, c.Path)
			}
		}
		if strings.Join(paths, " ") != strings.Join(want, " ") || (len(want) == 0 && cp.Status != plan.StatusUnchanged) {
			t.Errorf("running=%v: plans %s %+v %q\n%s", running, cp.Status, cp.Changes, cp.Blocked, r.YAML)
		}
	}
}

// liveOf is a container seeded from a config file's text, as felhom
// import and felhom plan read it (GET .../pending).
func liveOf(t *testing.T, node string, vmid int, text string) (Live, *diff.Live) {
	t.Helper()
	f, err := ctconf.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var pc pve.PendingConfig
	dl := &diff.Live{Node: node, VMID: vmid, Config: map[string]string{}, Pending: map[string]string{}, PendingDelete: map[string]bool{}}
	for _, e := range f.PendingEntries() {
		if e.Key == "digest" {
			continue
		}
		pe := pve.PendingEntry{Key: e.Key, Delete: e.Delete}
		if e.HasValue {
			pe.Value = &e.Value
			dl.Config[e.Key] = e.Value
		}
		if e.HasPending {
			pe.Pending = &e.Pending
			dl.Pending[e.Key] = e.Pending
		}
		if e.Delete != 0 {
			dl.PendingDelete[e.Key] = true
		}
		pc.Entries = append(pc.Entries, pe)
	}
	return LiveFrom(node, vmid, pc), dl
}

func TestExamplesInventoryRoundTrip(t *testing.T) {
	inv, err := pvesim.LoadInventory("../../examples/sim/inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, node := range inv.Nodes {
		for _, c := range node.Containers {
			l, dl := liveOf(t, node.Name, c.VMID, c.Config)
			r, err := Document(l)
			if err != nil {
				t.Fatalf("ct %d: %v", c.VMID, err)
			}
			roundTripLive(t, dl, r)
			n++
		}
	}
	if n == 0 {
		t.Fatal("no containers in the inventory")
	}
}

func TestReferenceConfigsRoundTrip(t *testing.T) {
	for _, file := range testref.Glob(t, "pve-api/lxc-conf/*.conf") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			l, dl := liveOf(t, "pve1", 101, string(text))
			r, err := Document(l)
			if err != nil {
				t.Fatal(err)
			}
			roundTripLive(t, dl, r)
		})
	}
}

// Import leaves power out (managed only when set: an imported spec must not
// start or stop anything), and its comments say how to manage it, with the
// run state PVE reported.
func TestDocumentLeavesPowerOut(t *testing.T) {
	for _, status := range []string{"running", "stopped", ""} {
		r, err := Document(Live{Node: "pve1", VMID: 101, Status: status, Config: map[string]string{"hostname": "web", "memory": "512"}})
		if err != nil {
			t.Fatal(err)
		}
		y := string(r.YAML)
		if strings.Contains(y, "\n  power:") {
			t.Errorf("status %q: the document sets power:\n%s", status, y)
		}
		if !strings.Contains(y, "# The run state is not managed") || !strings.Contains(y, "power: running") {
			t.Errorf("status %q: no comment on power:\n%s", status, y)
		}
		if status != "" && !strings.Contains(y, "it was "+status+" when imported") {
			t.Errorf("status %q: the comment does not say the state:\n%s", status, y)
		}
	}
}

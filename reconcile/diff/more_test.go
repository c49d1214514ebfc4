package diff

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/internal/testref"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

func ptr[T any](v T) *T { return &v }

// adopt writes the spec a person adopting the container would write: every
// value felhom manages, as the live config has it.
func adopt(t *testing.T, l *Live) *spec.Container {
	t.Helper()
	c := &spec.Container{Metadata: spec.Metadata{Name: "adopted"}, Spec: spec.ContainerSpec{Node: l.Node, VMID: l.VMID}}
	s := &c.Spec
	cfg := l.Config
	mib := func(k string) *format.Size {
		v, ok := cfg[k]
		if !ok {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return ptr(format.Size(n) * format.MiB)
	}
	s.Memory, s.Swap = mib("memory"), mib("swap")
	if v, ok := cfg["cores"]; ok {
		n, _ := strconv.Atoi(v)
		s.Cores = &n
	}
	if v, ok := cfg["cpulimit"]; ok {
		f, _ := strconv.ParseFloat(v, 64)
		s.CPULimit = &f
	}
	if v, ok := cfg["cpuunits"]; ok {
		n, _ := strconv.Atoi(v)
		s.CPUUnits = &n
	}
	if v, ok := cfg["hostname"]; ok {
		s.Hostname = &v
	}
	s.Description = ptr(cfg["description"])
	s.Tags = []string{}
	if v, ok := cfg["tags"]; ok {
		s.Tags = format.SplitList(v)
	}
	s.OnBoot = ptr(cfg["onboot"] == "1")
	for k, v := range cfg {
		switch {
		case strings.HasPrefix(k, "net"):
			n, err := format.ParseNet(v)
			if err != nil {
				t.Fatal(err)
			}
			if s.Net == nil {
				s.Net = map[string]spec.NetIf{}
			}
			ni := spec.NetIf{Name: ptr(n.Name), Bridge: ptr(n.Bridge), HWAddr: ptr(strings.ToLower(n.HWAddr))}
			if n.IP != "" {
				ni.IP = ptr(n.IP)
			}
			if n.IP6 != "" {
				ni.IP6 = ptr(n.IP6)
			}
			ni.Firewall = ptr(n.Firewall != nil && *n.Firewall)
			s.Net[k] = ni
		case k == "rootfs":
			r, err := format.ParseRootFS(v)
			if err != nil {
				t.Fatal(err)
			}
			s.RootFS = &spec.RootFS{Storage: volumeStorage(r.Volume), Size: r.Size, Replicate: ptr(true)}
		case strings.HasPrefix(k, "mp"):
			m, err := format.ParseMountPoint(v)
			if err != nil {
				t.Fatal(err)
			}
			if s.MountPoints == nil {
				s.MountPoints = map[string]spec.MountPoint{}
			}
			s.MountPoints[k] = spec.MountPoint{Volume: m.Volume, MP: m.MP, Size: m.Size, Backup: ptr(m.Backup != nil && *m.Backup)}
		}
	}
	return c
}

// TestRealConfigsAdoptedAreUnchanged: for each real config PVE wrote, the
// spec that says what the container already is plans nothing, and so does
// the spec that names nothing.
func TestRealConfigsAdoptedAreUnchanged(t *testing.T) {
	files := testref.Glob(t, "pve-api/lxc-conf/*.conf")
	if len(files) == 0 {
		t.Fatal("no reference configs")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, running := range []bool{false, true} {
				l := liveFrom(t, string(text), running)
				l.SnapshotStorages = map[string]bool{"local": true}
				c := adopt(t, l)
				cp := Diff(c, l, testOpts)
				if cp.Status != plan.StatusUnchanged || len(cp.Changes) != 0 {
					t.Errorf("running=%v: adopted spec plans %s %q %q", running, cp.Status, changeList(cp), cp.Blocked)
				}
				bare := &spec.Container{Metadata: spec.Metadata{Name: "bare"}, Spec: spec.ContainerSpec{Node: l.Node, VMID: l.VMID}}
				if cp := Diff(bare, l, testOpts); cp.Status != plan.StatusUnchanged || len(cp.Changes) != 0 {
					t.Errorf("bare spec plans %s %q", cp.Status, changeList(cp))
				}
			}
		})
	}
}

func TestRestartWindow(t *testing.T) {
	conf := baseConf
	spec := "nameserver: 9.9.9.9\nrestart: {mode: window, window: {schedule: \"sun 03:00\", duration: 2h}}"
	tests := []struct {
		now    time.Time
		reboot bool
		note   string
	}{
		// 2026-11-29 is a Sunday.
		{time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC), true, ""},
		{time.Date(2026, 11, 29, 4, 59, 59, 0, time.UTC), true, ""},
		{time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC), false, "next open at 2026-12-06T03:00:00Z"},
		{time.Date(2026, 11, 29, 2, 59, 0, 0, time.UTC), false, "next open at 2026-11-29T03:00:00Z"},
		{time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), false, "next open at 2026-11-29T03:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.now.Format(time.RFC3339), func(t *testing.T) {
			cp := Diff(ct(t, spec), liveFrom(t, conf, true), Options{Now: tt.now, Revision: "r"})
			got := strings.Join(stepList(cp), " ")
			want := "snapshot set-config"
			if tt.reboot {
				want += " reboot"
			}
			if got != want {
				t.Errorf("steps %q, want %q", got, want)
			}
			// The reboot carries its window, for apply to ask again.
			wantWindow := &plan.RestartWindow{Schedule: "sun 03:00", DurationSeconds: 7200}
			if !tt.reboot {
				wantWindow = nil
			}
			if !reflect.DeepEqual(cp.RestartWindow, wantWindow) {
				t.Errorf("restart window %+v, want %+v", cp.RestartWindow, wantWindow)
			}
			if tt.note != "" && !strings.Contains(strings.Join(cp.Warnings, "\n"), tt.note) {
				t.Errorf("warnings %q lack %q", cp.Warnings, tt.note)
			}
		})
	}
}

func TestPrivileges(t *testing.T) {
	cp := Diff(ct(t, `memory: 2G
cores: 4
tags: [a]
net:
  net0: {name: eth0, bridge: vmbr0, tag: 5}
mountpoints:
  mp1: {storage: tank, size: 4G, mp: /cache}
restart: {mode: when-needed}
nameserver: 1.1.1.1`), liveFrom(t, baseConf, true), testOpts)
	want := []string{
		"Datastore.AllocateSpace@/storage/tank",
		"SDN.Use@/sdn/zones/localnetwork/vmbr0",
		"SDN.Use@/sdn/zones/localnetwork/vmbr0/5",
		"VM.Config.CPU@/vms/101",
		"VM.Config.Disk@/vms/101",
		"VM.Config.Memory@/vms/101",
		"VM.Config.Network@/vms/101",
		"VM.Config.Options@/vms/101",
		"VM.PowerMgmt@/vms/101",
		"VM.Snapshot@/vms/101",
	}
	if got := privList(cp); !reflect.DeepEqual(got, want) {
		t.Errorf("privileges\n got %q\nwant %q", got, want)
	}
	// vzdump and prune need backup privileges instead of VM.Snapshot.
	cp = Diff(ct(t, `memory: 2G
snapshot: {when-impossible: vzdump}
backup: {schedule: daily, storage: nfs, compress: none, notes-template: "{{guestname}}", protected: false, retention: {keep-last: 2}}`), func() *Live {
		l := liveFrom(t, baseConf, true)
		l.SnapshotStorages = map[string]bool{"local-lvm": false}
		return l
	}(), testOpts)
	// The prune rides on the vzdump, which PVE allows only with
	// Datastore.Allocate on the storage.
	want = []string{"Datastore.Allocate@/storage/nfs", "Datastore.AllocateSpace@/storage/nfs", "VM.Backup@/vms/101", "VM.Config.Memory@/vms/101"}
	if got := privList(cp); !reflect.DeepEqual(got, want) {
		t.Errorf("vzdump privileges\n got %q\nwant %q", got, want)
	}
	for _, s := range cp.Steps {
		want := map[string]string{"vmid": "101", "storage": "nfs", "mode": "snapshot", "remove": "0", "compress": "0",
			"notes-template": "{{guestname}}", "protected": "0"}
		if s.Action == plan.ActionVzdump && !reflect.DeepEqual(s.Params, want) {
			t.Errorf("vzdump params %v", s.Params)
		}
		if s.Action == plan.ActionPrune && s.Params["prune-backups"] != "keep-last=2" {
			t.Errorf("prune params %v", s.Params)
		}
	}
}

func TestBuild(t *testing.T) {
	a := *ct(t, "memory: 2G")
	b := *ct(t, "memory: 1G")
	b.Metadata.Name, b.Spec.VMID = "gone", 100
	c := *ct(t, "memory: 1G")
	c.Metadata.Name, c.Spec.VMID, c.Spec.Node = "broken", 102, "pve2"
	moved := liveFrom(t, baseConf, true)
	moved.Node = "pve9"
	live := map[int]*Live{101: moved, 102: {VMID: 102, Node: "pve2", Err: "connection reset"}}
	p := Build([]spec.Container{c, a, b}, live, testOpts)
	if p.FormatVersion != plan.FormatVersion || p.SourceRevision != "3f2a9c1" || !p.CreatedAt.Equal(testNow) {
		t.Errorf("plan header %+v", p)
	}
	var got []string
	for _, cp := range p.Containers {
		got = append(got, strconv.Itoa(cp.VMID)+" "+cp.Name+" "+cp.Node+" "+string(cp.Status))
	}
	want := []string{"100 gone pve1 missing", "101 web pve9 changes", "102 broken pve2 error"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("containers\n got %q\nwant %q", got, want)
	}
	if w := strings.Join(p.Containers[1].Warnings, "\n"); !strings.Contains(w, "found on node pve9, the spec says pve1") {
		t.Errorf("no note on the move: %q", w)
	}
	if b := p.Containers[2].Blocked; len(b) != 1 || !strings.Contains(b[0], "connection reset") {
		t.Errorf("error reason %q", b)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
}

func TestBaselineAndDrift(t *testing.T) {
	c := ct(t, bigSpec)
	conf := baseConf + "mp0: tank:vm-101-disk-1,mp=/data,size=8G\n"
	first := Diff(c, liveFrom(t, conf, false), testOpts)
	after := applySteps(t, conf, false, first)
	l := liveFrom(t, after, false)
	base := Baseline(c, l)
	for _, path := range []string{"memory", "net0.bridge", "net1.tag", "rootfs.size", "mp0.size", "mp1.mp", "features.nesting", "tags"} {
		if _, ok := base[path]; !ok {
			t.Errorf("baseline lacks %s: %v", path, base)
		}
	}
	if base["memory"] != "2 GiB" || base["mp0.size"] != "16 GiB" {
		t.Errorf("baseline memory %q mp0.size %q", base["memory"], base["mp0.size"])
	}
	// Nothing moved: no drift, nothing to do.
	l.Applied = base
	if cp := Diff(c, l, testOpts); cp.Status != plan.StatusUnchanged || len(cp.Changes) != 0 {
		t.Fatalf("after apply: %s %q", cp.Status, changeList(cp))
	}
	// A hand change shows as drift; a spec change does not.
	hand := strings.Replace(after, "cores: 4", "cores: 8", 1)
	l = liveFrom(t, hand, false)
	l.Applied = base
	c2 := ct(t, strings.Replace(bigSpec, "memory: 2G", "memory: 3G", 1))
	cp := Diff(c2, l, testOpts)
	if got, want := changeList(cp), []string{"cores ~ hot drift", "memory ~ hot"}; !reflect.DeepEqual(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
}

func TestHumanSize(t *testing.T) {
	tests := map[format.Size]string{
		0: "0 B", 512: "512 B", format.KiB: "1 KiB", 1536 * format.MiB: "1.5 GiB", 1000 * format.MiB: "1000 MiB",
		8 * format.GiB: "8 GiB", 1024 * format.GiB: "1 TiB", 1280 * format.MiB: "1.25 GiB",
		format.GiB + 10*format.MiB: "1034 MiB", 3*format.GiB + 512*format.MiB: "3.5 GiB", format.GiB + format.KiB: "1048577 KiB",
	}
	for in, want := range tests {
		if got := humanSize(in); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", in, got, want)
		}
	}
}

package diff

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/felhom/felhom/internal/testref"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

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
				l.Storages = map[string]Storage{"local": lvmthin}
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

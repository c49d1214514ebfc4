package diff

import (
	"testing"

	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/reconcile/plan"
)

// FuzzDiff feeds arbitrary live configs to Diff against a spec that names
// almost everything: Diff must not panic, and the plan must be valid (steps
// exactly when the status is "changes", known classes and actions).
func FuzzDiff(f *testing.F) {
	f.Add(baseConf, true)
	f.Add(baseConf+"mp0: tank:vm-101-disk-1,mp=/data,size=8G\n\n[pve:pending]\nmemory: 4096\ndelete: swap\n", false)
	f.Add("rootfs: /srv/root\nmp0: /dev/sda1,mp=/x\nfeatures: keyctl=1\nnet0: name=eth0\n", true)
	f.Add("memory: lots\nrootfs: local:1,size=nope\nstartup: 0\ntags: ;;;\n", true)
	c := ct(f, bigSpec+"restart: {mode: when-needed}\n")
	f.Fuzz(func(t *testing.T, conf string, running bool) {
		file, err := ctconf.Parse([]byte(conf))
		if err != nil {
			t.Skip()
		}
		l := &Live{Node: "pve1", VMID: 101, Running: running, Config: file.Current(), Pending: map[string]string{},
			PendingDelete: map[string]bool{}, Storages: map[string]Storage{"local-lvm": lvmthin}}
		for _, e := range file.PendingEntries() {
			if e.HasPending {
				l.Pending[e.Key] = e.Pending
			}
			if e.Delete != 0 {
				l.PendingDelete[e.Key] = true
			}
		}
		cp := Diff(c, l, testOpts)
		p := &plan.Plan{FormatVersion: plan.FormatVersion, Containers: []plan.ContainerPlan{cp}}
		if err := p.Validate(); err != nil {
			t.Fatalf("invalid plan: %v", err)
		}
		_ = Baseline(c, l)
	})
}

package diff

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/felhom/felhom/internal/golden"
	"github.com/felhom/felhom/privileged"
	"github.com/felhom/felhom/reconcile/render"
	"github.com/felhom/felhom/spec"
)

// TestGoldenPlan builds one plan over several containers and compares its
// JSON and text with the golden files: the whole output of diff, reviewed
// by eye once and then kept.
func TestGoldenPlan(t *testing.T) {
	withVolume := baseConf + "mp0: tank:vm-101-disk-1,mp=/data,size=8G\ntags: old\n\n[pve:pending]\nmemory: 4096\nsearchdomain: example.lan\n\n[felhom-20261101t000000-aaa]\nmemory: 512\n"
	rename := func(c *spec.Container, name string, vmid int) spec.Container {
		out := *c
		out.Metadata.Name, out.Spec.VMID = name, vmid
		return out
	}
	relive := func(l *Live, vmid int) *Live { l.VMID = vmid; return l }
	onNode := func(l *Live, node string) *Live { l.Node = node; return l }

	specs := []spec.Container{
		rename(ct(t, bigSpec+"restart: {mode: when-needed}\nsnapshot: {keep: 1}\n"), "web", 101),
		rename(ct(t, "memory: 1G\ncores: 2"), "db", 102),
		rename(ct(t, "memory: 2G\nmountpoints:\n  mp2: {bind: /srv/media, mp: /media}"), "media", 103),
		rename(ct(t, "rootfs: {storage: local-lvm, size: 4G}"), "ci", 104),
		rename(ct(t, "memory: 1G"), "ghost", 105),
		rename(ct(t, "nameserver: 9.9.9.9"), "cache", 106),
		rename(ct(t, "memory: 2G\nfeatures: {keyctl: true}\nmountpoints:\n  mp2: {bind: /srv/media, mp: /media}\nsnapshot: {when-impossible: vzdump}\nbackup: {schedule: daily, storage: backups}"), "gpu", 107),
	}
	live := map[int]*Live{
		101: liveFrom(t, withVolume, true),
		102: relive(liveFrom(t, baseConf, false), 102),
		103: relive(liveFrom(t, baseConf, true), 103),
		104: relive(liveFrom(t, baseConf, false), 104),
		106: relive(liveFrom(t, baseConf+"\n[pve:pending]\nnameserver: 9.9.9.9\n", true), 106),
		107: onNode(relive(liveFrom(t, baseConf+"mp0: /srv/old,mp=/old\n", true), 107), "pve2"),
	}
	// Shuffle the input order: the plan's order must not depend on it.
	specs[0], specs[5] = specs[5], specs[0]
	// felhom runs as root on pve2 with the privileged backend: 107's
	// root-only writes go to pct set, 103's (on pve1) stay blocked.
	opts := testOpts
	opts.Root = privileged.Status{Enabled: true, UID: 0, Node: "pve2"}
	p := Build(specs, live, opts)

	var js, txt bytes.Buffer
	if err := render.JSON(&js, p); err != nil {
		t.Fatal(err)
	}
	if err := render.Text(&txt, p, render.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "plan.golden.json"), js.Bytes())
	golden.Check(t, filepath.Join("testdata", "plan.golden.txt"), txt.Bytes())
}

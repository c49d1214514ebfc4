package diff

import (
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/reconcile/plan"
)

// bigSpec names most of what a spec can name.
const bigSpec = `hostname: web.example.lan
memory: 2G
swap: 1G
cores: 4
cpulimit: 1.5
cpuunits: 200
onboot: true
startup: {order: 2, up: 30}
protection: false
tags: [web, prod]
description: "Front end.\nSecond line."
nameserver: 9.9.9.9 1.1.1.1
searchdomain: example.lan
features: {nesting: true}
net:
  net0: {name: eth0, bridge: vmbr1, ip: 192.168.1.50/24, gw: 192.168.1.1, firewall: true, mtu: 1450}
  net1: {name: eth1, bridge: vmbr2, ip: dhcp, ip6: auto, tag: 20}
rootfs: {storage: local-lvm, size: 12G, acl: true, mountoptions: [noatime]}
mountpoints:
  mp0: {storage: tank, size: 16G, mp: /data, backup: true}
  mp1: {storage: tank, size: 1.5G, mp: /cache, ro: false}
`

// TestApplyThenPlanIsEmpty applies each plan the way PVE would (ctconf is
// the simulator's model of PVE's config updates) and plans again: the
// second plan must have no steps, and after a restart no changes at all.
func TestApplyThenPlanIsEmpty(t *testing.T) {
	confs := map[string]string{
		"base":                    baseConf,
		"with volume and pending": baseConf + "mp0: tank:vm-101-disk-1,mp=/data,size=8G\ntags: old\n\n[pve:pending]\nmemory: 4096\nsearchdomain: example.lan\n",
	}
	for confName, conf := range confs {
		for _, running := range []bool{false, true} {
			for _, restart := range []string{"never", "when-needed"} {
				name := confName + "/" + map[bool]string{true: "running", false: "stopped"}[running] + "/" + restart
				t.Run(name, func(t *testing.T) {
					c := ct(t, bigSpec+"restart: {mode: "+restart+"}\n")
					first := Diff(c, liveFrom(t, conf, running), testOpts)
					if first.Status != plan.StatusChanges {
						t.Fatalf("first plan: %s %q", first.Status, first.Blocked)
					}
					after := applySteps(t, conf, running, first)
					second := Diff(c, liveFrom(t, after, running), testOpts)
					if len(second.Steps) != 0 || second.Status != plan.StatusUnchanged {
						t.Fatalf("second plan has %s with steps %q and changes %q\nconfig:\n%s", second.Status, stepList(second), changeList(second), after)
					}
					for _, ch := range second.Changes {
						if ch.Class != plan.ClassAwaitingRestart {
							t.Errorf("second plan: %s is %s, want only awaiting-restart", ch.Path, ch.Class)
						}
					}
					if running && restart == "when-needed" && len(second.Changes) > 0 {
						t.Errorf("when-needed left changes awaiting a restart: %q", changeList(second))
					}
					// Start (or restart) the container: PVE applies what is pending.
					f, err := ctconf.Parse([]byte(after))
					if err != nil {
						t.Fatal(err)
					}
					if _, err := f.ApplyPending(&allocator{}); err != nil {
						t.Fatal(err)
					}
					third := Diff(c, liveFrom(t, string(f.Bytes()), running), testOpts)
					if third.Status != plan.StatusUnchanged || len(third.Changes) != 0 {
						t.Errorf("after restart: %s %q", third.Status, changeList(third))
					}
				})
			}
		}
	}
}

// TestPendingRestartKeys checks the classes of a running container's
// changes against PVE's hotplug rules on the big spec.
func TestPendingRestartKeys(t *testing.T) {
	cp := Diff(ct(t, bigSpec), liveFrom(t, baseConf+"mp0: tank:vm-101-disk-1,mp=/data,size=8G\n", true), testOpts)
	classes := map[string]plan.Class{}
	for _, ch := range cp.Changes {
		classes[ch.Path] = ch.Class
	}
	want := map[string]plan.Class{
		"memory": plan.ClassHot, "swap": plan.ClassHot, "cores": plan.ClassHot, "cpulimit": plan.ClassHot,
		"cpuunits": plan.ClassHot, "onboot": plan.ClassHot, "hostname": plan.ClassHot, "tags": plan.ClassHot,
		"description": plan.ClassHot, "startup.order": plan.ClassHot, "net0.bridge": plan.ClassHot, "net1": plan.ClassHot,
		"mp1": plan.ClassHot, "mp0.size": plan.ClassHot, "rootfs.size": plan.ClassHot,
		"nameserver": plan.ClassPendingRestart, "searchdomain": plan.ClassPendingRestart,
		"features.nesting": plan.ClassPendingRestart, "rootfs.acl": plan.ClassPendingRestart,
		"rootfs.mountoptions": plan.ClassPendingRestart, "mp0.backup": plan.ClassPendingRestart,
	}
	for path, class := range want {
		if classes[path] != class {
			t.Errorf("%s: class %q, want %q", path, classes[path], class)
		}
	}
	if got := strings.Join(stepList(cp), " "); got != "snapshot resize resize set-config" {
		t.Errorf("steps %q", got)
	}
}

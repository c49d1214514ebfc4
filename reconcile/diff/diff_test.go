package diff

import (
	"reflect"
	"strings"
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name    string
		conf    string
		running bool
		spec    string
		live    func(*Live) // adjusts the observed state
		status  plan.Status
		changes []string // "path op class [drift]"
		steps   []string // action tokens
		set     map[string]string
		blocked string // a substring of the first reason
		warning string // a substring of some warning
		nowarn  string // a substring no warning may hold
	}{
		{
			name: "nothing named, nothing planned", conf: baseConf, running: true, spec: "",
			status: plan.StatusUnchanged,
		},
		{
			name: "equal meanings in other spellings", conf: baseConf + "onboot: 0\ntags: web;Prod\ndescription: hi\n", running: true,
			spec: `memory: 1G
swap: 512M
cores: 2
cpulimit: 0
cpuunits: 100
onboot: false
protection: false
tags: [PROD, web]
description: "hi\n"
features: {nesting: false}
net:
  net0: {name: eth0, bridge: vmbr0, ip: dhcp, hwaddr: bc:24:11:1b:6d:d4, firewall: false}
rootfs: {storage: local-lvm, size: 8192M, replicate: true, quota: false}`,
			status: plan.StatusUnchanged,
		},
		{
			name: "running: hot and pending changes, restart never", conf: baseConf, running: true,
			spec: `memory: 2G
nameserver: 9.9.9.9
features: {nesting: true}
net:
  net0: {bridge: vmbr1}`,
			status: plan.StatusChanges,
			changes: []string{"features.nesting ~ pending-restart", "memory ~ hot", "nameserver + pending-restart",
				"net0.bridge ~ hot"},
			steps: []string{"snapshot", "set-config"},
			set: map[string]string{"memory": "2048", "nameserver": "9.9.9.9", "features": "nesting=1",
				"net0": "name=eth0,bridge=vmbr1,hwaddr=BC:24:11:1B:6D:D4,ip=dhcp,type=veth"},
			warning: "2 changes wait for a restart (restart policy: never)",
		},
		{
			name: "running: restart when needed", conf: baseConf, running: true,
			spec:    "nameserver: 9.9.9.9\nrestart: {mode: when-needed}",
			status:  plan.StatusChanges,
			changes: []string{"nameserver + pending-restart"},
			steps:   []string{"snapshot", "set-config", "reboot"},
		},
		{
			name: "a reboot names the pending changes the spec does not manage", conf: baseConf + "\n[pve:pending]\nsearchdomain: lan\ndelete: swap\n", running: true,
			spec:    "nameserver: 9.9.9.9\nrestart: {mode: when-needed}",
			status:  plan.StatusChanges,
			changes: []string{"nameserver + pending-restart"},
			steps:   []string{"snapshot", "set-config", "reboot"},
			warning: "the reboot also applies pending changes the spec does not manage: searchdomain, swap",
		},
		{
			name: "stopped: everything at once, no reboot", conf: baseConf, running: false,
			spec:    "nameserver: 9.9.9.9\nmemory: 2G\nrestart: {mode: when-needed}",
			status:  plan.StatusChanges,
			changes: []string{"memory ~ hot", "nameserver + hot"},
			steps:   []string{"snapshot", "set-config"},
		},
		{
			name: "pending value already desired: awaiting restart", conf: baseConf + "\n[pve:pending]\nnameserver: 9.9.9.9\n", running: true,
			spec:    "nameserver: 9.9.9.9",
			status:  plan.StatusUnchanged,
			changes: []string{"nameserver + awaiting-restart"},
			warning: "1 change waits for a restart",
		},
		{
			name: "awaiting restart with policy when-needed: a reboot after a snapshot", conf: baseConf + "\n[pve:pending]\nnameserver: 9.9.9.9\n", running: true,
			spec:    "nameserver: 9.9.9.9\nrestart: {mode: when-needed}",
			status:  plan.StatusChanges,
			changes: []string{"nameserver + awaiting-restart"},
			steps:   []string{"snapshot", "reboot"},
		},
		{
			name: "pending value that would undo the spec is reverted", conf: baseConf + "\n[pve:pending]\nmemory: 4096\n", running: true,
			spec:    "memory: 1G",
			status:  plan.StatusChanges,
			changes: []string{"memory ~ hot"},
			steps:   []string{"snapshot", "set-config"},
			set:     map[string]string{"revert": "memory"},
		},
		{
			name: "pending delete already desired", conf: baseConf + "tags: a\n\n[pve:pending]\ndelete: nameserver\nnameserver: 1.1.1.1\n", running: true,
			spec:   "tags: [a]",
			status: plan.StatusUnchanged,
		},
		{
			name: "empty values delete the key", conf: baseConf + "tags: a;b\ndescription: x\n", running: true,
			spec:    "tags: []\ndescription: \"\"",
			status:  plan.StatusChanges,
			changes: []string{"description - hot", "tags - hot"},
			steps:   []string{"snapshot", "set-config"},
			set:     map[string]string{"delete": "description,tags"},
		},
		{
			name: "grow a volume: resize before the config write", conf: baseConf + "mp0: tank:vm-101-disk-1,mp=/data,size=8G\n", running: true,
			spec: `mountpoints:
  mp0: {storage: tank, size: 16G, mp: /data, backup: true}`,
			status:  plan.StatusChanges,
			changes: []string{"mp0.backup ~ pending-restart", "mp0.size ~ hot"},
			steps:   []string{"snapshot", "resize", "set-config"},
			set:     map[string]string{"mp0": "tank:vm-101-disk-1,mp=/data,backup=1,size=16G"},
		},
		{
			name: "new volume mount point is hot", conf: baseConf, running: true,
			spec: `mountpoints:
  mp1: {storage: tank, size: 4G, mp: /cache}`,
			status:  plan.StatusChanges,
			changes: []string{"mp1 + hot"},
			steps:   []string{"snapshot", "set-config"},
			set:     map[string]string{"mp1": "tank:4,mp=/cache"},
		},
		{
			name: "shrinking is impossible", conf: baseConf, running: true,
			spec:    "rootfs: {storage: local-lvm, size: 4G}\nmemory: 2G",
			status:  plan.StatusError,
			changes: []string{"memory ~ hot", "rootfs.size ~ impossible"},
			blocked: "rootfs.size: PVE cannot shrink a volume",
		},
		{
			name: "an unreadable live features value is an error naming it", conf: baseConf + "features: bogus=1\n", running: true,
			spec:    "features: {nesting: true}",
			status:  plan.StatusError,
			blocked: `live value "bogus=1"`,
		},
		{
			name: "moving storage is impossible", conf: baseConf, running: false,
			spec:    "rootfs: {storage: tank}",
			status:  plan.StatusError,
			changes: []string{"rootfs.storage ~ impossible"},
			blocked: "rootfs.storage",
		},
		{
			name: "bind mount is root-only", conf: baseConf, running: true,
			spec:    "mountpoints:\n  mp2: {bind: /srv/media, mp: /media}",
			status:  plan.StatusBlocked,
			changes: []string{"mp2 + root-only"},
			blocked: "mp2: bind mount points can only be set by root@pam",
		},
		{
			name: "an existing bind mount as the spec says is fine", conf: baseConf + "mp2: /srv/media,mp=/media\n", running: true,
			spec:   "mountpoints:\n  mp2: {bind: /srv/media, mp: /media}",
			status: plan.StatusUnchanged,
		},
		{
			name: "a bind mount on PVE where the spec wants a volume is left to root", conf: baseConf + "mp2: /srv/media,mp=/media\n", running: false,
			spec:    "mountpoints:\n  mp2: {storage: tank, size: 4G, mp: /media}",
			status:  plan.StatusBlocked,
			changes: []string{"mp2.volume ~ root-only"},
			blocked: "mp2: is a bind mount point on PVE",
		},
		{
			name: "feature other than nesting is root-only", conf: baseConf, running: true,
			spec:    "features: {keyctl: true}",
			status:  plan.StatusBlocked,
			changes: []string{"features.keyctl ~ root-only"},
			blocked: "features.keyctl",
		},
		{
			name: "nesting on a privileged container is root-only", conf: strings.Replace(baseConf, "unprivileged: 1\n", "", 1), running: true,
			spec:    "features: {nesting: true}",
			status:  plan.StatusBlocked,
			blocked: "privileged container",
			changes: []string{"features.nesting ~ root-only"},
		},
		{
			name: "storage without snapshots: the policy refuses", conf: baseConf, running: true,
			spec:    "memory: 2G",
			live:    func(l *Live) { l.Storages = map[string]Storage{"local-lvm": dirStorage} },
			status:  plan.StatusBlocked,
			changes: []string{"memory ~ hot"},
			// The hint reads as what to do, not as the policy in force.
			blocked: "rootfs is on storage local-lvm, which cannot snapshot container volumes; the snapshot policy refuses to change it unprotected (set snapshot.when-impossible: vzdump to back it up first)",
		},
		{
			// The storage list leaves out storages the token cannot
			// audit (PVE/API2/Storage/Status.pm index), and a snapshot
			// needs only VM.Snapshot: unknown is not "cannot".
			name: "storage the token cannot see: the snapshot is tried, unverified", conf: baseConf, running: true,
			spec:    "memory: 2G",
			live:    func(l *Live) { l.Storages = map[string]Storage{} },
			status:  plan.StatusChanges,
			changes: []string{"memory ~ hot"},
			steps:   []string{"snapshot", "set-config"},
			warning: "whether PVE can snapshot rootfs is unverified: the token's storage list does not show local-lvm",
		},
		{
			name: "a storage that cannot snapshot wins over one unknown", conf: baseConf + "mp0: nas:101/vm-101-disk-1.raw,mp=/data,size=1G\n", running: true,
			spec:    "memory: 2G",
			live:    func(l *Live) { l.Storages = map[string]Storage{"nas": dirStorage} },
			status:  plan.StatusBlocked,
			changes: []string{"memory ~ hot"},
			blocked: "PVE cannot snapshot this container: mp0 is on storage nas, which cannot snapshot container volumes;",
		},
		// Issue 10 item 9: the plan checks what the storage list and the
		// node list already say.
		{
			name: "new volume on a storage the node does not list", conf: baseConf, running: true,
			spec:    "mountpoints: {mp0: {storage: fast, size: 8G, mp: /data}}",
			status:  plan.StatusBlocked,
			blocked: "mp0: storage fast is not in node pve1's storage list: it does not exist there, or the token lacks Datastore.AllocateSpace on /storage/fast, which a new volume needs",
		},
		{
			name: "new volume on a backup-only storage", conf: baseConf, running: true,
			spec:    "mountpoints: {mp0: {storage: nfs-backup, size: 8G, mp: /data}}",
			status:  plan.StatusBlocked,
			blocked: "mp0: storage nfs-backup does not take rootdir content (it takes backup), which a new volume needs",
		},
		{
			name: "new volume larger than the storage's free space warns", conf: baseConf, running: true,
			spec:    "mountpoints: {mp0: {storage: tank, size: 600G, mp: /data}}",
			status:  plan.StatusChanges,
			changes: []string{"mp0 + hot"},
			steps:   []string{"snapshot", "set-config"},
			warning: "mp0: a new volume of 600 GiB needs 600 GiB, and storage tank has 500.0 GiB free",
		},
		{
			name: "grow past the free space warns", conf: baseConf, running: true,
			spec:    "rootfs: {storage: local-lvm, size: 600G}",
			status:  plan.StatusChanges,
			changes: []string{"rootfs.size ~ hot"},
			steps:   []string{"snapshot", "resize"},
			warning: "rootfs: growing 8 GiB to 600 GiB needs 592 GiB, and storage local-lvm has 500.0 GiB free",
		},
		{
			name: "tenfold growth warns", conf: baseConf, running: true,
			spec:    "rootfs: {storage: local-lvm, size: 80G}",
			status:  plan.StatusChanges,
			changes: []string{"rootfs.size ~ hot"},
			steps:   []string{"snapshot", "resize"},
			warning: "rootfs grows 10x at once (8 GiB to 80 GiB); volumes never shrink again, so check the unit",
		},
		{
			name: "modest growth within the free space does not warn", conf: baseConf, running: true,
			spec:    "rootfs: {storage: local-lvm, size: 16G}",
			status:  plan.StatusChanges,
			changes: []string{"rootfs.size ~ hot"},
			steps:   []string{"snapshot", "resize"},
			nowarn:  "rootfs",
		},
		{
			name: "attaching a volume the storage does not have", conf: baseConf, running: true,
			spec:    "mountpoints: {mp0: {volume: tank:vm-101-disk-7, mp: /data}}",
			live:    func(l *Live) { l.Volumes = map[string]bool{"tank:vm-101-disk-7": false} },
			status:  plan.StatusBlocked,
			blocked: "mp0: volume tank:vm-101-disk-7 is not in the content list of storage tank on node pve1: it does not exist there, or the token may not use it",
		},
		{
			name: "attaching a volume the storage has", conf: baseConf, running: true,
			spec:    "mountpoints: {mp0: {volume: tank:vm-101-disk-7, mp: /data}}",
			live:    func(l *Live) { l.Volumes = map[string]bool{"tank:vm-101-disk-7": true} },
			status:  plan.StatusChanges,
			changes: []string{"mp0 + hot"},
			steps:   []string{"snapshot", "set-config"},
		},
		{
			name: "vzdump before the change to a storage that takes no backups", conf: baseConf + "mp2: /srv/media,mp=/media\n", running: true,
			spec: `memory: 2G
snapshot: {when-impossible: vzdump}
backup: {schedule: daily, storage: tank}`,
			status:  plan.StatusBlocked,
			changes: []string{"memory ~ hot"},
			blocked: "the snapshot policy asks for a vzdump backup first, but storage tank does not take backup content (it takes rootdir, images), which the backup before the change needs",
		},
		{
			name: "bind mount on the container: vzdump first, then prune", conf: baseConf + "mp2: /srv/media,mp=/media\n", running: true,
			spec: `memory: 2G
snapshot: {when-impossible: vzdump}
backup: {schedule: daily, storage: nfs-backup, compress: zstd, retention: {keep-last: 3, keep-daily: 7}}`,
			status:  plan.StatusChanges,
			changes: []string{"memory ~ hot"},
			steps:   []string{"vzdump", "set-config", "prune"},
		},
		{
			name: "no snapshot when the policy says so", conf: baseConf, running: true,
			spec:    "memory: 2G\nsnapshot: {before-change: false}",
			status:  plan.StatusChanges,
			steps:   []string{"set-config"},
			changes: []string{"memory ~ hot"},
			warning: "without a snapshot",
		},
		{
			name:    "old felhom snapshots beyond keep are deleted, others never",
			conf:    baseConf + "parent: felhom-20261103t000000\n\n[before-upgrade]\nmemory: 512\n\n[felhom-20261101t000000]\nmemory: 512\n\n[felhom-20261102t000000-abc]\nmemory: 512\n\n[felhom-20261103t000000]\nmemory: 512\n",
			running: true, spec: "memory: 2G\nsnapshot: {keep: 2}",
			status:  plan.StatusChanges,
			changes: []string{"memory ~ hot"},
			steps:   []string{"snapshot", "set-config", "snapshot-prune", "snapshot-prune"},
		},
		{
			name: "locked container is planned with a note", conf: baseConf + "lock: backup\n", running: true,
			spec: "memory: 2G", status: plan.StatusChanges, changes: []string{"memory ~ hot"},
			steps: []string{"snapshot", "set-config"}, warning: "locked (backup)",
		},
		{
			name: "protection blocks mount point writes", conf: baseConf + "protection: 1\n", running: false,
			spec:    "mountpoints:\n  mp1: {storage: tank, size: 4G, mp: /cache}",
			status:  plan.StatusBlocked,
			changes: []string{"mp1 + hot"},
			blocked: "protection is on",
		},
		{
			name: "a new interface without a name is an error", conf: baseConf, running: true,
			spec:    "net:\n  net1: {bridge: vmbr1}",
			status:  plan.StatusError,
			blocked: "net1: a new interface needs a name",
		},
		{
			name: "drift is marked", conf: strings.Replace(baseConf, "memory: 1024", "memory: 4096", 1), running: true,
			spec:    "memory: 1G",
			live:    func(l *Live) { l.Applied = map[string]string{"memory": "1 GiB"} },
			status:  plan.StatusChanges,
			changes: []string{"memory ~ hot drift"},
			steps:   []string{"snapshot", "set-config"},
		},
		{
			name: "drift policy report leaves drift alone", conf: strings.Replace(baseConf, "memory: 1024", "memory: 4096", 1), running: true,
			spec:    "memory: 1G\ndrift: report",
			live:    func(l *Live) { l.Applied = map[string]string{"memory": "1 GiB"} },
			status:  plan.StatusUnchanged,
			changes: []string{"memory ~ hot drift"},
			warning: "left as found (drift policy: report): memory",
		},
		{
			name: "drift policy report still applies spec changes", conf: strings.Replace(baseConf, "memory: 1024", "memory: 4096", 1), running: true,
			spec:    "memory: 2G\ndrift: report",
			live:    func(l *Live) { l.Applied = map[string]string{"memory": "1 GiB"} },
			status:  plan.StatusChanges,
			changes: []string{"memory ~ hot drift"},
			steps:   []string{"snapshot", "set-config"},
			nowarn:  "cannot tell hand changes",
		},
		{
			name: "drift policy report without a baseline on a container PVE cannot snapshot warns", conf: baseConf + "mp2: /srv/media,mp=/media\n", running: true,
			spec: `memory: 2G
drift: report
snapshot: {when-impossible: vzdump}
backup: {schedule: daily, storage: nfs-backup}`,
			status:  plan.StatusChanges,
			changes: []string{"memory ~ hot"},
			steps:   []string{"vzdump", "set-config"},
			warning: "drift: report cannot tell hand changes from spec changes here: felhom keeps its baseline in the felhom snapshot it takes before a change, and PVE cannot snapshot this container, so it has none; every difference is planned as a change, hand changes too",
		},
		{
			name: "drift policy report before the first snapshotted apply warns", conf: baseConf, running: true,
			spec:    "memory: 2G\ndrift: report",
			status:  plan.StatusChanges,
			changes: []string{"memory ~ hot"},
			steps:   []string{"snapshot", "set-config"},
			warning: "felhom has no baseline for this container yet (it writes one into the felhom snapshot of its next verified apply that changes the config; a start or shutdown that changes none takes no snapshot)",
		},
		{
			name: "drift policy report without snapshots warns", conf: baseConf, running: true,
			spec:    "memory: 2G\ndrift: report\nsnapshot: {before-change: false}",
			live:    func(l *Live) { l.Applied = map[string]string{} },
			status:  plan.StatusChanges,
			changes: []string{"memory ~ hot"},
			steps:   []string{"set-config"},
			warning: "snapshot.before-change is off, so this container has none",
		},
		{
			name: "drift policy report without a baseline and nothing to write is quiet", conf: baseConf, running: true,
			spec:   "memory: 1G\ndrift: report",
			status: plan.StatusUnchanged,
			nowarn: "cannot tell hand changes",
		},
		{
			name: "drift policy revert without a baseline is quiet", conf: baseConf + "mp2: /srv/media,mp=/media\n", running: true,
			spec: `memory: 2G
snapshot: {when-impossible: vzdump}
backup: {schedule: daily, storage: nfs-backup}`,
			status:  plan.StatusChanges,
			changes: []string{"memory ~ hot"},
			steps:   []string{"vzdump", "set-config"},
			nowarn:  "cannot tell hand changes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := liveFrom(t, tt.conf, tt.running)
			if tt.live != nil {
				tt.live(live)
			}
			cp := Diff(ct(t, tt.spec), live, testOpts)
			wantPlan(t, cp, tt.status, tt.changes)
			wantSteps(t, cp, tt.steps)
			if tt.set != nil {
				var params map[string]string
				for _, s := range cp.Steps {
					if s.Action == plan.ActionSetConfig {
						params = s.Params
					}
				}
				if !reflect.DeepEqual(params, tt.set) {
					t.Errorf("set-config params\n got %q\nwant %q", params, tt.set)
				}
			}
			if tt.blocked != "" && (len(cp.Blocked) == 0 || !strings.Contains(cp.Blocked[0], tt.blocked)) {
				t.Errorf("blocked %q, want it to say %q", cp.Blocked, tt.blocked)
			}
			if tt.blocked == "" && len(cp.Blocked) > 0 {
				t.Errorf("unexpected blocked %q", cp.Blocked)
			}
			if tt.warning != "" && !strings.Contains(strings.Join(cp.Warnings, "\n"), tt.warning) {
				t.Errorf("warnings %q, want one saying %q", cp.Warnings, tt.warning)
			}
			warnings := strings.Join(cp.Warnings, "\n")
			if tt.nowarn != "" && strings.Contains(warnings, tt.nowarn) {
				t.Errorf("warnings %q, want none saying %q", cp.Warnings, tt.nowarn)
			}
			if n := strings.Count(warnings, "drift: report cannot"); n > 1 {
				t.Errorf("%d warnings on a missing baseline, want at most one: %q", n, cp.Warnings)
			}
			if err := (&plan.Plan{FormatVersion: plan.FormatVersion, Containers: []plan.ContainerPlan{cp}}).Validate(); err != nil {
				t.Errorf("invalid plan: %v", err)
			}
		})
	}
}

// TestSpecNodeNotInCluster: a spec naming a node the cluster does not have
// is an error, found or not, and never planned where the container happens
// to be; a node that exists but is not the container's (it migrated) is
// planned where the container is, with a warning.
func TestSpecNodeNotInCluster(t *testing.T) {
	opts := testOpts
	opts.Nodes = []string{"pve1", "pve2"}
	for _, tt := range []struct {
		name, node string
		found      bool
		status     plan.Status
		say        string
	}{
		{"found, node unknown", "pve9", true, plan.StatusError, "node pve9 is not in the cluster (its nodes: pve1, pve2)"},
		{"missing, node unknown", "pve9", false, plan.StatusError, "node pve9 is not in the cluster (its nodes: pve1, pve2)"},
		{"found on another node", "pve2", true, plan.StatusChanges, "found on node pve1, the spec says pve2; planned where it is"},
		{"missing, node known", "pve2", false, plan.StatusMissing, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ct(t, "memory: 2G")
			c.Spec.Node = tt.node
			var live *Live
			if tt.found {
				live = liveFrom(t, baseConf, true)
			}
			cp := Diff(c, live, opts)
			if cp.Status != tt.status {
				t.Fatalf("status %s, want %s (%q %q)", cp.Status, tt.status, cp.Blocked, cp.Warnings)
			}
			if all := strings.Join(append(cp.Blocked, cp.Warnings...), "\n"); !strings.Contains(all, tt.say) {
				t.Errorf("reasons %q, want %q", all, tt.say)
			}
			if tt.status == plan.StatusError && len(cp.Steps) != 0 {
				t.Errorf("steps %v on a wrong node", cp.Steps)
			}
		})
	}
}

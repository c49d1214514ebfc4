package diff

import (
	"strings"
	"testing"

	"github.com/felhom/felhom/privileged"
	"github.com/felhom/felhom/reconcile/plan"
)

// Root-only writes are routed per key: to the pct-set step when the
// privileged backend may write on the container's node, else the container
// is blocked with the reason and what would enable the backend.
func TestRootOnlyRouting(t *testing.T) {
	const body = "memory: 2G\nfeatures: {keyctl: true}\nmountpoints:\n  mp1: {bind: /srv/data, mp: /data}"
	root := privileged.Status{Enabled: true, UID: 0, Node: "pve1"}
	for _, tt := range []struct {
		name    string
		root    Root
		blocked string // "" when routed
	}{
		{"available", root, ""},
		{"no backend", nil, "the privileged backend is not enabled (set privileged.enabled: true in felhom's config and run felhom as root on node pve1)"},
		{"disabled", privileged.Status{UID: 0, Node: "pve1"}, "the privileged backend is not enabled"},
		{"not root", privileged.Status{Enabled: true, UID: 1000, Node: "pve1"}, "felhom runs as uid 1000, not root (run felhom as root on node pve1)"},
		{"other node", privileged.Status{Enabled: true, UID: 0, Node: "pve2"}, "felhom runs on node pve2, the container is on pve1 (run felhom as root on node pve1)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOpts
			opts.Root = tt.root
			cp := Diff(ct(t, body), liveFrom(t, baseConf, true), opts)
			if tt.blocked != "" {
				if cp.Status != plan.StatusBlocked || len(cp.Steps) != 0 || cp.RootOn != "" {
					t.Fatalf("status %s, %d steps, root on %q; want blocked", cp.Status, len(cp.Steps), cp.RootOn)
				}
				if len(cp.Blocked) != 2 {
					t.Fatalf("blocked %q, want one reason per root-only key", cp.Blocked)
				}
				for _, b := range cp.Blocked {
					if !strings.Contains(b, "root@pam") || !strings.Contains(b, tt.blocked) {
						t.Errorf("reason %q does not say %q", b, tt.blocked)
					}
				}
				for _, ch := range cp.Changes {
					if ch.Privileged || (ch.Path != "memory") != (ch.Class == plan.ClassRootOnly) {
						t.Errorf("change %+v", ch)
					}
				}
				return
			}
			if cp.Status != plan.StatusChanges || cp.RootOn != "pve1" {
				t.Fatalf("status %s, root on %q, blocked %q", cp.Status, cp.RootOn, cp.Blocked)
			}
			var acts []string
			var pct, api plan.Step
			for _, s := range cp.Steps {
				acts = append(acts, s.Action.Token())
				switch s.Action {
				case plan.ActionPctSet:
					pct = s
				case plan.ActionSetConfig:
					api = s
				}
			}
			if got := strings.Join(acts, " "); got != "snapshot pct-set set-config" {
				t.Errorf("steps %s", got)
			}
			if len(pct.Params) != 2 || pct.Params["mp1"] != "/srv/data,mp=/data" || pct.Params["features"] != "keyctl=1" {
				t.Errorf("pct-set params %v", pct.Params)
			}
			if len(api.Params) != 1 || api.Params["memory"] != "2048" {
				t.Errorf("set-config params %v", api.Params)
			}
			// Each routed change says so; its class is PVE's hotplug rule.
			want := map[string]plan.Class{"memory": plan.ClassHot, "mp1": plan.ClassHot, "features.keyctl": plan.ClassPendingRestart}
			for _, ch := range cp.Changes {
				if ch.Class != want[ch.Path] || ch.Privileged != (ch.Path != "memory") {
					t.Errorf("change %s: class %s privileged %v", ch.Path, ch.Class, ch.Privileged)
				}
			}
			// The token is asked for nothing on the root-only keys.
			for _, p := range cp.Privileges {
				if p.Name == "VM.Allocate" || p.Name == "VM.Config.Disk" {
					t.Errorf("token privilege %s for a root-only write", p)
				}
			}
		})
	}
}

// A mount point that is a bind mount on PVE and a volume in the spec is not
// a root-only write pct set would carry: it stays blocked with the backend.
func TestReplacingABindMountStaysBlocked(t *testing.T) {
	opts := testOpts
	opts.Root = privileged.Status{Enabled: true, UID: 0, Node: "pve1"}
	cp := Diff(ct(t, "mountpoints:\n  mp0: {volume: tank:vm-101-disk-1, mp: /data}"), liveFrom(t, baseConf+"mp0: /srv/data,mp=/data\n", true), opts)
	if cp.Status != plan.StatusBlocked || len(cp.Blocked) != 1 || !strings.Contains(cp.Blocked[0], "felhom leaves replacing it to root@pam") {
		t.Errorf("%s %q", cp.Status, cp.Blocked)
	}
}

// devN passthrough is root-only for any write: added whole, changed key by
// key, and only the keys the spec names.
func TestDevices(t *testing.T) {
	root := privileged.Status{Enabled: true, UID: 0, Node: "pve1"}
	for _, tt := range []struct {
		name, live, body string
		root             Root
		status           plan.Status
		set              string // the pct-set value of dev0
		paths            string
	}{
		{"add", "", "devices:\n  dev0: {path: /dev/ttyUSB0, mode: \"0660\", gid: 20}", root, plan.StatusChanges, "/dev/ttyUSB0,gid=20,mode=0660", "dev0"},
		{"same", "dev0: /dev/ttyUSB0,mode=0660,uid=0\n", "devices:\n  dev0: {path: /dev/ttyUSB0, mode: \"0660\"}", root, plan.StatusUnchanged, "", ""},
		{"mode and deny-write", "dev0: /dev/ttyUSB0,mode=0660,uid=0\n", "devices:\n  dev0: {path: /dev/ttyUSB0, mode: \"0600\", deny-write: true}", root, plan.StatusChanges,
			"/dev/ttyUSB0,deny-write=1,mode=0600,uid=0", "dev0.deny-write dev0.mode"},
		{"blocked", "", "devices:\n  dev0: {path: /dev/ttyUSB0}", nil, plan.StatusBlocked, "", "dev0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOpts
			opts.Root = tt.root
			cp := Diff(ct(t, tt.body), liveFrom(t, baseConf+tt.live, true), opts)
			var paths []string
			for _, ch := range cp.Changes {
				paths = append(paths, ch.Path)
				if ch.Privileged != (tt.status == plan.StatusChanges) {
					t.Errorf("%s privileged %v", ch.Path, ch.Privileged)
				}
			}
			if cp.Status != tt.status || strings.Join(paths, " ") != tt.paths {
				t.Fatalf("status %s changes %q blocked %q", cp.Status, paths, cp.Blocked)
			}
			if tt.status == plan.StatusBlocked && !strings.Contains(cp.Blocked[0], "dev0: configuring device passthrough is only allowed for root@pam") {
				t.Errorf("blocked %q", cp.Blocked)
			}
			if tt.set == "" {
				return
			}
			for _, s := range cp.Steps {
				if s.Action == plan.ActionPctSet && (len(s.Params) != 1 || s.Params["dev0"] != tt.set) {
					t.Errorf("pct-set %v, want dev0=%s", s.Params, tt.set)
				}
				if s.Action == plan.ActionSetConfig {
					t.Errorf("an API write %v", s.Params)
				}
			}
		})
	}
}

// The hookscript is root-only, set or removed.
func TestHookscript(t *testing.T) {
	opts := testOpts
	opts.Root = privileged.Status{Enabled: true, UID: 0, Node: "pve1"}
	for _, tt := range []struct{ live, body, param, value string }{
		{"", "hookscript: local:snippets/hook.sh", "hookscript", "local:snippets/hook.sh"},
		{"hookscript: local:snippets/old.sh\n", `hookscript: ""`, "delete", "hookscript"},
	} {
		cp := Diff(ct(t, tt.body), liveFrom(t, baseConf+tt.live, false), opts)
		if cp.Status != plan.StatusChanges || len(cp.Changes) != 1 || !cp.Changes[0].Privileged {
			t.Fatalf("%q: %s %+v %q", tt.body, cp.Status, cp.Changes, cp.Blocked)
		}
		for _, s := range cp.Steps {
			if s.Action == plan.ActionPctSet && (len(s.Params) != 1 || s.Params[tt.param] != tt.value) {
				t.Errorf("%q: pct-set %v", tt.body, s.Params)
			}
		}
	}
	cp := Diff(ct(t, "hookscript: local:snippets/hook.sh"), liveFrom(t, baseConf, false), testOpts)
	if cp.Status != plan.StatusBlocked || !strings.Contains(cp.Blocked[0], "hookscript: changing the hookscript is only allowed for root@pam") {
		t.Errorf("without the backend: %s %q", cp.Status, cp.Blocked)
	}
}

package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
)

const testPassword = "s3cret-root-pw"

func readTestSecret(path string) (pve.Secret, error) {
	if path == "/nonexistent/ct130.pass" {
		return pve.Secret(testPassword), nil
	}
	return "", errors.New("no such file")
}

// posts returns the recorded POST /nodes/pve1/lxc calls.
func posts(w *wire) []wireCall {
	var out []wireCall
	for _, c := range w.recorded() {
		if c.method == http.MethodPost && c.path == "/nodes/pve1/lxc" {
			out = append(out, c)
		}
	}
	return out
}

func TestApplyCreateFromTemplate(t *testing.T) {
	e := newEnv(t, createInventory())
	w := newWire(e)
	e.api = e.clientVia(testToken, w)
	specs := loadSpecs(t, map[string]string{"web2.yaml": ctSpec("web2", "pve1", 130, templateBody+"power: running\n")})
	p := e.plan(specs)
	js, _ := json.Marshal(p)
	if strings.Contains(string(js), testPassword) {
		t.Fatal("the plan carries the password")
	}
	res := e.apply(p, Options{Specs: specs, ReadSecret: readTestSecret})
	cr := resultFor(t, res, 130)
	if cr.Outcome != OutcomeApplied || cr.Snapshot != "" {
		t.Fatalf("apply: %s %q (snapshot %q) %+v", cr.Outcome, cr.Error, cr.Snapshot, cr.Steps)
	}
	calls := posts(w)
	if len(calls) != 1 || calls[0].form.Get("password") != testPassword || calls[0].form.Get("start") != "" || calls[0].form.Get("password-file") != "" {
		t.Fatalf("create calls %+v", calls)
	}
	starts := 0
	for _, c := range w.recorded() {
		if c.method == http.MethodPost && c.path == "/nodes/pve1/lxc/130/status/start" {
			starts++
		}
	}
	if starts != 1 {
		t.Errorf("%d POST .../status/start after the create, want 1 (its own awaited task)", starts)
	}
	rj, _ := json.Marshal(res)
	if strings.Contains(string(rj), testPassword) {
		t.Error("the result carries the password")
	}
	st, err := e.api.CurrentStatus(context.Background(), "pve1", 130)
	if err != nil || st.Status != "running" {
		t.Errorf("status after create: %+v %v, want running (power: running)", st, err)
	}
	again := planFor(t, e.plan(specs), 130)
	if again.Status != plan.StatusUnchanged || len(again.Changes) > 0 {
		t.Errorf("plan after create: %s %+v %q", again.Status, again.Changes, again.Blocked)
	}
}

func TestApplyRestoreNewestBackupNewMAC(t *testing.T) {
	for _, saved := range []bool{false, true} {
		e := newEnv(t, createInventory())
		body := "memory: 2G\nnet:\n  net0: {name: eth0, bridge: vmbr1, ip: dhcp}\nrootfs: {storage: local-lvm, size: 10G}\npower: running\ncreate:\n  restore: {newest-backup-of: 120, storage: nas}\n"
		specs := loadSpecs(t, map[string]string{"a.yaml": ctSpec("restored", "pve1", 131, body)})
		p := e.plan(specs)
		var res *Result
		if saved {
			js, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			sp, err := plan.Parse(js)
			if err != nil {
				t.Fatal(err)
			}
			res, err = ApplySaved(context.Background(), e.api, sp, Options{Clock: e.clock})
			if err != nil {
				t.Fatalf("apply saved: %v", err)
			}
		} else {
			res = e.apply(p, Options{Specs: specs})
		}
		cr := resultFor(t, res, 131)
		if cr.Outcome != OutcomeApplied {
			t.Fatalf("saved %v: apply: %s %q %+v", saved, cr.Outcome, cr.Error, cr.Steps)
		}
		var tokens []string
		for _, s := range cr.Steps {
			tokens = append(tokens, s.Step.Action.Token()+":"+string(s.Status))
		}
		if got := strings.Join(tokens, " "); got != "restore:applied resize:applied set-config:applied start:applied" {
			t.Errorf("saved %v: steps %s, want the restore, then the grow and the network it planned on the new container, then the start", saved, got)
		}
		if st, err := e.api.CurrentStatus(context.Background(), "pve1", 131); err != nil || st.Status != "running" {
			t.Errorf("saved %v: status %+v %v, want running", saved, st, err)
		}
		pc, err := e.api.Pending(context.Background(), "pve1", 131)
		if err != nil {
			t.Fatal(err)
		}
		e0, _ := pc.Get("net0")
		n, err := format.ParseNet(*e0.Value)
		if err != nil || n.HWAddr == "" || n.HWAddr == "BC:24:11:00:00:78" || n.Bridge != "vmbr1" {
			t.Errorf("saved %v: net0 %q: want the spec's bridge and a new MAC (the backup's is BC:24:11:00:00:78)", saved, *e0.Value)
		}
		if d, _ := pc.Get("description"); d.Value == nil || !strings.Contains(*d.Value, "from the backup") {
			t.Errorf("saved %v: description %+v: the backup's config is not there", saved, d)
		}
		again := planFor(t, e.plan(specs), 131)
		if again.Status != plan.StatusUnchanged {
			t.Errorf("saved %v: plan after restore: %s %+v %q", saved, again.Status, again.Changes, again.Blocked)
		}
	}
}

// A vmid taken between plan and apply (here: by the first apply of the
// same plan) is an error naming it and who holds it; nothing is created.
func TestApplyCreateVMIDTaken(t *testing.T) {
	e := newEnv(t, createInventory())
	specs := loadSpecs(t, map[string]string{"web2.yaml": ctSpec("web2", "pve1", 130, templateBody)})
	p := e.plan(specs)
	if cr := resultFor(t, e.apply(p, Options{Specs: specs, ReadSecret: readTestSecret}), 130); cr.Outcome != OutcomeApplied {
		t.Fatalf("first apply: %s %q", cr.Outcome, cr.Error)
	}
	w := newWire(e)
	e.api = e.clientVia(testToken, w)
	cr := resultFor(t, e.apply(p, Options{Specs: specs, ReadSecret: readTestSecret}), 130)
	if cr.Outcome != OutcomeFailed || cr.Failure != FailureStale || !strings.Contains(cr.Error, "vmid 130 is held by CT 130 (web2) on node pve1") {
		t.Errorf("second apply: %s %s %q", cr.Outcome, cr.Failure, cr.Error)
	}
	if n := len(posts(w)); n != 0 {
		t.Errorf("%d create calls after the vmid was taken", n)
	}
}

func TestApplyCreatePasswordFileUnreadable(t *testing.T) {
	e := newEnv(t, createInventory())
	w := newWire(e)
	e.api = e.clientVia(testToken, w)
	body := strings.Replace(templateBody, "/nonexistent/ct130.pass", "/nonexistent/other.pass", 1)
	specs := loadSpecs(t, map[string]string{"web2.yaml": ctSpec("web2", "pve1", 130, body)})
	cr := resultFor(t, e.apply(e.plan(specs), Options{Specs: specs}), 130)
	if cr.Outcome != OutcomeFailed || !strings.Contains(cr.Error, "password file /nonexistent/other.pass") || !strings.Contains(cr.Error, "nothing was created") {
		t.Errorf("apply: %s %q", cr.Outcome, cr.Error)
	}
	if n := len(posts(w)); n != 0 {
		t.Errorf("%d create calls without the password", n)
	}
}

// A create task that fails (the storage is out of space) leaves no
// container, the report says why with the task's log, and nothing else is
// tried for that container.
func TestApplyCreateTaskFails(t *testing.T) {
	inv := createInventory()
	n := inv.Node("pve1")
	small := n.AddStorage("small", "lvmthin", "rootdir")
	small.Total = 4 << 30
	e := newEnv(t, inv)
	w := newWire(e)
	e.api = e.clientVia(testToken, w)
	body := strings.Replace(templateBody, "storage: local-lvm", "storage: small", 1) + "power: running\nmountpoints:\n  mp0: {storage: local-lvm, size: 1G, mp: /srv}\n"
	specs := loadSpecs(t, map[string]string{"web2.yaml": ctSpec("web2", "pve1", 130, body)})
	p := e.plan(specs)
	cp := planFor(t, p, 130)
	if cp.Status != plan.StatusChanges || !strings.Contains(strings.Join(cp.Warnings, "\n"), "storage small has") {
		t.Fatalf("plan: %s %q %q", cp.Status, cp.Blocked, cp.Warnings)
	}
	cr := resultFor(t, e.apply(p, Options{Specs: specs, ReadSecret: readTestSecret}), 130)
	if cr.Outcome != OutcomeFailed || cr.Failure != FailureTask || !strings.Contains(cr.Error, "not enough space on storage 'small'") || !strings.Contains(cr.Error, "PVE left no container") {
		t.Errorf("apply: %s %s %q", cr.Outcome, cr.Failure, cr.Error)
	}
	if len(cr.Steps) == 0 || len(cr.Steps[0].LogTail) == 0 {
		t.Errorf("steps %+v: want the task's log tail", cr.Steps)
	}
	if _, err := e.api.Pending(context.Background(), "pve1", 130); !errors.Is(err, pve.ErrNotFound) {
		t.Errorf("container after a failed create: %v", err)
	}
	for _, c := range w.recorded() {
		if c.method != http.MethodGet && c.path != "/nodes/pve1/lxc" {
			t.Errorf("%s %s after the failed create", c.method, c.path)
		}
	}
}

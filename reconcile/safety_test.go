package reconcile

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// testInventory is one node with a snapshot-capable storage (local-lvm,
// lvmthin), one that cannot snapshot (local, dir) and a backup storage.
func testInventory() *pvesim.Inventory {
	inv := pvesim.NewInventory("test")
	n := inv.AddNode("pve1")
	n.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	n.AddStorage("local", "dir", "rootdir", "backup", "vztmpl")
	n.AddStorage("nas", "nfs", "backup")
	return inv
}

// conf is a plain unprivileged container config with its rootfs on storage
// (a dir storage gets PVE's directory volume name).
func conf(vmid int, storage string, extra ...string) string {
	vol := fmt.Sprintf("%s:vm-%d-disk-0", storage, vmid)
	if storage == "local" {
		vol = fmt.Sprintf("local:%d/vm-%d-disk-0.raw", vmid, vmid)
	}
	c := fmt.Sprintf(`arch: amd64
cores: 2
hostname: ct%d
memory: 1024
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:%02X,ip=dhcp,type=veth
ostype: debian
rootfs: %s,size=8G
swap: 512
unprivileged: 1
`, vmid, vmid%256, vol)
	for _, e := range extra {
		c += e + "\n"
	}
	return c
}

func addCT(inv *pvesim.Inventory, vmid int, running bool, config string) {
	inv.Node("pve1").AddContainer(vmid, running, config)
}

// specMemory is a spec that asks for 2 GiB of memory.
func specMemory(vmid int, extra string) string {
	return ctSpec(fmt.Sprintf("ct%d", vmid), "pve1", vmid, "memory: 2G\n"+extra)
}

// mainValue reads a key of the container's current config from the
// simulator.
func mainValue(t *testing.T, e *env, vmid int, key string) string {
	t.Helper()
	text, ok := e.sim.ConfigText(vmid)
	if !ok {
		t.Fatalf("ct %d gone", vmid)
	}
	f, err := ctconf.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := f.Get(key)
	return v
}

func parseConf(t *testing.T, e *env, vmid int) *ctconf.File {
	t.Helper()
	text, _ := e.sim.ConfigText(vmid)
	f, err := ctconf.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSnapshotTakenBeforeTheFirstWrite(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")})
	p := e.plan(specs)
	cp := planFor(t, p, 101)
	if cp.Status != plan.StatusChanges || cp.Steps[0].Action != plan.ActionSnapshot {
		t.Fatalf("plan: %s %v", cp.Status, cp.Steps)
	}
	res := e.apply(p, Options{})
	cr := resultFor(t, res, 101)
	if cr.Outcome != OutcomeApplied || cr.Snapshot == "" {
		t.Fatalf("result: %+v", cr)
	}
	f := parseConf(t, e, 101)
	snap := f.Snapshot(cr.Snapshot)
	if snap == nil {
		t.Fatalf("no snapshot %s in the config:\n%s", cr.Snapshot, f.Bytes())
	}
	// The snapshot holds the state before the write, and the plan.
	if v, _ := snap.Get("memory"); v != "1024" {
		t.Errorf("snapshot memory = %q, want the old 1024", v)
	}
	if !strings.Contains(snap.Description(), "memory") || !strings.Contains(snap.Description(), "felhom") {
		t.Errorf("snapshot description lacks the plan: %q", snap.Description())
	}
	if v := mainValue(t, e, 101, "memory"); v != "2048" {
		t.Errorf("memory = %q after apply, want 2048", v)
	}
}

func TestNoWriteWithoutACompletedSnapshot(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")})
	p := e.plan(specs)
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzsnapshot", Fail: "snapshot feature is not available"})
	e.resetCalls()
	res := e.apply(p, Options{})
	cr := resultFor(t, res, 101)
	if cr.Outcome != OutcomeFailed || cr.RolledBack || cr.Steps[0].Status != StepFailed {
		t.Fatalf("result: %+v", cr)
	}
	if len(cr.Steps[0].LogTail) == 0 || !strings.Contains(strings.Join(cr.Steps[0].LogTail, "\n"), "snapshot feature is not available") {
		t.Errorf("log tail %q lacks the task's error", cr.Steps[0].LogTail)
	}
	if n := e.calls["PUT /nodes/{node}/lxc/{vmid}/config"]; n != 0 {
		t.Errorf("%d config writes after a failed snapshot", n)
	}
	if v := mainValue(t, e, 101, "memory"); v != "1024" {
		t.Errorf("memory = %q, want it untouched", v)
	}
}

// When PVE cannot snapshot (a dir storage, a bind mount) the policy decides:
// refuse (no call at all) or vzdump first.
func TestUnsnapshottableContainers(t *testing.T) {
	tests := []struct {
		name, config, policy string
		wantVzdump           bool
	}{
		{"dir storage, refuse", conf(101, "local"), "", false},
		{"dir storage, vzdump", conf(101, "local"), "vzdump", true},
		{"bind mount, refuse", conf(101, "local-lvm", "mp0: /srv/data,mp=/data"), "", false},
		{"bind mount, vzdump", conf(101, "local-lvm", "mp0: /srv/data,mp=/data"), "vzdump", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInventory()
			addCT(inv, 101, true, tt.config)
			e := newEnv(t, inv)
			extra := ""
			if tt.policy != "" {
				extra = "snapshot:\n  when-impossible: " + tt.policy + "\nbackup:\n  schedule: \"02:00\"\n  storage: nas\n"
			}
			p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, extra)}))
			cp := planFor(t, p, 101)
			e.resetCalls()
			res := e.apply(p, Options{})
			cr := resultFor(t, res, 101)
			if !tt.wantVzdump {
				if cp.Status != plan.StatusBlocked || !strings.Contains(strings.Join(cp.Blocked, " "), "cannot snapshot") {
					t.Fatalf("plan: %s %v", cp.Status, cp.Blocked)
				}
				if cr.Outcome != OutcomeSkipped {
					t.Errorf("outcome %s", cr.Outcome)
				}
				if len(e.calls) != 0 {
					t.Errorf("a refused container got API calls: %v", e.calls)
				}
				if v := mainValue(t, e, 101, "memory"); v != "1024" {
					t.Errorf("memory = %q, want it untouched", v)
				}
				return
			}
			if cp.Status != plan.StatusChanges || cp.Steps[0].Action != plan.ActionVzdump {
				t.Fatalf("plan: %s %v %v", cp.Status, cp.Steps, cp.Blocked)
			}
			if cr.Outcome != OutcomeApplied || cr.Steps[0].Status != StepApplied || cr.Steps[0].ExitStatus != "OK" {
				t.Fatalf("result: %+v", cr)
			}
			if e.calls["POST /nodes/{node}/vzdump"] != 1 || e.calls["POST /nodes/{node}/lxc/{vmid}/snapshot"] != 0 {
				t.Errorf("calls: %v", e.calls)
			}
			if v := mainValue(t, e, 101, "memory"); v != "2048" {
				t.Errorf("memory = %q after apply", v)
			}
		})
	}
}

func TestVzdumpFailureStopsBeforeAnyWrite(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local"))
	e := newEnv(t, inv)
	extra := "snapshot:\n  when-impossible: vzdump\nbackup:\n  schedule: \"02:00\"\n  storage: nas\n"
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, extra)}))
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzdump", Fail: "job failed with err -5"})
	e.resetCalls()
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeFailed || e.calls["PUT /nodes/{node}/lxc/{vmid}/config"] != 0 {
		t.Fatalf("result %+v, calls %v", cr, e.calls)
	}
}

func TestStaleDigestStopsOnlyThatContainer(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	addCT(inv, 102, true, conf(102, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, ""), "b.yaml": specMemory(102, "")})
	p := e.plan(specs)
	// Someone changes ct 101 after the plan was made.
	if _, err := e.api.SetConfig(context.Background(), "pve1", 101, pve.ConfigChange{Set: map[string]string{"cores": "4"}}); err != nil {
		t.Fatal(err)
	}
	moved, err := CheckDigests(context.Background(), e.api, p, 2)
	if err != nil || len(moved) != 1 || moved[0].VMID != 101 {
		t.Fatalf("CheckDigests = %+v, %v", moved, err)
	}
	res := e.apply(p, Options{})
	a, b := resultFor(t, res, 101), resultFor(t, res, 102)
	if a.Outcome != OutcomeStale || !strings.Contains(a.Error, "re-plan") {
		t.Errorf("ct 101: %s %s", a.Outcome, a.Error)
	}
	if a.Snapshot != "" || mainValue(t, e, 101, "memory") != "1024" {
		t.Errorf("ct 101 was touched: snapshot %q, memory %s", a.Snapshot, mainValue(t, e, 101, "memory"))
	}
	if b.Outcome != OutcomeApplied || mainValue(t, e, 102, "memory") != "2048" {
		t.Errorf("ct 102: %s %s", b.Outcome, b.Error)
	}
	if !res.Failed() {
		t.Error("a stale container does not count as failed")
	}
}

// recorder collects progress events.
type recorder struct {
	mu     sync.Mutex
	events []Event
	on     func(Event)
}

func (r *recorder) Report(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.on != nil {
		r.on(e)
	}
}

func (r *recorder) kinds(k EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func TestLockIsWaitedOut(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	// A backup job takes the lock after the plan, for 20 s.
	if err := e.sim.HoldLock(101, "backup", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	cr := resultFor(t, e.apply(p, Options{LockPoll: 5 * time.Second, Progress: rec}), 101)
	if cr.Outcome != OutcomeApplied {
		t.Fatalf("result: %s %s", cr.Outcome, cr.Error)
	}
	if rec.kinds(EventWait) < 3 {
		t.Errorf("waited %d times for the lock, want at least 3 polls of 5 s for a 20 s lock", rec.kinds(EventWait))
	}
	if v := mainValue(t, e, 101, "memory"); v != "2048" {
		t.Errorf("memory = %q", v)
	}
}

func TestLockHeldTooLongIsNotRemoved(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	if err := e.sim.HoldLock(101, "backup", time.Hour); err != nil {
		t.Fatal(err)
	}
	e.resetCalls()
	cr := resultFor(t, e.apply(p, Options{LockWait: time.Minute, LockPoll: 10 * time.Second}), 101)
	if cr.Outcome != OutcomeFailed || !strings.Contains(cr.Error, "still locked (backup)") {
		t.Fatalf("result: %s %s", cr.Outcome, cr.Error)
	}
	if mainValue(t, e, 101, "lock") != "backup" {
		t.Error("the backup lock is gone; felhom must never remove a lock it did not set")
	}
	for call := range e.calls {
		if !strings.HasPrefix(call, "GET ") {
			t.Errorf("a locked container got %s", call)
		}
	}
}

// planRebootFail plans a running container with one hot change (memory)
// and one pending change (nameserver) under restart policy when-needed, and
// makes its reboot task fail.
func planRebootFail(t *testing.T) (*env, *plan.Plan) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "nameserver: 9.9.9.9\nrestart:\n  mode: when-needed\n")}))
	cp := planFor(t, p, 101)
	if cp.Steps[len(cp.Steps)-1].Action != plan.ActionReboot {
		t.Fatalf("plan has no reboot: %v", cp.Steps)
	}
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzreboot", Fail: "container did not stop in time"})
	return e, p
}

func TestTaskErrorRollsBack(t *testing.T) {
	e, p := planRebootFail(t)
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeFailed || !cr.RolledBack || cr.Rollback == nil || cr.Rollback.Status != StepApplied {
		t.Fatalf("result: %+v", cr)
	}
	var failed *StepResult
	for i := range cr.Steps {
		if cr.Steps[i].Status == StepFailed {
			failed = &cr.Steps[i]
		}
	}
	if failed == nil || failed.Step.Action != plan.ActionReboot || !strings.Contains(strings.Join(failed.LogTail, "\n"), "container did not stop in time") {
		t.Fatalf("failed step: %+v", failed)
	}
	if !strings.Contains(cr.Error, "rolled back to "+cr.Snapshot) {
		t.Errorf("error %q does not say it rolled back", cr.Error)
	}
	f := parseConf(t, e, 101)
	if v, _ := f.Get("memory"); v != "1024" {
		t.Errorf("memory = %q after rollback, want 1024", v)
	}
	if f.Pending != nil && len(f.Pending.Keys()) > 0 {
		t.Errorf("pending changes survived the rollback: %v", f.Pending.Keys())
	}
	if !e.sim.Running(101) {
		t.Error("the container was running before; rollback should start it again")
	}
}

func TestTaskErrorLeftAsPolicySays(t *testing.T) {
	e, p := planRebootFail(t)
	cr := resultFor(t, e.apply(p, Options{OnFailure: spec.OnFailureLeave}), 101)
	if cr.Outcome != OutcomeFailed || cr.RolledBack || cr.Rollback != nil {
		t.Fatalf("result: %+v", cr)
	}
	if len(cr.HalfDone) != 1 || !strings.HasPrefix(cr.HalfDone[0], "set config") {
		t.Errorf("half-done = %q, want the set-config step", cr.HalfDone)
	}
	if v := mainValue(t, e, 101, "memory"); v != "2048" {
		t.Errorf("memory = %q, want the hot change left in place", v)
	}
}

func TestWarningsAreSuccess(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzsnapshot", Warnings: 2})
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeApplied || cr.Steps[0].ExitStatus != "WARNINGS: 2" || len(cr.Steps[0].Warnings) != 2 {
		t.Fatalf("result: %+v", cr)
	}
	if len(cr.Warnings) == 0 || !strings.Contains(cr.Warnings[0], "WARNINGS: 2") {
		t.Errorf("warnings not reported: %q", cr.Warnings)
	}
}

// TestWarningsWithUnreadableLogAreSuccess: a snapshot that ended
// "WARNINGS: 2" whose log cannot be read is still a snapshot taken; the
// change goes on and nothing is rolled back (issue 10 item 10).
func TestWarningsWithUnreadableLogAreSuccess(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzsnapshot", Warnings: 2})
	e.sim.InjectFault(pvesim.Fault{Method: "GET", Path: "/nodes/{node}/tasks/{upid}/log", Kind: pvesim.FaultStatus, Status: 500})
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeApplied || cr.RolledBack || cr.Steps[0].ExitStatus != "WARNINGS: 2" {
		t.Fatalf("result: %+v", cr)
	}
	if len(cr.Steps[0].Warnings) != 1 || !strings.Contains(cr.Steps[0].Warnings[0], "task log unavailable") {
		t.Errorf("step warnings %q, want a note that the log could not be read", cr.Steps[0].Warnings)
	}
	if v := mainValue(t, e, 101, "memory"); v != "2048" {
		t.Errorf("memory = %q, want the change in place", v)
	}
}

func TestOneFailureDoesNotStopTheOthers(t *testing.T) {
	inv := testInventory()
	files := map[string]string{}
	for vmid := 101; vmid <= 106; vmid++ {
		addCT(inv, vmid, true, conf(vmid, "local-lvm"))
		files[fmt.Sprintf("%d.yaml", vmid)] = specMemory(vmid, "")
	}
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, files))
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzsnapshot", ID: "103", Fail: "zfs error: out of space"})
	res := e.apply(p, Options{Concurrency: 3})
	for vmid := 101; vmid <= 106; vmid++ {
		cr := resultFor(t, res, vmid)
		want := OutcomeApplied
		if vmid == 103 {
			want = OutcomeFailed
		}
		if cr.Outcome != want {
			t.Errorf("ct %d: %s (%s), want %s", vmid, cr.Outcome, cr.Error, want)
		}
	}
}

// Ctrl-C while a task runs: the task is awaited, later steps are skipped,
// no lock is left and the result says what was done.
func TestCancelFinishesTheRunningTask(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{on: func(ev Event) {
		if ev.Kind == EventTask {
			cancel()
		}
	}}
	res := Apply(ctx, e.api, p, Options{Clock: e.clock, Progress: rec})
	cr := resultFor(t, res, 101)
	if !res.Cancelled || cr.Steps[0].Status != StepApplied || cr.Steps[0].ExitStatus != "OK" {
		t.Fatalf("result: cancelled %v, %+v", res.Cancelled, cr)
	}
	if cr.Steps[1].Status != StepSkipped || cr.Steps[1].Error != "cancelled" {
		t.Errorf("step 2: %+v", cr.Steps[1])
	}
	if lock := mainValue(t, e, 101, "lock"); lock != "" {
		t.Errorf("lock %q left behind", lock)
	}
	if mainValue(t, e, 101, "memory") != "1024" {
		t.Error("a step after the cancel ran")
	}
}

// isMutation reports whether a request changes anything on PVE.
func isMutation(c wireCall) bool { return c.method != http.MethodGet }

// Rule 1: containers whose plan is not "changes" get no write, no
// snapshot, no reboot, whatever the others around them get. ct 102 matches
// its spec; ct 103 holds the desired memory pending (awaiting restart,
// restart policy never): both are planned unchanged next to two changed
// containers.
func TestUnchangedContainerIsNotTouched(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	addCT(inv, 102, true, conf(102, "local-lvm"))
	addCT(inv, 103, true, conf(103, "local-lvm")+"\n[pve:pending]\nmemory: 2048\n")
	addCT(inv, 104, false, conf(104, "local-lvm"))
	e := newEnv(t, inv)
	w := newWire(e)
	e.api = e.clientVia(testToken, w)
	p := e.plan(loadSpecs(t, map[string]string{
		"101.yaml": specMemory(101, ""),
		"102.yaml": ctSpec("ct102", "pve1", 102, "memory: 1G\n"),
		"103.yaml": specMemory(103, "restart:\n  mode: never\n"),
		"104.yaml": specMemory(104, ""),
	}))
	for vmid, want := range map[int]plan.Status{101: plan.StatusChanges, 102: plan.StatusUnchanged, 103: plan.StatusUnchanged, 104: plan.StatusChanges} {
		if cp := planFor(t, p, vmid); cp.Status != want {
			t.Fatalf("ct %d planned %s, want %s (%v)", vmid, cp.Status, want, cp.Changes)
		}
	}
	before := map[int]string{}
	for _, vmid := range []int{102, 103} {
		before[vmid], _ = e.sim.ConfigText(vmid)
	}
	planned := len(w.recorded())
	res := e.apply(p, Options{Concurrency: 4})
	writes := map[int][]string{}
	for _, c := range w.recorded()[planned:] {
		if isMutation(c) {
			writes[c.vmid] = append(writes[c.vmid], c.method+" "+c.path)
		}
	}
	for _, vmid := range []int{102, 103} {
		if got := writes[vmid]; len(got) != 0 {
			t.Errorf("unchanged ct %d got %q", vmid, got)
		}
		if after, _ := e.sim.ConfigText(vmid); after != before[vmid] {
			t.Errorf("unchanged ct %d's config changed:\n%s\nwas:\n%s", vmid, after, before[vmid])
		}
		if cr := resultFor(t, res, vmid); cr.Outcome != OutcomeUnchanged || cr.Snapshot != "" {
			t.Errorf("ct %d: %s, snapshot %q", vmid, cr.Outcome, cr.Snapshot)
		}
	}
	// The changed ones were written, so the recording saw apply's writes.
	for _, vmid := range []int{101, 104} {
		if len(writes[vmid]) < 2 || resultFor(t, res, vmid).Outcome != OutcomeApplied {
			t.Errorf("ct %d: writes %q, outcome %s", vmid, writes[vmid], resultFor(t, res, vmid).Outcome)
		}
	}
}

// Rule 3: every config write and every resize carries the digest, and it
// is the container's digest at the moment the request reaches PVE (read
// from the simulator's config text, not from felhom). The plan has a
// snapshot (which changes the digest), a resize (which changes it again)
// and a config write.
func TestEveryWriteCarriesTheLiveDigest(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	addCT(inv, 102, false, conf(102, "local-lvm"))
	e := newEnv(t, inv)
	type checked struct {
		call         string
		sent, actual string
	}
	var mu sync.Mutex
	var seen []checked
	w := newWire(e)
	w.before = func(c wireCall) {
		// PUT .../config and PUT .../resize; not PUT
		// .../snapshot/{name}/config, which takes no digest.
		configWrite := strings.HasSuffix(c.path, "/config") && !strings.Contains(c.path, "/snapshot/")
		if c.method != http.MethodPut || !configWrite && !strings.HasSuffix(c.path, "/resize") {
			return
		}
		text, _ := e.sim.ConfigText(c.vmid)
		mu.Lock()
		seen = append(seen, checked{c.method + " " + c.path, c.form.Get("digest"), ctconf.Digest([]byte(text))})
		mu.Unlock()
	}
	e.api = e.clientVia(testToken, w)
	grow := "nameserver: 9.9.9.9\nrootfs:\n  storage: local-lvm\n  size: 10G\n"
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, grow), "b.yaml": specMemory(102, grow)}))
	res := e.apply(p, Options{})
	for _, vmid := range []int{101, 102} {
		if cr := resultFor(t, res, vmid); cr.Outcome != OutcomeApplied {
			t.Fatalf("ct %d: %s %s", vmid, cr.Outcome, cr.Error)
		}
	}
	kinds := map[string]int{}
	for _, s := range seen {
		kinds[s.call[strings.LastIndex(s.call, "/"):]]++
		if s.sent == "" {
			t.Errorf("%s carried no digest", s.call)
		} else if s.sent != s.actual {
			t.Errorf("%s carried digest %s, the live one was %s", s.call, s.sent, s.actual)
		}
	}
	if kinds["/config"] != 2 || kinds["/resize"] != 2 {
		t.Errorf("checked writes %v, want 2 config writes and 2 resizes", kinds)
	}
}

// Rule 10: with request latency, at most Options.Concurrency containers are
// worked on at once (a container counts from its first request to the end
// of its last), one container never has two requests in flight, its
// mutations come in plan order, and each waits for the task before it to
// be seen stopped.
func TestConcurrencyBoundAndStepOrder(t *testing.T) {
	const n, limit = 6, 2
	inv := testInventory()
	files := map[string]string{}
	for vmid := 101; vmid < 101+n; vmid++ {
		addCT(inv, vmid, true, conf(vmid, "local-lvm"))
		files[fmt.Sprintf("%d.yaml", vmid)] = specMemory(vmid, "nameserver: 9.9.9.9\nrootfs:\n  storage: local-lvm\n  size: 10G\nrestart:\n  mode: when-needed\n")
	}
	e := newEnv(t, inv, pvesim.WithLatency(pvesim.Latency{Fixed: 2 * time.Millisecond}))
	w := newWire(e)
	e.api = e.clientVia(testToken, w)
	p := e.plan(loadSpecs(t, files))
	planned := len(w.recorded())
	res := e.apply(p, Options{Concurrency: limit})
	calls := w.recorded()[planned:]

	type span struct{ first, last int64 }
	spans := map[int]*span{}
	byCT := map[int][]wireCall{}
	for _, c := range calls {
		if c.vmid == 0 {
			continue
		}
		byCT[c.vmid] = append(byCT[c.vmid], c)
		s := spans[c.vmid]
		if s == nil {
			s = &span{c.start, c.end}
			spans[c.vmid] = s
		}
		s.first, s.last = min(s.first, c.start), max(s.last, c.end)
	}
	// The most spans that hold one point: sweep the starts.
	most := 0
	for _, a := range spans {
		at := 0
		for _, b := range spans {
			if b.first <= a.first && a.first <= b.last {
				at++
			}
		}
		most = max(most, at)
	}
	if most > limit {
		t.Errorf("%d containers worked on at once, the bound is %d", most, limit)
	}

	for vmid := 101; vmid < 101+n; vmid++ {
		cr := resultFor(t, res, vmid)
		if cr.Outcome != OutcomeApplied {
			t.Fatalf("ct %d: %s %s", vmid, cr.Outcome, cr.Error)
		}
		// The plan's steps, then the baseline into the snapshot's
		// description.
		want := []string{"POST /snapshot", "PUT /resize", "PUT /config", "POST /status/reboot", "PUT /snapshot/" + cr.Snapshot + "/config"}
		cs := byCT[vmid]
		sort.Slice(cs, func(i, j int) bool { return cs[i].start < cs[j].start })
		prefix := fmt.Sprintf("/nodes/pve1/lxc/%d", vmid)
		var order []string
		running := "" // the UPID of this container's task not yet seen stopped
		for i, c := range cs {
			if i > 0 && c.start < cs[i-1].end {
				t.Errorf("ct %d: %s %s started before %s %s ended", vmid, c.method, c.path, cs[i-1].method, cs[i-1].path)
			}
			if running != "" && c.status == "stopped" && strings.Contains(c.path, running) {
				running = ""
			}
			if !isMutation(c) {
				continue
			}
			if running != "" {
				t.Errorf("ct %d: %s %s while task %s still ran", vmid, c.method, c.path, running)
			}
			order = append(order, c.method+" "+strings.TrimPrefix(c.path, prefix))
			running = c.upid
		}
		if !slices.Equal(order, want) {
			t.Errorf("ct %d: mutations %q, want %q", vmid, order, want)
		}
	}
}

// TestStorageTheTokenCannotSee: PVE's storage list leaves out storages the
// token cannot audit (PVE/API2/Storage/Status.pm index), while a snapshot
// needs only VM.Snapshot. Unknown capability is not "cannot": the plan tries
// the snapshot and says it is unverified; where PVE then takes it the change
// goes ahead, and where PVE refuses it nothing is written.
func TestStorageTheTokenCannotSee(t *testing.T) {
	for _, tt := range []struct {
		storage     string
		wantApplied bool
	}{{"local-lvm", true}, {"local", false}} {
		t.Run(tt.storage, func(t *testing.T) {
			inv := testInventory()
			addCT(inv, 101, true, conf(101, tt.storage))
			inv.AddUser("felhom@pve", pvesim.Role("/vms", "PVEVMAdmin"), pvesim.Role("/nodes", "PVEAuditor")).
				AddToken("reconcile", "0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b", false)
			e := newEnv(t, inv)
			cp := planFor(t, e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")})), 101)
			if cp.Status != plan.StatusChanges || cp.Steps[0].Action != plan.ActionSnapshot {
				t.Fatalf("plan: %s %v %v", cp.Status, cp.Steps, cp.Blocked)
			}
			if w := strings.Join(cp.Warnings, "\n"); !strings.Contains(w, "whether PVE can snapshot rootfs is unverified") {
				t.Errorf("warnings %q, want the unverified capability named", cp.Warnings)
			}
			e.resetCalls()
			cr := resultFor(t, e.apply(&plan.Plan{Containers: []plan.ContainerPlan{cp}}, Options{}), 101)
			if !tt.wantApplied {
				if cr.Outcome != OutcomeFailed || !strings.Contains(cr.Error, "snapshot feature is not available") {
					t.Fatalf("outcome %s %q, want failed with PVE's refusal", cr.Outcome, cr.Error)
				}
				if n := e.calls["PUT /nodes/{node}/lxc/{vmid}/config"]; n != 0 {
					t.Errorf("%d config writes after a refused snapshot", n)
				}
				if v := mainValue(t, e, 101, "memory"); v != "1024" {
					t.Errorf("memory = %q, want it untouched", v)
				}
				return
			}
			if cr.Outcome != OutcomeApplied {
				t.Fatalf("outcome %s %q", cr.Outcome, cr.Error)
			}
			if v := mainValue(t, e, 101, "memory"); v != "2048" {
				t.Errorf("memory = %q after apply", v)
			}
		})
	}
}

// A spec that turns snapshot.before-change off is changed without a
// snapshot, as its plan says: the safety check must not refuse the plan
// that diff made from the spec's own policy.
func TestBeforeChangeOffAppliesUnprotected(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "snapshot:\n  before-change: false\n")})
	p := e.plan(specs)
	cp := planFor(t, p, 101)
	if cp.Status != plan.StatusChanges || len(cp.Steps) == 0 || cp.Steps[0].Action != plan.ActionSetConfig {
		t.Fatalf("plan: %s %v", cp.Status, cp.Steps)
	}
	res := e.apply(p, Options{Specs: specs})
	cr := resultFor(t, res, 101)
	if cr.Outcome != OutcomeApplied || cr.Snapshot != "" {
		t.Fatalf("result: %+v", cr)
	}
	if v := mainValue(t, e, 101, "memory"); v != "2048" {
		t.Errorf("memory = %q after apply, want 2048", v)
	}
	if snaps := parseConf(t, e, 101).Snapshots; len(snaps) != 0 {
		t.Errorf("snapshots taken: %d", len(snaps))
	}
}

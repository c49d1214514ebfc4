package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// Rule 3 between felhom's own writes: a change by someone else after the
// snapshot stops the container as stale, and is not rolled back.
func TestChangeAfterTheSnapshotIsStale(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	other := e.client(testToken)
	rec := &recorder{on: func(ev Event) {
		if ev.Kind == EventTask {
			// The snapshot task runs; an admin changes the cores meanwhile.
			if _, err := other.SetConfig(context.Background(), "pve1", 101, pve.ConfigChange{Set: map[string]string{"cores": "6"}}); err != nil {
				t.Error(err)
			}
		}
	}}
	cr := resultFor(t, e.apply(p, Options{Progress: rec}), 101)
	if cr.Outcome != OutcomeStale || !strings.Contains(cr.Error, "cores") || cr.RolledBack {
		t.Fatalf("result: %s %s rolled back %v", cr.Outcome, cr.Error, cr.RolledBack)
	}
	if mainValue(t, e, 101, "cores") != "6" || mainValue(t, e, 101, "memory") != "1024" {
		t.Error("felhom wrote over, or rolled back, someone else's change")
	}
}

// A container that cannot be read is planned as an error; the others are
// still planned and applied.
func TestUnreadableContainerDoesNotStopTheOthers(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	addCT(inv, 102, true, conf(102, "local-lvm"))
	e := newEnv(t, inv)
	e.sim.InjectFault(pvesim.Fault{Method: "GET", Path: "/nodes/pve1/lxc/102/pending", Status: 500, Message: "got timeout"})
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, ""), "b.yaml": specMemory(102, "")}))
	if cp := planFor(t, p, 102); cp.Status != plan.StatusError || !strings.Contains(strings.Join(cp.Blocked, " "), "got timeout") {
		t.Fatalf("ct 102: %s %v", cp.Status, cp.Blocked)
	}
	e.sim.ClearFaults()
	res := e.apply(p, Options{})
	if cr := resultFor(t, res, 101); cr.Outcome != OutcomeApplied {
		t.Errorf("ct 101: %s %s", cr.Outcome, cr.Error)
	}
	if cr := resultFor(t, res, 102); cr.Outcome != OutcomeSkipped || mainValue(t, e, 102, "memory") != "1024" {
		t.Errorf("ct 102: %s %s", cr.Outcome, cr.Error)
	}
}

// Snapshot retention: the oldest felhom snapshot beyond keep is deleted
// after the change; one already gone is "unchanged"; others' snapshots stay.
func TestSnapshotRetention(t *testing.T) {
	section := func(name, parent string, snaptime int64) string {
		s := "\n[" + name + "]\narch: amd64\ncores: 2\nhostname: ct101\nmemory: 1024\nostype: debian\n"
		if parent != "" {
			s += "parent: " + parent + "\n"
		}
		return s + fmt.Sprintf("rootfs: local-lvm:vm-101-disk-0,size=8G\nsnaptime: %d\nswap: 512\nunprivileged: 1\n", snaptime)
	}
	text := conf(101, "local-lvm", "parent: felhom-20261103t000000") +
		section("before-upgrade", "", 1761800000) +
		section("felhom-20261101t000000", "before-upgrade", 1761955200) +
		section("felhom-20261102t000000", "felhom-20261101t000000", 1762041600) +
		section("felhom-20261103t000000", "felhom-20261102t000000", 1762128000)
	t.Run("prune fails", func(t *testing.T) {
		inv := testInventory()
		addCT(inv, 101, true, text)
		e := newEnv(t, inv)
		p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "snapshot:\n  keep: 2\n")}))
		e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzdelsnapshot", Fail: "dataset is busy"})
		cr := resultFor(t, e.apply(p, Options{}), 101)
		if cr.Outcome != OutcomeFailed || cr.RolledBack || !strings.Contains(strings.Join(cr.Warnings, " "), "in place and verified") {
			t.Fatalf("result: %s %s %v", cr.Outcome, cr.Error, cr.Warnings)
		}
		if mainValue(t, e, 101, "memory") != "2048" {
			t.Error("a failed retention step undid the verified change")
		}
	})
	for _, goneFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("gone=%v", goneFirst), func(t *testing.T) {
			inv := testInventory()
			addCT(inv, 101, true, text)
			e := newEnv(t, inv)
			p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "snapshot:\n  keep: 2\n")}))
			cp := planFor(t, p, 101)
			var prunes []string
			for _, s := range cp.Steps {
				if s.Action == plan.ActionSnapshotPrune {
					prunes = append(prunes, s.Params["snapname"])
				}
			}
			if strings.Join(prunes, ",") != "felhom-20261101t000000,felhom-20261102t000000" {
				t.Fatalf("prune steps %v", prunes)
			}
			other := e.client(testToken)
			rec := &recorder{on: func(ev Event) {
				if goneFirst && ev.Kind == EventStep && strings.Contains(ev.Detail, "felhom-20261101t000000") {
					upid, err := other.DeleteSnapshot(context.Background(), "pve1", 101, "felhom-20261101t000000", false)
					if err == nil {
						_, err = other.WaitTask(context.Background(), upid)
					}
					if err != nil {
						t.Error(err)
					}
				}
			}}
			cr := resultFor(t, e.apply(p, Options{Progress: rec}), 101)
			if cr.Outcome != OutcomeApplied {
				t.Fatalf("result: %s %s %+v", cr.Outcome, cr.Error, cr.Steps)
			}
			wantFirst := StepApplied
			if goneFirst {
				wantFirst = StepUnchanged
			}
			if got := cr.Steps[len(cr.Steps)-2].Status; got != wantFirst {
				t.Errorf("first prune: %s, want %s", got, wantFirst)
			}
			f := parseConf(t, e, 101)
			var names []string
			for _, s := range f.Snapshots {
				names = append(names, s.Name)
			}
			want := "before-upgrade,felhom-20261103t000000," + cr.Snapshot
			if strings.Join(names, ",") != want {
				t.Errorf("snapshots %v, want %s", names, want)
			}
		})
	}
}

func TestTerminalProgressRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	tp := NewTerminalProgress(&buf, time.Hour)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tp.now = func() time.Time { return at }
	tp.Report(Event{Kind: EventStart, VMID: 101, Name: "web", Steps: 2})
	tp.Report(Event{Kind: EventStep, VMID: 101, Name: "web", Step: 1, Steps: 2, Detail: "take snapshot x"})
	tp.Report(Event{Kind: EventTask, VMID: 101, Name: "web", UPID: "UPID:pve1:1"})
	at = at.Add(1500 * time.Millisecond)
	tp.Report(Event{Kind: EventStart, VMID: 102, Name: "db", Steps: 1})
	tp.Report(Event{Kind: EventDone, VMID: 101, Name: "web", Outcome: OutcomeApplied, Elapsed: 2 * time.Second})
	tp.Stop()
	out := buf.String()
	last := out[strings.LastIndex(out, "\x1b[2A"):]
	for _, want := range []string{"ct 101 web", "2.0s  applied", "ct 102 db", "0.0s  starting"} {
		if !strings.Contains(last, want) {
			t.Errorf("last picture lacks %q: %q", want, last)
		}
	}
	if !strings.Contains(out, "1/2 take snapshot x  (task UPID:pve1:1)") {
		t.Errorf("no step with its task: %q", out)
	}
}

func TestLogProgress(t *testing.T) {
	var buf bytes.Buffer
	lp := LogProgress{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	lp.Report(Event{Kind: EventStep, VMID: 101, Name: "web", Node: "pve1", Step: 1, Steps: 2, Detail: "take snapshot x"})
	lp.Report(Event{Kind: EventDone, VMID: 101, Name: "web", Node: "pve1", Outcome: OutcomeFailed, Err: "boom"})
	out := buf.String()
	for _, want := range []string{`msg="apply: step" vmid=101 name=web node=pve1 step=1 of=2 detail="take snapshot x"`, `level=WARN msg="apply: done"`, "outcome=failed", "error=boom"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// A lock taken between felhom's read and its write (a backup job starting)
// is waited out and the write tried again.
func TestLockBetweenReadAndWriteIsWaitedOut(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	rec := &recorder{on: func(ev Event) {
		if ev.Kind == EventStep && strings.HasPrefix(ev.Detail, "set config") {
			if err := e.sim.HoldLock(101, "backup", 30*time.Second); err != nil {
				t.Error(err)
			}
		}
	}}
	cr := resultFor(t, e.apply(p, Options{Progress: rec, LockPoll: 10 * time.Second}), 101)
	if cr.Outcome != OutcomeApplied || rec.kinds(EventWait) == 0 {
		t.Fatalf("result: %s %s, %d waits", cr.Outcome, cr.Error, rec.kinds(EventWait))
	}
	if mainValue(t, e, 101, "memory") != "2048" || mainValue(t, e, 101, "lock") != "" {
		t.Error("the write did not land after the lock went")
	}
}

// tamperAPI reads back a wrong memory value once a config write went
// through, as if PVE had not applied it.
type tamperAPI struct {
	API
	// key and value are what is read back wrong (default memory 1536).
	key, value string
	mu         sync.Mutex
	wrote      bool
}

func (t *tamperAPI) SetConfig(ctx context.Context, node string, vmid int, ch pve.ConfigChange) (*pve.UPID, error) {
	u, err := t.API.SetConfig(ctx, node, vmid, ch)
	t.mu.Lock()
	t.wrote = err == nil
	t.mu.Unlock()
	return u, err
}

func (t *tamperAPI) Pending(ctx context.Context, node string, vmid int) (pve.PendingConfig, error) {
	p, err := t.API.Pending(ctx, node, vmid)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil && t.wrote {
		key, v := t.key, t.value
		if key == "" {
			key, v = "memory", "1536"
		}
		for i := range p.Entries {
			if p.Entries[i].Key == key {
				p.Entries[i].Value = &v
			}
		}
	}
	return p, err
}

// Rule 6: a read-back that does not match the plan is a failure after the
// snapshot, and the policy rolls the container back.
func TestReadBackMismatchRollsBack(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	api := &tamperAPI{API: e.api}
	cr := resultFor(t, Apply(context.Background(), api, p, Options{Clock: e.clock}), 101)
	if cr.Outcome != OutcomeFailed || !cr.RolledBack || !strings.Contains(cr.Error, `memory: want "2048" live, found current "1536"`) {
		t.Fatalf("result: %s %s rolled back %v", cr.Outcome, cr.Error, cr.RolledBack)
	}
	if mainValue(t, e, 101, "memory") != "1024" {
		t.Error("not rolled back")
	}
}

// Observe: a node whose storages cannot be read makes only its containers
// errors; a failing cluster resources call fails the whole plan.
func TestObserveFailures(t *testing.T) {
	inv := testInventory()
	n2 := inv.AddNode("pve2")
	n2.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	addCT(inv, 101, true, conf(101, "local-lvm"))
	n2.AddContainer(201, true, conf(201, "local-lvm"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, ""), "b.yaml": ctSpec("ct201", "pve2", 201, "memory: 2G\n")})

	e.sim.InjectFault(pvesim.Fault{Method: "GET", Path: "/nodes/pve2/storage", Status: 596, Message: "Connection timed out"})
	p := e.plan(specs)
	if cp := planFor(t, p, 201); cp.Status != plan.StatusError || !strings.Contains(strings.Join(cp.Blocked, " "), "GET /nodes/pve2/storage") {
		t.Errorf("ct 201: %s %v", cp.Status, cp.Blocked)
	}
	if cp := planFor(t, p, 101); cp.Status != plan.StatusChanges {
		t.Errorf("ct 101: %s %v", cp.Status, cp.Blocked)
	}
	e.sim.ClearFaults()

	e.sim.InjectFault(pvesim.Fault{Method: "GET", Path: "/cluster/resources", Status: 500, Message: "cluster not ready - no quorum?"})
	if _, err := Plan(context.Background(), e.api, specs, PlanOptions{Now: testNow}); err == nil || !strings.Contains(err.Error(), "no quorum") {
		t.Errorf("plan with no cluster resources: %v", err)
	}
}

// A container planned running but stopped before apply: the reboot is not
// needed (PVE applied every change at once) and the read-back accepts that.
func TestStoppedSinceThePlan(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "nameserver: 9.9.9.9\nrestart:\n  mode: when-needed\n")}))
	upid, err := e.api.Stop(context.Background(), "pve1", 101)
	if err == nil {
		_, err = e.api.WaitTask(context.Background(), upid)
	}
	if err != nil {
		t.Fatal(err)
	}
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeApplied || cr.Steps[len(cr.Steps)-1].Status != StepUnchanged {
		t.Fatalf("result: %s %s %+v", cr.Outcome, cr.Error, cr.Steps)
	}
	if mainValue(t, e, 101, "nameserver") != "9.9.9.9" || mainValue(t, e, 101, "memory") != "2048" {
		t.Error("changes not live on the stopped container")
	}
}

// A container's Duration is the time its apply took on the Clock: here each
// task takes 7 s of simulated time (the recorder advances the clock when a
// task starts), and the result says so, as the log's elapsed= does.
func TestResultDurationIsTheElapsedTime(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	rec := &recorder{on: func(ev Event) {
		if ev.Kind == EventTask {
			e.sim.Clock().Advance(7 * time.Second)
		}
	}}
	t0 := e.clock.Now()
	res := e.apply(p, Options{Progress: rec})
	elapsed := e.clock.Now().Sub(t0)
	cr := resultFor(t, res, 101)
	if cr.Outcome != OutcomeApplied {
		t.Fatalf("result: %s %s", cr.Outcome, cr.Error)
	}
	if elapsed == 0 || cr.Duration != elapsed {
		t.Errorf("duration %s, want the clock's elapsed %s", cr.Duration, elapsed)
	}
	var done []Event
	for _, ev := range rec.events {
		if ev.Kind == EventDone {
			done = append(done, ev)
		}
	}
	if len(done) != 1 || done[0].Elapsed != cr.Duration {
		t.Errorf("done events %+v, want one with elapsed %s", done, cr.Duration)
	}
}

// A saved plan carries the restart window its reboot was planned under;
// apply reboots only while that window is still open. Planned inside the
// window and applied after it closed: no reboot, the pending changes are
// reported as waiting for the window. Applied while still open: the reboot
// runs.
func TestSavedPlanRebootsOnlyInsideTheWindow(t *testing.T) {
	for _, tt := range []struct {
		name   string
		later  time.Duration
		reboot bool
	}{
		{"window still open", 30 * time.Minute, true},
		{"window closed since", 3 * time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInventory()
			addCT(inv, 101, true, conf(101, "local-lvm"))
			e := newEnv(t, inv)
			// testNow is Wednesday 10:00 UTC: the window is open until 11:00.
			p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101,
				"nameserver: 9.9.9.9\nrestart:\n  mode: window\n  window:\n    schedule: wed 09:00 UTC\n    duration: 2h\n")}))
			cp := planFor(t, p, 101)
			if last := cp.Steps[len(cp.Steps)-1]; last.Action != plan.ActionReboot {
				t.Fatalf("no reboot planned inside the window: %v", cp.Steps)
			}
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			saved, err := plan.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			e.sim.Clock().Advance(tt.later)
			e.resetCalls()
			cr := resultFor(t, e.apply(saved, Options{}), 101)
			if cr.Outcome != OutcomeApplied {
				t.Fatalf("result: %s %s", cr.Outcome, cr.Error)
			}
			reboot := cr.Steps[len(cr.Steps)-1]
			reboots := e.calls["POST /nodes/{node}/lxc/{vmid}/status/reboot"]
			if tt.reboot {
				if reboot.Status != StepApplied || reboots != 1 || mainValue(t, e, 101, "nameserver") != "9.9.9.9" {
					t.Errorf("reboot %+v, %d reboot calls", reboot, reboots)
				}
				return
			}
			if reboot.Status != StepSkipped || !strings.Contains(reboot.Error, "window") || reboots != 0 {
				t.Errorf("reboot %+v, %d reboot calls; want it skipped because the window closed", reboot, reboots)
			}
			if !slices.Contains(cr.Pending, "nameserver") || !strings.Contains(strings.Join(cr.Warnings, "\n"), `restart window "wed 09:00 UTC"`) {
				t.Errorf("pending %q, warnings %q: want nameserver reported as waiting for the window", cr.Pending, cr.Warnings)
			}
			if mainValue(t, e, 101, "memory") != "2048" {
				t.Error("the hot change was not made")
			}
		})
	}
}

// A reboot PVE refuses is taken for "stopped since the plan" only when the
// container's status says stopped, not from the error's wording: here PVE
// answers with that wording while the container still runs, and the
// reboot counts as failed.
func TestRebootRefusedWhileRunningFails(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "nameserver: 9.9.9.9\nrestart:\n  mode: when-needed\n")}))
	e.sim.InjectFault(pvesim.Fault{Method: "POST", Path: "/nodes/{node}/lxc/{vmid}/status/reboot", Status: 500, Message: "VM 101 not running"})
	cr := resultFor(t, e.apply(p, Options{OnFailure: spec.OnFailureLeave}), 101)
	last := cr.Steps[len(cr.Steps)-1]
	if cr.Outcome != OutcomeFailed || last.Step.Action != plan.ActionReboot || last.Status != StepFailed {
		t.Fatalf("result: %s %s, reboot %+v", cr.Outcome, cr.Error, last)
	}
	if !e.sim.Running(101) {
		t.Error("the container stopped")
	}
}

// A plan whose only change is a reboot (the desired memory already waits
// pending) is verified and its baseline kept before retention runs, as a
// plan with writes is: a failed snapshot-prune then leaves a verified change
// whose felhom snapshot tells the next plan what was applied.
func TestRebootOnlyIsVerifiedBeforeRetention(t *testing.T) {
	old := "\n[felhom-20261101t000000]\narch: amd64\ncores: 2\nhostname: ct101\nmemory: 1024\nostype: debian\n" +
		"rootfs: local-lvm:vm-101-disk-0,size=8G\nsnaptime: 1761955200\nswap: 512\nunprivileged: 1\n"
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local-lvm", "parent: felhom-20261101t000000")+"\n[pve:pending]\nmemory: 2048\n"+old)
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "restart:\n  mode: when-needed\nsnapshot:\n  keep: 1\n")})
	p := e.plan(specs)
	var actions []string
	for _, s := range planFor(t, p, 101).Steps {
		actions = append(actions, s.Action.Token())
	}
	if strings.Join(actions, ",") != "snapshot,reboot,snapshot-prune" {
		t.Fatalf("steps %v, want snapshot, reboot, snapshot-prune", actions)
	}
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzdelsnapshot", Fail: "dataset is busy"})
	cr := resultFor(t, e.apply(p, Options{Specs: specs}), 101)
	if cr.Outcome != OutcomeFailed || !strings.Contains(strings.Join(cr.Warnings, " "), "in place and verified") {
		t.Fatalf("result: %s %s %v", cr.Outcome, cr.Error, cr.Warnings)
	}
	if cr.Baseline["memory"] == "" {
		t.Errorf("no baseline recorded: %v", cr.Baseline)
	}
	if desc := snapshotDescriptions(t, e)[cr.Snapshot]; !strings.Contains(desc, BaselinePrefix) {
		t.Errorf("snapshot %s keeps no baseline:\n%s", cr.Snapshot, desc)
	}
}

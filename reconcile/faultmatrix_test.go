package reconcile

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// The fault matrix (issue 10 item 19): every apply step kind × every fault
// kind, on a plan of three containers, each cell on a fresh simulator. The
// fault is injected by a proxy between felhom's client and the simulator
// (faultProxy) or by the simulator's own steering (task outcomes, held
// locks); after each cell the invariants are checked from the simulator's
// state, never from what apply says it did. Then the faults go, the clock
// moves on (held locks expire), and a second apply must converge. Time is
// the simulator's manual clock: no cell waits.
//
// The containers:
//   - 101 (local-lvm, snapshots): memory, cores and nameserver (pending until
//     a restart; restart when-needed, so a reboot step), rootfs grown to
//     10G, one old felhom snapshot beyond keep: 1 (a snapshot-prune step)
//     and a snapshot not felhom's own that must stay;
//   - 102 (dir storage, no snapshots): a vzdump to nas stands in, with the
//     spec's retention riding on it;
//   - 103 (local-lvm): memory, and a prune of its backups on nas as a step of
//     its own (as a saved plan of an earlier felhom carries it).

const matrixCT101 = `arch: amd64
cores: 2
hostname: ct101
memory: 1024
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:65,ip=dhcp,type=veth
ostype: debian
parent: felhom-20261101t000000
rootfs: local-lvm:vm-101-disk-0,size=8G
swap: 512
unprivileged: 1

[before-upgrade]
arch: amd64
cores: 2
hostname: ct101
memory: 1024
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:65,ip=dhcp,type=veth
ostype: debian
rootfs: local-lvm:vm-101-disk-0,size=8G
snaptime: 1761800000
swap: 512
unprivileged: 1

[felhom-20261101t000000]
arch: amd64
cores: 2
hostname: ct101
memory: 1024
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:65,ip=dhcp,type=veth
ostype: debian
parent: before-upgrade
rootfs: local-lvm:vm-101-disk-0,size=8G
snaptime: 1761955200
swap: 512
unprivileged: 1
`

func matrixInventory() *pvesim.Inventory {
	inv := testInventory()
	nas := inv.Node("pve1").Storages[2]
	for _, name := range []string{
		"vzdump-lxc-102-2026_11_20-02_00_00.tar.zst",
		"vzdump-lxc-103-2026_11_20-02_00_00.tar.zst",
		"vzdump-lxc-103-2026_11_21-02_00_00.tar.zst",
	} {
		nas.AddBackup(pvesim.Backup{Volid: "nas:backup/" + name, Size: 1 << 20})
	}
	addCT(inv, 101, true, matrixCT101)
	addCT(inv, 102, true, conf(102, "local"))
	addCT(inv, 103, true, conf(103, "local-lvm"))
	return inv
}

func matrixSpecs(t testing.TB) []spec.Container {
	const keep3 = "backup:\n  schedule: \"02:00\"\n  storage: nas\n  retention:\n    keep-last: 3\n"
	return loadSpecs(t, map[string]string{
		"a.yaml": ctSpec("ct101", "pve1", 101, "memory: 2G\ncores: 3\nnameserver: 9.9.9.9\nrootfs:\n  storage: local-lvm\n  size: 10G\nrestart:\n  mode: when-needed\nsnapshot:\n  keep: 1\n"),
		"b.yaml": ctSpec("ct102", "pve1", 102, "memory: 2G\nsnapshot:\n  when-impossible: vzdump\n"+keep3),
		"c.yaml": ctSpec("ct103", "pve1", 103, "memory: 2G\n"+keep3),
	})
}

// matrixPlan is the plan of the three containers, with 103's standalone
// prune added.
func matrixPlan(t testing.TB, e *env, specs []spec.Container) *plan.Plan {
	t.Helper()
	p := e.plan(specs)
	for i := range p.Containers {
		if cp := &p.Containers[i]; cp.VMID == 103 {
			cp.Steps = append(cp.Steps, plan.Step{Action: plan.ActionPrune, Why: "keeps the backups the retention declares",
				Params: map[string]string{"storage": "nas", "type": "lxc", "vmid": "103", "prune-backups": "keep-last=3"}})
		}
	}
	want := map[int]string{
		101: "snapshot,resize,set-config,reboot,snapshot-prune",
		102: "vzdump,set-config,prune",
		103: "snapshot,set-config,prune",
	}
	for vmid, steps := range want {
		if got := stepTokens(planFor(t, p, vmid)); got != steps {
			t.Fatalf("ct %d: steps %s, want %s", vmid, got, steps)
		}
	}
	return p
}

// stepKind is one kind of apply step as the proxy recognises its request.
type stepKind struct {
	name string
	vmid int
	// method and pattern match the request (pattern: path.Match on the
	// path below /api2/json).
	method, pattern string
	form            map[string]string // form values the request must carry
	// after: the request is only the step's once a request matching this
	// (method and pattern) was seen (the read-back follows the writes).
	afterMethod, afterPattern string
	// task and taskID are the type and id of the task the step starts
	// ("" for synchronous calls, where task faults do not apply; taskID ""
	// is the vmid).
	task, taskID string
	// primary is a fault the cell needs besides its own for the step to run
	// at all (the rollback follows a failure).
	primary *pvesim.TaskOutcome
	// hand, when set, is where a hand change goes instead: PVE's rollback
	// takes no digest, so a change between felhom's last read and the
	// rollback is seen by no one; the cell changes the container just
	// before that read, felhom's check.
	hand *stepKind
}

var matrixSteps = []stepKind{
	{name: "snapshot", vmid: 101, method: "POST", pattern: "/nodes/pve1/lxc/101/snapshot", task: "vzsnapshot"},
	{name: "vzdump", vmid: 102, method: "POST", pattern: "/nodes/pve1/vzdump", form: map[string]string{"vmid": "102"}, task: "vzdump"},
	{name: "set-config", vmid: 101, method: "PUT", pattern: "/nodes/pve1/lxc/101/config"},
	{name: "resize", vmid: 101, method: "PUT", pattern: "/nodes/pve1/lxc/101/resize", task: "resize"},
	{name: "read-back", vmid: 101, method: "GET", pattern: "/nodes/pve1/lxc/101/pending", afterMethod: "POST", afterPattern: "/nodes/pve1/lxc/101/status/reboot"},
	{name: "reboot", vmid: 101, method: "POST", pattern: "/nodes/pve1/lxc/101/status/reboot", task: "vzreboot"},
	{name: "prune", vmid: 103, method: "DELETE", pattern: "/nodes/pve1/storage/nas/prunebackups", task: "prunebackups", taskID: "103@nas"},
	{name: "snapshot-prune", vmid: 101, method: "DELETE", pattern: "/nodes/pve1/lxc/101/snapshot/felhom-20261101t000000", task: "vzdelsnapshot"},
	{name: "baseline-write", vmid: 101, method: "PUT", pattern: "/nodes/pve1/lxc/101/snapshot/*/config"},
	{name: "rollback", vmid: 101, method: "POST", pattern: "/nodes/pve1/lxc/101/snapshot/*/rollback", task: "vzrollback",
		primary: &pvesim.TaskOutcome{Type: "vzreboot", ID: "101", Fail: "command 'lxc-start -n 101' failed: exit code 1", Count: 1},
		hand:    &stepKind{name: "rollback", vmid: 101, method: "GET", pattern: "/nodes/pve1/lxc/101/pending", afterMethod: "POST", afterPattern: "/nodes/pve1/lxc/101/status/reboot"}},
}

// The fault kinds.
const (
	fault500        = "http-500"
	fault503        = "http-503"
	faultReset      = "reset"
	faultHang       = "hang"
	faultTaskError  = "task-error"
	faultWarnings   = "task-warnings"
	faultLockClears = "lock-clears"
	faultLockStays  = "lock-stays"
	faultLockDuring = "lock-during"
	faultHandChange = "hand-change"
	faultConcurrent = "concurrent-writer"
	faultLost       = "lost-response"
)

var matrixFaults = []string{fault500, fault503, faultReset, faultHang, faultTaskError, faultWarnings,
	faultLockClears, faultLockStays, faultLockDuring, faultHandChange, faultConcurrent, faultLost}

// handValue is the description a hand change writes; no spec manages it.
const handValue = "changed by hand"

// faultProxy sits between felhom's client and the simulator and injects the
// cell's fault into the first request of the cell's step.
type faultProxy struct {
	e     *env
	step  stepKind
	fault string

	mu        sync.Mutex
	seenAfter bool
	hit       bool
	// handDone is set once the hand change landed; lockHeld once the cell
	// held a backup lock.
	handDone, lockHeld bool
	// violations found while apply ran (a rollback with nothing written).
	violations []string
	initial    map[int]map[string]string
}

// errTimeout is what the client sees when PVE does not answer in time.
type errTimeout struct{}

func (errTimeout) Error() string {
	return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
}
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }
func (errTimeout) Unwrap() error   { return context.DeadlineExceeded }

func (f *faultProxy) RoundTrip(r *http.Request) (*http.Response, error) {
	p := strings.TrimPrefix(r.URL.Path, "/api2/json")
	form := r.URL.Query()
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body.Close()
		if form, err = url.ParseQuery(string(b)); err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(strings.NewReader(string(b)))
	}
	match := func(method, pattern string) bool {
		ok, _ := path.Match(pattern, p)
		return r.Method == method && ok
	}
	f.mu.Lock()
	target := false
	if !f.hit && match(f.step.method, f.step.pattern) && (f.step.afterPattern == "" || f.seenAfter) {
		target = true
		for k, v := range f.step.form {
			if form.Get(k) != v {
				target = false
			}
		}
		f.hit = target
	}
	if f.step.afterPattern != "" && match(f.step.afterMethod, f.step.afterPattern) {
		f.seenAfter = true
	}
	f.mu.Unlock()
	if r.Method == "POST" && strings.HasSuffix(p, "/rollback") {
		f.checkRollback(p)
	}
	next := handlerTransport{f.e.sim.Handler()}
	if !target {
		return next.RoundTrip(r)
	}
	vmid := f.step.vmid
	switch f.fault {
	case fault500, fault503:
		code := map[string]int{fault500: 500, fault503: 503}[f.fault]
		f.e.sim.InjectFault(pvesim.Fault{Method: r.Method, Path: p, Status: code, Message: "simulated failure", Count: 1})
	case faultReset:
		return nil, fmt.Errorf("read tcp 127.0.0.1:50000->127.0.0.1:8006: %w", syscall.ECONNRESET)
	case faultHang:
		return nil, errTimeout{}
	case faultLockClears, faultLockStays:
		d := 30 * time.Second
		if f.fault == faultLockStays {
			d = 100 * time.Hour
		}
		if f.e.sim.HoldLock(vmid, "backup", d) == nil {
			f.setLockHeld()
		}
	case faultHandChange:
		f.handChange(vmid)
	}
	resp, err := next.RoundTrip(r)
	switch f.fault {
	case faultLockDuring:
		if f.e.sim.HoldLock(vmid, "backup", 30*time.Second) == nil {
			f.setLockHeld()
		}
	case faultConcurrent:
		f.handChange(vmid)
	case faultLost:
		if err == nil {
			resp.Body.Close()
		}
		return nil, fmt.Errorf("read tcp 127.0.0.1:50000->127.0.0.1:8006: %w", syscall.ECONNRESET)
	}
	return resp, err
}

func (f *faultProxy) setLockHeld() {
	f.mu.Lock()
	f.lockHeld = true
	f.mu.Unlock()
}

// handChange is someone else's write: the description, through the API as
// another session would, not through the proxy.
func (f *faultProxy) handChange(vmid int) {
	_, err := f.e.api.SetConfig(context.Background(), "pve1", vmid, pve.ConfigChange{Set: map[string]string{"description": handValue}})
	f.mu.Lock()
	f.handDone = err == nil
	f.mu.Unlock()
}

// checkRollback: a rollback is sent only when felhom's own write landed,
// judged from the simulator: the config must differ from the one before
// apply in some key felhom writes.
func (f *faultProxy) checkRollback(p string) {
	var vmid int
	if _, err := fmt.Sscanf(strings.TrimPrefix(p, "/nodes/pve1/lxc/"), "%d/", &vmid); err != nil {
		return
	}
	now := mainConfig(f.e, vmid)
	if sameMain(f.initial[vmid], now) {
		f.mu.Lock()
		f.violations = append(f.violations, fmt.Sprintf("ct %d: rolled back although none of felhom's writes landed", vmid))
		f.mu.Unlock()
	}
}

// mainConfig is the container's current config without the keys snapshots,
// locks and hand changes touch.
func mainConfig(e *env, vmid int) map[string]string {
	text, ok := e.sim.ConfigText(vmid)
	if !ok {
		return nil
	}
	f, err := ctconf.Parse([]byte(text))
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, k := range f.Main.Keys() {
		switch k {
		case "lock", "parent", "description":
			continue
		}
		v, _ := f.Get(k)
		m[k] = v
	}
	if f.Pending != nil {
		for _, k := range f.Pending.Keys() {
			if k != "description" {
				v, _ := f.Pending.Get(k)
				m["pending "+k] = v
			}
		}
	}
	return m
}

func sameMain(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// cellState is what the invariants compare: per container its config, the
// snapshots, whether it runs; the backups on nas.
type cellState struct {
	files   map[int]*ctconf.File
	running map[int]bool
	backups []string
}

func readCellState(t testing.TB, e *env) cellState {
	t.Helper()
	s := cellState{files: map[int]*ctconf.File{}, running: map[int]bool{}}
	for _, vmid := range []int{101, 102, 103} {
		text, ok := e.sim.ConfigText(vmid)
		if !ok {
			continue
		}
		f, err := ctconf.Parse([]byte(text))
		if err != nil {
			t.Fatalf("ct %d: %v", vmid, err)
		}
		s.files[vmid], s.running[vmid] = f, e.sim.Running(vmid)
	}
	for _, n := range e.sim.Inventory().Nodes {
		for _, st := range n.Storages {
			if st.ID != "nas" {
				continue
			}
			for _, b := range st.Backups {
				s.backups = append(s.backups, b.Volid)
			}
		}
	}
	sort.Strings(s.backups)
	return s
}

func snapNames(f *ctconf.File) []string {
	var out []string
	for _, s := range f.Snapshots {
		out = append(out, s.Name)
	}
	return out
}

// matrixCell runs one cell and returns its violations.
func matrixCell(t *testing.T, st stepKind, fault string) []string {
	e := newEnv(t, matrixInventory())
	specs := matrixSpecs(t)
	p := matrixPlan(t, e, specs)
	before := readCellState(t, e)
	initial := map[int]map[string]string{}
	for vmid := range before.files {
		initial[vmid] = mainConfig(e, vmid)
	}
	fp := &faultProxy{e: e, step: st, fault: fault, initial: initial}
	if st.hand != nil && fault == faultHandChange {
		fp.step = *st.hand
	}
	if st.primary != nil {
		e.sim.SetTaskOutcome(*st.primary)
	}
	taskID := st.taskID
	if taskID == "" {
		taskID = strconv.Itoa(st.vmid)
	}
	switch fault {
	case faultTaskError:
		e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: st.task, ID: taskID, Fail: "simulated task failure", Count: 1})
	case faultWarnings:
		e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: st.task, ID: taskID, Warnings: 1, Count: 1})
	}
	api := e.clientVia(testToken, fp)
	res := Apply(context.Background(), api, p, Options{Clock: e.clock, LockWait: time.Minute, Specs: specs})
	after := readCellState(t, e)

	var v []string
	bad := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }
	fp.mu.Lock()
	v = append(v, fp.violations...)
	hit, handDone, lockHeld := fp.hit, fp.handDone, fp.lockHeld
	fp.mu.Unlock()
	if !hit {
		bad("the step's request was never sent")
	}
	for _, cr := range res.Containers {
		vmid := cr.VMID
		fb, fa := before.files[vmid], after.files[vmid]
		now := mainConfig(e, vmid)
		changed := !sameMain(initial[vmid], now)
		// No change without a completed snapshot or backup before it: a new
		// snapshot holding the config from before apply, or a new backup.
		if changed {
			protected := false
			for _, s := range fa.Snapshots {
				if fb.Snapshot(s.Name) != nil {
					continue
				}
				held := true
				for k, want := range initial[vmid] {
					if got, _ := s.Get(k); got != want {
						held = false
					}
				}
				protected = protected || held
			}
			for _, b := range after.backups {
				if !slices.Contains(before.backups, b) && strings.Contains(b, fmt.Sprintf("-%d-", vmid)) {
					protected = true
				}
			}
			if !protected {
				bad("ct %d: changed without a completed snapshot or backup of the state before", vmid)
			}
		}
		// No lock left by felhom. A lock PVE left after its own task failed
		// (snapshot-delete, rollback) is reported, with how to clear it.
		report := cr.Error + " " + strings.Join(cr.Warnings, " ")
		lockReported := false
		if l, _ := fa.Get("lock"); l != "" && !(l == "backup" && lockHeld && vmid == st.vmid) {
			lockReported = strings.Contains(report, "lock "+l) && strings.Contains(report, "pct unlock")
			if !lockReported {
				bad("ct %d: left locked (%s) and the report does not say how to clear it", vmid, l)
			}
		}
		// No snapshot lost but the one the plan prunes; felhom snapshots
		// it took are reported.
		for _, name := range snapNames(fb) {
			if fa.Snapshot(name) == nil && name != "felhom-20261101t000000" {
				bad("ct %d: snapshot %s lost", vmid, name)
			}
		}
		for _, name := range snapNames(fa) {
			if fb.Snapshot(name) == nil && strings.HasPrefix(name, plan.SnapshotPrefix) && cr.Snapshot != name &&
				!strings.Contains(cr.Error+strings.Join(cr.Warnings, " "), name) {
				bad("ct %d: felhom snapshot %s on the container, not in the report", vmid, name)
			}
		}
		for _, k := range fb.Main.Keys() {
			if format.IsSlot(k, "unused") || format.IsSlot(k, "mp") || k == "rootfs" {
				vb, _ := fb.Get(k)
				va, _ := fa.Get(k)
				volB, _, _ := strings.Cut(vb, ",")
				volA, _, _ := strings.Cut(va, ",")
				if volA != volB {
					bad("ct %d: volume %s was %s, now %q", vmid, k, volB, volA)
				}
			}
		}
		// No other writer's change undone.
		if vmid == st.vmid && handDone {
			if d, _ := fa.Get("description"); strings.TrimSpace(d) != handValue {
				bad("ct %d: the hand change was undone (description %q)", vmid, d)
			}
		}
		// A running container stays running (a rollback starts it again);
		// only a failed rollback, reported, leaves it stopped.
		if before.running[vmid] && !after.running[vmid] && !(cr.Rollback != nil && cr.Rollback.Status == StepFailed && strings.Contains(report, "stopped")) {
			bad("ct %d: left stopped", vmid)
		}
		// A rollback only after a write or restart PVE refused or failed
		// (a failed read, a lost answer or someone else's change is none).
		if vmid == st.vmid && cr.Rollback != nil && !rollbackJustified(st.name, fault) {
			bad("ct %d: rolled back after %s on %s", vmid, fault, st.name)
		}
		// Faults that clear by themselves end applied.
		if vmid == st.vmid && mustApply(st.name, fault) && cr.Outcome != OutcomeApplied {
			bad("ct %d: %s on %s clears by itself, but the container ended %s: %s", vmid, fault, st.name, cr.Outcome, cr.Error)
		}
		// The others are applied.
		if vmid != st.vmid && cr.Outcome != OutcomeApplied {
			bad("ct %d (not faulted): %s: %s", vmid, cr.Outcome, cr.Error)
		}
		// The report says what happened.
		if cr.Outcome != OutcomeApplied && !res.Failed() {
			bad("ct %d: %s but the exit code says success", vmid, cr.Outcome)
		}
		if cr.RolledBack && changed {
			bad("ct %d: reported rolled back, but the config differs from before", vmid)
		}
		if cr.Outcome != OutcomeApplied && !cr.RolledBack && changed && len(cr.HalfDone) == 0 &&
			!strings.Contains(strings.Join(cr.Warnings, " "), "in place and verified") &&
			!strings.Contains(strings.Join(cr.Warnings, " "), "unverified") {
			bad("ct %d: %s and changed, but the report lists nothing half-done (error %s)", vmid, cr.Outcome, cr.Error)
		}
	}
	// No backup lost: the retention (keep-last 3) selects none.
	for _, b := range before.backups {
		if !slices.Contains(after.backups, b) {
			bad("backup %s lost", b)
		}
	}

	// The faults go, held locks expire, the admin clears a lock the report
	// named (pct unlock: a simulator restarted from the state without it);
	// a second apply converges.
	e.sim.ClearFaults()
	e.sim.ClearTaskOutcomes()
	e.clock.c.Advance(200 * time.Hour)
	e = unlocked(t, e)
	p2, err := Plan(context.Background(), e.api, specs, PlanOptions{Now: e.clock.Now(), Revision: "abc123", Preflight: true})
	if err != nil {
		return append(v, "re-plan: "+err.Error())
	}
	for _, cr := range res.Containers {
		if cp := planFor(t, p2, cr.VMID); cr.Outcome == OutcomeApplied && hasWrites(cp) {
			bad("ct %d: reported applied, but the next plan still changes %s", cr.VMID, stepTokens(cp))
		}
	}
	res2 := Apply(context.Background(), e.api, p2, Options{Clock: e.clock, LockWait: time.Minute, Specs: specs})
	for _, cr := range res2.Containers {
		if cr.Outcome != OutcomeApplied && cr.Outcome != OutcomeUnchanged {
			bad("ct %d: second apply: %s: %s", cr.VMID, cr.Outcome, cr.Error)
		}
	}
	p3, err := Plan(context.Background(), e.api, specs, PlanOptions{Now: e.clock.Now(), Revision: "abc123", Preflight: true})
	if err != nil {
		return append(v, "third plan: "+err.Error())
	}
	for _, cp := range p3.Containers {
		if hasWrites(cp) {
			bad("ct %d: no convergence: the plan after the second apply still has %s", cp.VMID, stepTokens(cp))
		}
	}
	return v
}

// rollbackJustified: the cells where a write or restart failed in PVE
// after felhom's resize landed, so that the container is half-done.
func rollbackJustified(step, fault string) bool {
	switch step {
	case "rollback":
		// The cell's primary failure (the reboot task) is one; a hand
		// change just before the rollback makes it wrong.
		return fault != faultHandChange
	case "set-config", "reboot":
	default:
		return false
	}
	switch fault {
	case fault500, fault503, faultReset, faultHang, faultTaskError, faultLockStays:
		return true
	}
	return false
}

// mustApply: the cells whose fault goes by itself (a lock that clears, a
// task's warnings, one failed read), so apply must end applied.
func mustApply(step, fault string) bool {
	if step == "rollback" {
		return false // the primary failure stands
	}
	switch fault {
	case faultWarnings, faultLockClears, faultLockDuring:
		return true
	case fault500, fault503, faultReset, faultHang, faultLost:
		return step == "read-back"
	}
	return false
}

// unlocked restarts the simulator from its state with every container's
// lock removed, as pct unlock does, on the same clock.
func unlocked(t testing.TB, e *env) *env {
	t.Helper()
	inv := e.sim.Inventory()
	changed := false
	for _, n := range inv.Nodes {
		for i := range n.Containers {
			c := &n.Containers[i]
			f, err := ctconf.Parse([]byte(c.Config))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := f.Get("lock"); ok {
				f.Delete("lock")
				c.Config, changed = string(f.Bytes()), true
			}
		}
	}
	if !changed {
		return e
	}
	sim, err := pvesim.New(inv, pvesim.WithClock(e.clock.c), pvesim.WithSeed(2))
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	e2 := &env{t: t, sim: sim, clock: e.clock, calls: map[string]int{}}
	e2.api = e2.client(testToken)
	return e2
}

// hasWrites reports whether a container plan still changes the container
// (retention alone is not a change).
func hasWrites(cp plan.ContainerPlan) bool {
	for _, s := range cp.Steps {
		if s.Action.NeedsProtection() {
			return true
		}
	}
	return false
}

// matrixKnown are the cells that still break, with the issue 10 item that
// fixes them. The test fails on a violation in a cell not listed, and on a
// listed cell that no longer breaks: the list only shrinks.
var matrixKnown = map[string]string{}

func TestFaultMatrix(t *testing.T) {
	cells, broken := 0, 0
	var report []string
	for _, st := range matrixSteps {
		for _, fault := range matrixFaults {
			if (fault == faultTaskError || fault == faultWarnings) && st.task == "" {
				continue // a synchronous call has no task to fail
			}
			name := st.name + "/" + fault
			cells++
			v := matrixCell(t, st, fault)
			_, known := matrixKnown[name]
			switch {
			case len(v) > 0:
				broken++
				report = append(report, fmt.Sprintf("%s: %s", name, strings.Join(v, "; ")))
				if !known {
					t.Errorf("%s: %s", name, strings.Join(v, "; "))
				}
			case known:
				t.Errorf("%s no longer breaks: remove it from matrixKnown (item %s)", name, matrixKnown[name])
			}
		}
	}
	t.Logf("fault matrix: %d cells run, %d with violations", cells, broken)
	for _, r := range report {
		t.Log(r)
	}
}

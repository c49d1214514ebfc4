package reconcile

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
)

// TestFailureOf: each kind of error is classified by the first kind that
// fits, whatever wraps it.
func TestFailureOf(t *testing.T) {
	upid := pve.UPID{Node: "pve1", PID: 1, StartTime: testNow, Type: "vzreboot", ID: "101", User: "root@pam"}
	for _, tt := range []struct {
		err  error
		want Failure
	}{
		{fmt.Errorf("step 2 (set): %w", context.Canceled), FailureCancelled},
		{fmt.Errorf("task: wait: %w", context.DeadlineExceeded), FailureTimeout},
		{&pve.APIError{StatusCode: 500, Method: "PUT", Path: "/x", Message: "detected modified configuration - file changed by other user? Try again."}, FailureStale},
		{fmt.Errorf("%w: memory", errMoved), FailureStale},
		{stillLocked{lock: "backup", waited: time.Minute}, FailureLocked},
		{&pve.APIError{StatusCode: 500, Method: "PUT", Path: "/x", Message: "CT is locked (backup)"}, FailureLocked},
		{&pve.TaskError{UPID: upid, ExitStatus: "CT is locked (snapshot)"}, FailureLocked},
		{&pve.APIError{StatusCode: 403, Method: "PUT", Path: "/x", Message: "Permission check failed (/vms/101, VM.Config.Memory)"}, FailurePermission},
		{&pve.APIError{StatusCode: 401, Method: "GET", Path: "/x", Message: "authentication failure"}, FailurePermission},
		{fmt.Errorf("step 3 (reboot): %w", &pve.TaskError{UPID: upid, ExitStatus: "container did not stop in time"}), FailureTask},
		{fmt.Errorf("verify: %w: memory", errMismatch), FailureVerify},
		{&pve.APIError{StatusCode: 400, Method: "PUT", Path: "/x", Message: "Parameter verification failed."}, FailureAPI},
		{errors.New("GET /x: connection refused"), FailureAPI},
	} {
		if got := failureOf(tt.err); got != tt.want {
			t.Errorf("failureOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

// TestResultFailureKinds: on the simulator, each way a container is not
// applied sets Failure beside Error, and an applied one sets neither.
func TestResultFailureKinds(t *testing.T) {
	check := func(t *testing.T, cr ContainerResult, outcome Outcome, want Failure) {
		t.Helper()
		if cr.Outcome != outcome || cr.Failure != want || (cr.Error == "") != (want == "") {
			t.Errorf("ct %d: %s, failure %q, error %q; want %s, failure %q", cr.VMID, cr.Outcome, cr.Failure, cr.Error, outcome, want)
		}
	}
	t.Run("applied, stale, blocked", func(t *testing.T) {
		inv := testInventory()
		addCT(inv, 101, true, conf(101, "local-lvm"))
		addCT(inv, 102, true, conf(102, "local-lvm"))
		e := newEnv(t, inv)
		p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, ""), "b.yaml": specMemory(102, ""), "c.yaml": specMemory(103, "")}))
		if _, err := e.api.SetConfig(context.Background(), "pve1", 101, pve.ConfigChange{Set: map[string]string{"cores": "4"}}); err != nil {
			t.Fatal(err)
		}
		res := e.apply(p, Options{})
		check(t, resultFor(t, res, 101), OutcomeStale, FailureStale)
		check(t, resultFor(t, res, 102), OutcomeApplied, "")
		check(t, resultFor(t, res, 103), OutcomeSkipped, FailureBlocked)
	})
	t.Run("locked", func(t *testing.T) {
		inv := testInventory()
		addCT(inv, 101, true, conf(101, "local-lvm"))
		e := newEnv(t, inv)
		p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
		if err := e.sim.HoldLock(101, "backup", time.Hour); err != nil {
			t.Fatal(err)
		}
		check(t, resultFor(t, e.apply(p, Options{LockWait: time.Minute, LockPoll: 10 * time.Second}), 101), OutcomeFailed, FailureLocked)
	})
	t.Run("task", func(t *testing.T) {
		e, p := planRebootFail(t)
		check(t, resultFor(t, e.apply(p, Options{}), 101), OutcomeFailed, FailureTask)
	})
	t.Run("verify", func(t *testing.T) {
		inv := testInventory()
		addCT(inv, 101, true, conf(101, "local-lvm"))
		e := newEnv(t, inv)
		p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
		cr := resultFor(t, Apply(context.Background(), &tamperAPI{API: e.api}, p, Options{Clock: e.clock}), 101)
		check(t, cr, OutcomeFailed, FailureVerify)
	})
	t.Run("cancelled", func(t *testing.T) {
		inv := testInventory()
		addCT(inv, 101, true, conf(101, "local-lvm"))
		e := newEnv(t, inv)
		p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		check(t, resultFor(t, Apply(ctx, e.api, p, Options{Clock: e.clock}), 101), OutcomeSkipped, FailureCancelled)
	})
}

package pvesim

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
)

var upidRE = regexp.MustCompile(`^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:vzsnapshot:100:admin@pve!full:$`)

func TestTaskLifecycle(t *testing.T) {
	e := newEnv(t, baseInventory(), WithTaskDuration(10*time.Second))
	upid := e.ok("POST", "/nodes/pve1/lxc/100/snapshot", "snapname", "t1").str()
	if !upidRE.MatchString(upid) {
		t.Fatalf("UPID %q", upid)
	}
	u, err := pve.ParseUPID(upid)
	if err != nil || u.String() != upid || !u.StartTime.Equal(testStart) {
		t.Fatalf("UPID %q: %+v %v", upid, u, err)
	}

	st, log := e.taskResult(upid)
	if st["status"] != "running" {
		t.Fatalf("status %v", st)
	}
	if _, ok := st["exitstatus"]; ok {
		t.Fatalf("exitstatus while running: %v", st)
	}
	if st["user"] != "admin@pve" || st["tokenid"] != "full" || st["pid"] != float64(u.PID) || st["starttime"] != float64(testStart.Unix()) {
		t.Errorf("status fields %v", st)
	}
	if len(log) != 0 && log[len(log)-1] == "TASK OK" {
		t.Errorf("log ends before the task does: %v", log)
	}
	e.sim.Clock().Advance(9 * time.Second)
	if st, _ := e.taskResult(upid); st["status"] != "running" {
		t.Fatalf("finished early: %v", st)
	}
	e.sim.Clock().Advance(time.Second)
	st, log = e.taskResult(upid)
	if st["status"] != "stopped" || st["exitstatus"] != "OK" || log[len(log)-1] != "TASK OK" {
		t.Fatalf("%v %v", st, log)
	}

	t.Run("log paging", func(t *testing.T) {
		e.sim.SetTaskDuration(0)
		e.sim.SetTaskOutcome(TaskOutcome{Type: "vzsnapshot", Warnings: 3, Count: 1})
		upid := e.ok("POST", "/nodes/pve1/lxc/100/snapshot", "snapname", "t2").str()
		all := e.ok("GET", "/nodes/pve1/tasks/"+upid+"/log", "limit", "0").list()
		page := e.ok("GET", "/nodes/pve1/tasks/"+upid+"/log", "start", "1", "limit", "2").list()
		if len(page) != 2 || page[0].(map[string]any)["n"] != float64(2) || len(all) < 4 {
			t.Fatalf("page %v of %v", page, all)
		}
		last := all[len(all)-1].(map[string]any)["t"]
		if last != "TASK WARNINGS: 3" {
			t.Fatalf("last line %v", last)
		}
	})
	runErrCases(t, e, []errCase{
		{name: "unparsable upid", method: "GET", path: "/nodes/pve1/tasks/UPID:nope/status", status: 400, errs: map[string]string{"upid": "unable to parse worker upid"}},
		{name: "unknown task", method: "GET", path: "/nodes/pve1/tasks/UPID:pve1:00000001:00000001:00000001:vzstart:100:admin@pve!full:/status", status: 400, errs: map[string]string{"upid": "no such task"}},
		{name: "task of another node", method: "GET", path: "/nodes/pve2/tasks/" + upid + "/status", status: 400, errs: map[string]string{"upid": "no such task"}},
		// The task file is named by the UPID as the worker spelled it.
		{name: "hex digits in lower case", method: "GET", path: "/nodes/pve1/tasks/" + lowerHex(t, upid) + "/status", status: 400, errs: map[string]string{"upid": "no such task"}},
		{name: "other user without Sys.Audit", token: "ops@pve!mem=secret-mem", method: "GET", path: "/nodes/pve1/tasks/" + upid + "/status", status: 403,
			msg: "Permission check failed (/nodes/pve1, Sys.Audit)"},
	})
}

func TestHoldLockAndClock(t *testing.T) {
	e := newEnv(t, baseInventory())
	if err := e.sim.HoldLock(101, "backup", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.HoldLock(101, "backup", time.Minute); err == nil {
		t.Fatal("a second lock on a locked CT must fail")
	}
	cur := e.ok("GET", "/nodes/pve1/lxc/101/status/current").obj()
	if cur["lock"] != "backup" {
		t.Fatalf("status/current lock: %v", cur["lock"])
	}
	e.sim.Clock().Advance(4 * time.Minute)
	if !strings.Contains(e.conf(101), "lock: backup") {
		t.Fatal("released early")
	}
	e.sim.Clock().Advance(time.Minute)
	if strings.Contains(e.conf(101), "lock:") {
		t.Fatal("not released")
	}
}

// TestControlEndpoint steers the simulator through /_felhom/sim/ as
// `felhom sim` users do.
func TestControlEndpoint(t *testing.T) {
	e := newEnv(t, baseInventory(), WithControlToken("ctl"))
	ctl := func(token, method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, e.url+"/_felhom/sim/"+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "FelhomSim "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return res.StatusCode, m
	}
	if code, _ := ctl("", "GET", "counts", ""); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	if code, _ := ctl("wrong", "GET", "counts", ""); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	// An API token does not open the control endpoint.
	req, _ := http.NewRequest("GET", e.url+"/_felhom/sim/counts", nil)
	req.Header.Set("Authorization", "PVEAPIToken="+e.token)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 401 {
		t.Fatalf("API token on control: %v %v", res, err)
	}

	e.ok("GET", "/version")
	if code, m := ctl("ctl", "GET", "counts", ""); code != 200 || m["GET /version"] != float64(1) {
		t.Fatalf("counts %d %v", code, m)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "faults", `{"method":"GET","path":"/version","kind":"status","status":503,"message":"maintenance","count":1}`},
		{"POST", "task-duration", `{"duration":"1m"}`},
		{"POST", "locks", `{"vmid":102,"lock":"backup","for":"30s"}`},
		{"POST", "latency", `{"fixed":"1ms"}`},
		{"POST", "task-outcomes", `{"type":"vzstart","fail":"no","count":1}`},
	} {
		if code, m := ctl("ctl", c.method, c.path, c.body); code != 200 {
			t.Fatalf("%s %s: %d %v", c.method, c.path, code, m)
		}
	}
	if r := e.call("GET", "/version"); r.status != 503 || r.reason != "maintenance" {
		t.Errorf("injected fault: %d %s", r.status, r.reason)
	}
	if !strings.Contains(e.conf(102), "lock: backup") {
		t.Error("lock not held")
	}
	upid := e.ok("POST", "/nodes/pve1/lxc/101/status/start").str()
	if code, m := ctl("ctl", "POST", "tasks/finish", ""); code != 200 || m["finished"] != float64(1) {
		t.Fatalf("finish: %d %v", code, m)
	}
	if st, _ := e.taskResult(upid); st["exitstatus"] != "no" {
		t.Errorf("steered start: %v", st)
	}
	if code, m := ctl("ctl", "POST", "clock", `{"advance":"31s"}`); code != 200 || m["now"] == "" {
		t.Fatalf("clock: %d %v", code, m)
	}
	if strings.Contains(e.conf(102), "lock:") {
		t.Error("lock not released after the clock moved")
	}
	if code, m := ctl("ctl", "GET", "state", ""); code != 200 || m["cluster"] != "lab" || len(m["nodes"].([]any)) != 2 {
		t.Errorf("state: %d %v", code, m)
	}
	if code, _ := ctl("ctl", "POST", "faults", `{"kind":"explode"}`); code != 400 {
		t.Errorf("bad fault kind: %d", code)
	}
	if code, _ := ctl("ctl", "POST", "nothing", ``); code != 404 {
		t.Errorf("unknown call: %d", code)
	}
}

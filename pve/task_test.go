package pve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/felhom/felhom/internal/testref"
	"github.com/google/go-cmp/cmp"
)

// taskServer serves one task: "running" for the first polls, then stopped
// with exit, and its log.
func taskServer(t *testing.T, f *fixture, upid UPID, runningPolls int, exit string, log []string) *atomic.Int32 {
	var polls atomic.Int32
	f.mux.HandleFunc("GET /api2/json/nodes/{node}/tasks/{upid}/status", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("upid") != upid.String() {
			t.Errorf("status of %s", r.PathValue("upid"))
		}
		st := map[string]any{"upid": upid.String(), "node": upid.Node, "pid": upid.PID, "pstart": upid.PStart,
			"starttime": upid.StartTime.Unix(), "type": upid.Type, "id": upid.ID, "user": upid.User, "status": "running"}
		if int(polls.Add(1)) > runningPolls {
			st["status"], st["exitstatus"] = "stopped", exit
		}
		writeData(t, w, st)
	})
	f.mux.HandleFunc("GET /api2/json/nodes/{node}/tasks/{upid}/log", func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("start"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if limit == 0 {
			limit = 50
		}
		var lines []map[string]any
		for i := start; i < len(log) && i < start+limit; i++ {
			lines = append(lines, map[string]any{"n": i + 1, "t": log[i]})
		}
		w.Header().Set("Content-Type", "application/json")
		b := fmt.Sprintf(`{"data":%s,"total":%d}`, mustJSON(t, lines), len(log))
		w.Write([]byte(b))
	})
	return &polls
}

func TestWaitTaskOK(t *testing.T) {
	f := setup(t)
	u := mustUPID(t, "UPID:pve:0000377E:19E15146:5F3C0469:vzsnapshot:100:felhom@pve!ci:")
	polls := taskServer(t, f, u, 3, "OK", []string{"snapshot created", "TASK OK"})
	res, err := f.c.WaitTask(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(TaskResult{UPID: u, ExitStatus: "OK"}, res); d != "" {
		t.Error(d)
	}
	if polls.Load() != 4 {
		t.Errorf("%d polls, want 4 (done only when stopped)", polls.Load())
	}
}

// TestWaitTaskWarnings: "WARNINGS: 1" is success with warnings.
func TestWaitTaskWarnings(t *testing.T) {
	f := setup(t)
	u := mustUPID(t, "UPID:dahu-2:00007323:001036A5:6419CAF8:vzdump:100:root@pam:")
	taskServer(t, f, u, 1, "WARNINGS: 1", []string{
		"INFO: starting new backup job: vzdump 100",
		"WARN: excluding bind mount point mp0 ('/srv') from backup",
		"INFO: Finished Backup of VM 100",
		"TASK WARNINGS: 1",
	})
	res, err := f.c.WaitTask(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	want := TaskResult{UPID: u, ExitStatus: "WARNINGS: 1", Warnings: 1,
		WarningLines: []string{"WARN: excluding bind mount point mp0 ('/srv') from backup"}}
	if d := cmp.Diff(want, res); d != "" {
		t.Error(d)
	}
}

// TestWaitTaskWarningsLogUnreadable: "WARNINGS: n" is success even when the
// log that names the warnings cannot be read; the failed read is a note among
// the warning lines, not an error (issue 10 item 10).
func TestWaitTaskWarningsLogUnreadable(t *testing.T) {
	f := setup(t)
	u := mustUPID(t, "UPID:pve:00007323:001036A5:6419CAF8:vzdump:100:felhom@pve!ci:")
	f.mux.HandleFunc("GET /api2/json/nodes/{node}/tasks/{upid}/status", func(w http.ResponseWriter, r *http.Request) {
		writeData(t, w, map[string]any{"upid": u.String(), "node": u.Node, "pid": u.PID, "pstart": u.PStart,
			"starttime": u.StartTime.Unix(), "type": u.Type, "id": u.ID, "user": u.User,
			"status": "stopped", "exitstatus": "WARNINGS: 2"})
	})
	f.mux.HandleFunc("GET /api2/json/nodes/{node}/tasks/{upid}/log", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "log gone", http.StatusInternalServerError)
	})
	res, err := f.c.WaitTask(context.Background(), u)
	if err != nil {
		t.Fatalf("a task that ended with warnings is a success, got %v", err)
	}
	if res.ExitStatus != "WARNINGS: 2" || res.Warnings != 2 {
		t.Errorf("result %+v", res)
	}
	if len(res.WarningLines) != 1 || !strings.HasPrefix(res.WarningLines[0], "(task log unavailable: ") {
		t.Errorf("warning lines %q, want one note that the log could not be read", res.WarningLines)
	}
}

// TestWaitTaskWarningsRealStatus: the captured status with WARNINGS: 1.
func TestWaitTaskWarningsRealStatus(t *testing.T) {
	body := testref.Read(t, "pve-api/responses/task-status-stopped-warnings.json")
	f := setup(t)
	u := mustUPID(t, "UPID:dahu-2:00007323:001036A5:6419CAF8:qmstart:100:root@pam:")
	f.mux.HandleFunc("GET /api2/json/nodes/dahu-2/tasks/{upid}/status", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	f.mux.HandleFunc("GET /api2/json/nodes/dahu-2/tasks/{upid}/log", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":[{"n":1,"t":"WARN: something"},{"n":2,"t":"TASK WARNINGS: 1"}],"total":2}`))
	})
	res, err := f.c.WaitTask(context.Background(), u)
	if err != nil || res.Warnings != 1 || len(res.WarningLines) != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestWaitTaskError(t *testing.T) {
	f := setup(t)
	u := mustUPID(t, "UPID:pve:0000377E:19E15146:5F3C0469:vzsnapshot:100:felhom@pve!ci:")
	var log []string
	for i := range 30 {
		log = append(log, fmt.Sprintf("line %d", i))
	}
	log = append(log, "TASK ERROR: snapshot feature is not available")
	taskServer(t, f, u, 2, "snapshot feature is not available", log)
	_, err := f.c.WaitTask(context.Background(), u)
	var te *TaskError
	if !errors.As(err, &te) {
		t.Fatalf("%v is not a *TaskError", err)
	}
	if te.UPID != u || te.ExitStatus != "snapshot feature is not available" {
		t.Errorf("%+v", te)
	}
	if d := cmp.Diff(log[len(log)-TaskLogTailLines:], te.LogTail); d != "" {
		t.Errorf("log tail (-want +got):\n%s", d)
	}
}

// TestWaitTaskErrorLongLog: a log longer than one read still gives its tail.
func TestWaitTaskErrorLongLog(t *testing.T) {
	f := setup(t)
	u := mustUPID(t, "UPID:pve:0000377E:19E15146:5F3C0469:vzdump:100:felhom@pve!ci:")
	var log []string
	for i := range 1234 {
		log = append(log, fmt.Sprintf("INFO: line %d", i))
	}
	log = append(log, "ERROR: Backup of VM 100 failed - no space left", "TASK ERROR: job errors")
	taskServer(t, f, u, 0, "job errors", log)
	_, err := f.c.WaitTask(context.Background(), u)
	var te *TaskError
	if !errors.As(err, &te) {
		t.Fatalf("%v", err)
	}
	if d := cmp.Diff(log[len(log)-TaskLogTailLines:], te.LogTail); d != "" {
		t.Errorf("log tail (-want +got):\n%s", d)
	}
}

// TestWaitTaskRealError: the captured failed task ("interrupted by signal").
func TestWaitTaskRealError(t *testing.T) {
	body := testref.Read(t, "pve-api/responses/task-status-stopped-error.proxmoxer.json")
	f := setup(t)
	u := mustUPID(t, "UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:")
	f.mux.HandleFunc("GET /api2/json/nodes/node1/tasks/{upid}/status", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	f.mux.HandleFunc("GET /api2/json/nodes/node1/tasks/{upid}/log", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":[{"n":1,"t":"INFO: starting"},{"n":2,"t":"TASK ERROR: interrupted by signal"}],"total":2}`))
	})
	_, err := f.c.WaitTask(context.Background(), u)
	var te *TaskError
	if !errors.As(err, &te) || te.ExitStatus != "interrupted by signal" || len(te.LogTail) != 2 {
		t.Fatalf("%v", err)
	}
}

// TestWaitTaskHonoursContext: a task that never ends gives ctx's error.
func TestWaitTaskHonoursContext(t *testing.T) {
	f := setup(t)
	u := mustUPID(t, "UPID:pve:0000377E:19E15146:5F3C0469:vzsnapshot:100:felhom@pve!ci:")
	ctx, cancel := context.WithCancel(context.Background())
	var polls atomic.Int32
	f.mux.HandleFunc("GET /api2/json/nodes/{node}/tasks/{upid}/status", func(w http.ResponseWriter, r *http.Request) {
		if polls.Add(1) == 3 {
			cancel()
		}
		writeData(t, w, map[string]any{"upid": u.String(), "status": "running"})
	})
	_, err := f.c.WaitTask(ctx, u)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
}

func TestParseWarnings(t *testing.T) {
	for _, tt := range []struct {
		in string
		n  int
		ok bool
	}{{"WARNINGS: 1", 1, true}, {"WARNINGS: 12", 12, true}, {"OK", 0, false}, {"WARNINGS: x", 0, false}, {"job errors", 0, false}} {
		n, ok := parseWarnings(tt.in)
		if n != tt.n || ok != tt.ok {
			t.Errorf("parseWarnings(%q) = %d, %v", tt.in, n, ok)
		}
	}
}

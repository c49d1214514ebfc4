package pvesim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Tasks as PVE runs them (pve-common src/PVE/RESTEnvironment.pm
// fork_worker, src/PVE/Tools.pm upid_encode; pve-manager PVE/API2/Tasks.pm):
// the API call returns the UPID at once; the worker runs for the task
// duration on the simulator's clock; its status has exitstatus only once
// it stopped; its log ends "TASK OK", "TASK WARNINGS: n" or
// "TASK ERROR: <msg>". Only WARN lines raise the warning count.

// task is one worker.
type task struct {
	upid     upid   // its node and user (the auth id) are the task's
	id       string // upid.String(), the key of Sim.tasks
	started  time.Time
	due      time.Time
	ended    time.Time
	done     bool
	exit     string
	log      []string
	warnings int

	// fail is a steered failure: the work is not done and the task ends
	// with this error.
	fail        string
	addWarnings int
	// finish does the work at the end of the task; an error ends it with
	// "TASK ERROR: <err>".
	finish func(t *task) error
	// abort undoes what the start of the task did (locks, a prepared
	// snapshot section) when a steered failure stops it.
	abort func(t *task)
}

func (t *task) logf(format string, args ...any) {
	t.log = append(t.log, fmt.Sprintf(format, args...))
}

// warn is log_warn: a "WARN: " line that counts toward TASK WARNINGS.
func (t *task) warn(format string, args ...any) {
	t.log = append(t.log, "WARN: "+fmt.Sprintf(format, args...))
	t.warnings++
}

// taskSpec describes a task to start.
type taskSpec struct {
	node string
	typ  string
	id   string
	// begin runs when the task starts (PVE's worker does its prepare
	// step at once: locks, a snapshot section in prepare state); an error
	// ends the task at once with that error. finish does the work when
	// the task ends; abort undoes begin when a steered failure stops the
	// task.
	begin  func(t *task) error
	finish func(t *task) error
	abort  func(t *task)
}

// startTask creates a worker and returns its UPID. The caller holds s.mu
// and has done the synchronous part of the call (checks, locks).
func (s *Sim) startTask(r *request, spec taskSpec) string {
	now := s.clock.Now()
	n := s.node[spec.node]
	if s.lastPID == 0 {
		s.lastPID = 0x1000 + uint32(s.rnd.IntN(0x40000))
	}
	s.lastPID++
	// pstart is the worker's start in clock ticks (100 Hz) since boot; a
	// clock set back before the node's boot gives 0.
	ticks := now.Sub(n.bootTime) / (10 * time.Millisecond)
	if ticks < 0 {
		ticks = 0
	}
	up := upid{
		node:      spec.node,
		pid:       uint64(s.lastPID),
		pstart:    uint64(ticks),
		starttime: now.Unix(),
		typ:       spec.typ,
		id:        spec.id,
		user:      r.authID,
	}
	t := &task{upid: up, id: up.String(), started: now,
		due: now.Add(s.taskDuration), finish: spec.finish, abort: spec.abort}
	for _, o := range s.outcomes {
		if o.Type != "" && o.Type != spec.typ || o.ID != "" && o.ID != spec.id || o.Count > 0 && o.used >= o.Count {
			continue
		}
		o.used++
		t.fail = o.Fail
		t.addWarnings = o.Warnings
		if o.Duration > 0 {
			t.due = now.Add(o.Duration)
		}
		break
	}
	s.tasks[t.id] = t
	s.taskList = append(s.taskList, t)
	if spec.begin != nil {
		if err := spec.begin(t); err != nil {
			t.fail, t.abort, t.addWarnings = err.Error(), nil, 0
			s.finishTask(t)
			return t.id
		}
	}
	if !t.due.After(now) {
		s.finishTask(t)
		return t.id
	}
	s.running = append(s.running, t)
	return t.id
}

// finishTask ends a running task: does its work (or the steered failure)
// and writes the final log line.
func (s *Sim) finishTask(t *task) {
	if t.done {
		return
	}
	var err error
	if t.fail != "" {
		if t.abort != nil {
			t.abort(t)
		}
		err = fmt.Errorf("%s", t.fail)
	} else if t.finish != nil {
		err = t.finish(t)
	}
	for i := 0; i < t.addWarnings && err == nil; i++ {
		t.warn("simulated warning %d", i+1)
	}
	t.done = true
	t.ended = s.clock.Now()
	if t.ended.Before(t.due) {
		t.ended = t.due
	}
	switch {
	case err != nil:
		// PVE: the message with newlines as spaces, no trailing newline.
		msg := strings.TrimRight(strings.ReplaceAll(strings.TrimRight(err.Error(), "\n"), "\n", " "), " ")
		t.exit = msg
		t.log = append(t.log, "TASK ERROR: "+msg)
	case t.warnings > 0:
		t.exit = "WARNINGS: " + strconv.Itoa(t.warnings)
		t.log = append(t.log, "TASK WARNINGS: "+strconv.Itoa(t.warnings))
	default:
		t.exit = "OK"
		t.log = append(t.log, "TASK OK")
	}
}

// settle brings the state up to the clock: tasks that are due finish (in
// the order they started) and held locks that expired are released. It
// reports whether anything changed. The caller holds s.mu.
func (s *Sim) settle() bool {
	now := s.clock.Now()
	changed := false
	for _, t := range s.running {
		if !t.done && !t.due.After(now) {
			s.finishTask(t)
			changed = true
		}
	}
	if changed {
		s.pruneRunning()
	}
	kept := s.holds[:0]
	for _, h := range s.holds {
		if h.until.After(now) {
			kept = append(kept, h)
			continue
		}
		if ct := s.cts[h.vmid]; ct != nil && ct.lock() == h.lock {
			_ = ct.setLock("")
		}
		changed = true
	}
	s.holds = kept
	return changed
}

// pruneRunning drops finished tasks from the running list.
func (s *Sim) pruneRunning() {
	kept := s.running[:0]
	for _, t := range s.running {
		if !t.done {
			kept = append(kept, t)
		}
	}
	s.running = kept
}

// taskFromRequest finds the task named by the upid parameter on the node.
func (s *Sim) taskFromRequest(r *request) (*task, error) {
	raw := r.params["upid"]
	if _, ok := parseUPID(raw); !ok {
		return nil, paramError(map[string]string{"upid": "unable to parse worker upid"})
	}
	// The task file is named by the UPID as given (Tasks.pm: "no such
	// task" if ! -f $filename): a UPID that parses but is not spelled as
	// the worker made it (lower-case hex) names no task.
	t := s.tasks[raw]
	if t == nil || t.upid.node != r.params["node"] {
		return nil, paramError(map[string]string{"upid": "no such task"})
	}
	if t.upid.user != r.authID {
		if err := s.check(r, "/nodes/"+t.upid.node, "Sys.Audit"); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// taskJSON is a task's status as GET .../tasks/{upid}/status returns it.
func taskJSON(t *task) map[string]any {
	m := map[string]any{
		"upid":      t.id,
		"node":      t.upid.node,
		"pid":       t.upid.pid,
		"pstart":    t.upid.pstart,
		"starttime": t.upid.starttime,
		"type":      t.upid.typ,
		"id":        t.upid.id,
		"user":      t.upid.user,
		"status":    "running",
	}
	if user, tok, ok := strings.Cut(t.upid.user, "!"); ok {
		m["user"], m["tokenid"] = user, tok
	}
	if t.done {
		m["status"] = "stopped"
		m["exitstatus"] = t.exit
	}
	return m
}

func (s *Sim) taskStatus(r *request) (any, error) {
	t, err := s.taskFromRequest(r)
	if err != nil {
		return nil, err
	}
	return taskJSON(t), nil
}

// taskLog is GET .../log: lines numbered from 1, start/limit as PVE's
// dump_logfile (default limit 50).
func (s *Sim) taskLog(r *request) (any, error) {
	raw := r.params["upid"]
	if up, ok := parseUPID(raw); ok && (s.tasks[raw] == nil || s.tasks[raw].upid.node != r.params["node"]) {
		// read_task_log does not look the task up: the UPID's user (or
		// Sys.Audit) may read it, and dump_logfile answers a missing file
		// with one line.
		if up.user != r.authID {
			if err := s.check(r, "/nodes/"+r.params["node"], "Sys.Audit"); err != nil {
				return nil, err
			}
		}
		return withTotal{data: []map[string]any{{"n": 1, "t": "unable to open file - No such file or directory"}}, total: 1}, nil
	}
	t, err := s.taskFromRequest(r)
	if err != nil {
		return nil, err
	}
	start, _ := strconv.Atoi(r.params["start"])
	limit := 50
	if r.has("limit") {
		limit, _ = strconv.Atoi(r.params["limit"])
	}
	out := []map[string]any{}
	for i := start; i < len(t.log) && (limit == 0 || i < start+limit); i++ {
		out = append(out, map[string]any{"n": i + 1, "t": t.log[i]})
	}
	if len(t.log) == 0 && start == 0 {
		out = append(out, map[string]any{"n": 1, "t": "no content"})
	}
	// pve-manager PVE/API2/Tasks.pm read_task_log: total is the number of
	// lines in the log (dump_logfile's count).
	return withTotal{data: out, total: len(t.log)}, nil
}

// taskList is GET /nodes/{node}/tasks: newest first, finished tasks by
// default (source=archive), with status = exit status and endtime.
func (s *Sim) taskListing(r *request) (any, error) {
	node := r.params["node"]
	source := r.params["source"]
	if source == "" {
		source = "archive"
	}
	var list []*task
	for _, t := range s.taskList {
		if t.upid.node != node {
			continue
		}
		if source == "archive" && !t.done || source == "active" && t.done {
			continue
		}
		if v := r.params["vmid"]; v != "" && t.upid.id != v {
			continue
		}
		if f := r.params["typefilter"]; f != "" && t.upid.typ != f {
			continue
		}
		if t.upid.user != r.authID && !s.hasAny(r.token, "/nodes/"+node, "Sys.Audit") {
			continue
		}
		list = append(list, t)
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].started.After(list[j].started) })
	start, _ := strconv.Atoi(r.params["start"])
	limit := 50
	if r.has("limit") {
		limit, _ = strconv.Atoi(r.params["limit"])
	}
	out := []map[string]any{}
	for i := start; i < len(list) && (limit == 0 || i < start+limit); i++ {
		t := list[i]
		m := taskJSON(t)
		delete(m, "exitstatus")
		delete(m, "tokenid")
		m["user"] = t.upid.user
		if t.done {
			m["status"] = t.exit
			m["endtime"] = t.ended.Unix()
		} else {
			delete(m, "status")
		}
		out = append(out, m)
	}
	return out, nil
}

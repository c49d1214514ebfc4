package pvesim

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The control endpoint steers a running `felhom sim` from outside: it lives
// under /_felhom/sim/, a path no PVE client builds (PVE's API is under
// /api2/), and needs its own secret: "Authorization: FelhomSim <token>".
// Bodies and answers are JSON; durations are Go duration strings ("250ms").
//
//	GET    /_felhom/sim/counts          request counts per endpoint
//	DELETE /_felhom/sim/counts          reset them
//	POST   /_felhom/sim/clock           {"advance":"1h"} or {"set":"2026-01-02T03:04:05Z"}
//	POST   /_felhom/sim/latency         {"fixed":"50ms","jitter":"10ms"}
//	POST   /_felhom/sim/faults          a Fault: {"method":"PUT","path":"/nodes/{node}/lxc/{vmid}/config","kind":"status","status":500,"message":"...","count":1,"rate":0.5}
//	DELETE /_felhom/sim/faults          remove all faults
//	POST   /_felhom/sim/task-outcomes   {"type":"vzdump","id":"101","fail":"...","warnings":1,"duration":"30s","count":1}
//	DELETE /_felhom/sim/task-outcomes   remove all task outcomes
//	POST   /_felhom/sim/task-duration   {"duration":"2s"}
//	POST   /_felhom/sim/workers         {"workers":3} the per-node worker limit (0: none)
//	POST   /_felhom/sim/tasks/finish    finish every running task now
//	POST   /_felhom/sim/locks           {"vmid":101,"lock":"backup","for":"5m"}
//	GET    /_felhom/sim/state           the current state as an inventory (JSON)
//	POST   /_felhom/sim/pct             {"node":"pve1","args":["set","101","--mp0","/srv,mp=/srv"]}: pct as root@pam on node (pct.go)
const controlPrefix = "/_felhom/sim/"

func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "FelhomSim ")
	if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.controlToken)) != 1 {
		controlError(w, http.StatusUnauthorized, "control token required (Authorization: FelhomSim <token>)")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	decode := func(v any) bool {
		if len(body) == 0 {
			return true
		}
		if err := json.Unmarshal(body, v); err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return false
		}
		return true
	}
	dur := func(v string) (time.Duration, bool) {
		if v == "" {
			return 0, true
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return 0, false
		}
		return d, true
	}
	what := r.Method + " " + strings.TrimPrefix(r.URL.Path, controlPrefix)
	switch what {
	case "POST pct":
		s.servePct(w, body)
	case "GET state":
		controlReply(w, http.StatusOK, s.Inventory())
	case "GET counts":
		controlReply(w, http.StatusOK, s.RequestCounts())
	case "DELETE counts":
		s.ResetRequestCounts()
		controlReply(w, http.StatusOK, struct{}{})
	case "POST clock":
		var c struct{ Advance, Set string }
		if !decode(&c) {
			return
		}
		d, ok := dur(c.Advance)
		if !ok {
			return
		}
		if c.Set != "" {
			t, err := time.Parse(time.RFC3339, c.Set)
			if err != nil {
				controlError(w, http.StatusBadRequest, err.Error())
				return
			}
			s.clock.Set(t)
		}
		s.clock.Advance(d)
		controlReply(w, http.StatusOK, map[string]string{"now": s.clock.Now().UTC().Format(time.RFC3339)})
	case "POST latency":
		var l struct{ Fixed, Jitter string }
		if !decode(&l) {
			return
		}
		fixed, ok1 := dur(l.Fixed)
		jitter, ok2 := dur(l.Jitter)
		if !ok1 || !ok2 {
			return
		}
		s.SetLatency(Latency{Fixed: fixed, Jitter: jitter})
		controlReply(w, http.StatusOK, struct{}{})
	case "POST faults":
		var f Fault
		if !decode(&f) {
			return
		}
		switch f.Kind {
		case "", FaultStatus, FaultReset, FaultHang:
		default:
			controlError(w, http.StatusBadRequest, fmt.Sprintf("unknown fault kind %q", f.Kind))
			return
		}
		s.InjectFault(f)
		controlReply(w, http.StatusOK, struct{}{})
	case "DELETE faults":
		s.ClearFaults()
		controlReply(w, http.StatusOK, struct{}{})
	case "POST task-outcomes":
		var o struct {
			Type, ID, Fail, Duration string
			Warnings, Count          int
		}
		if !decode(&o) {
			return
		}
		d, ok := dur(o.Duration)
		if !ok {
			return
		}
		s.SetTaskOutcome(TaskOutcome{Type: o.Type, ID: o.ID, Fail: o.Fail, Warnings: o.Warnings, Duration: d, Count: o.Count})
		controlReply(w, http.StatusOK, struct{}{})
	case "DELETE task-outcomes":
		s.ClearTaskOutcomes()
		controlReply(w, http.StatusOK, struct{}{})
	case "POST task-duration":
		var o struct{ Duration string }
		if !decode(&o) {
			return
		}
		d, ok := dur(o.Duration)
		if !ok {
			return
		}
		s.SetTaskDuration(d)
		controlReply(w, http.StatusOK, struct{}{})
	case "POST workers":
		var o struct{ Workers *int }
		if !decode(&o) {
			return
		}
		if o.Workers == nil {
			controlError(w, http.StatusBadRequest, `give {"workers": N}`)
			return
		}
		s.SetWorkers(*o.Workers)
		controlReply(w, http.StatusOK, struct{}{})
	case "POST tasks/finish":
		controlReply(w, http.StatusOK, map[string]int{"finished": s.FinishTasks()})
	case "POST locks":
		var l struct {
			VMID int
			Lock string
			For  string
		}
		if !decode(&l) {
			return
		}
		d, ok := dur(l.For)
		if !ok {
			return
		}
		if l.Lock == "" {
			l.Lock = "backup"
		}
		if err := s.HoldLock(l.VMID, l.Lock, d); err != nil {
			controlError(w, http.StatusConflict, err.Error())
			return
		}
		controlReply(w, http.StatusOK, struct{}{})
	default:
		controlError(w, http.StatusNotFound, "unknown control call "+what)
	}
}

// controlError answers {"error": msg}.
func controlError(w http.ResponseWriter, status int, msg string) {
	controlReply(w, status, map[string]string{"error": msg})
}

func controlReply(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

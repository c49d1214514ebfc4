package backup

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/felhom/felhom/pve"
)

// taskLogLimit bounds the task log read for a batch's outcome.
const taskLogLimit = 10000

// taskLog reads a task's whole log (up to taskLogLimit lines).
func (r *Runner) taskLog(ctx context.Context, upid pve.UPID) ([]string, error) {
	ls, err := r.api.TaskLog(ctx, upid, 0, taskLogLimit)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.T
	}
	return out, nil
}

func tail(lines []string) []string {
	if len(lines) > pve.TaskLogTailLines {
		return lines[len(lines)-pve.TaskLogTailLines:]
	}
	return lines
}

// guestLog is one guest's part of a vzdump task log.
type guestLog struct {
	lines    []string
	finished bool
	took     time.Duration
	err      string
	warnings []string
}

// The lines PVE/VZDump.pm exec_backup_task writes per guest.
var (
	startRE    = regexp.MustCompile(`^INFO: Starting Backup of VM (\d+) `)
	finishedRE = regexp.MustCompile(`^INFO: Finished Backup of VM (\d+) \((\d+):(\d\d):(\d\d)\)`)
	failedRE   = regexp.MustCompile(`^ERROR: Backup of VM (\d+) failed - (.*)$`)
)

// parseLog splits a vzdump task log by guest.
func parseLog(lines []string) map[int]*guestLog {
	out := map[int]*guestLog{}
	get := func(s string) *guestLog {
		v, _ := strconv.Atoi(s)
		g := out[v]
		if g == nil {
			g = &guestLog{}
			out[v] = g
		}
		return g
	}
	var cur *guestLog
	for _, l := range lines {
		if m := startRE.FindStringSubmatch(l); m != nil {
			cur = get(m[1])
		}
		if cur != nil {
			cur.lines = append(cur.lines, l)
			if strings.HasPrefix(l, "WARN:") {
				cur.warnings = append(cur.warnings, l)
			}
		}
		if m := finishedRE.FindStringSubmatch(l); m != nil {
			g := get(m[1])
			h, _ := strconv.Atoi(m[2])
			mi, _ := strconv.Atoi(m[3])
			se, _ := strconv.Atoi(m[4])
			g.finished, g.took = true, time.Duration(h)*time.Hour+time.Duration(mi)*time.Minute+time.Duration(se)*time.Second
		}
		if m := failedRE.FindStringSubmatch(l); m != nil {
			g := get(m[1])
			g.err = m[2]
			if g != cur {
				g.lines = append(g.lines, l)
			}
		}
		if strings.HasPrefix(l, "INFO: Backup job finished") {
			cur = nil
		}
	}
	return out
}

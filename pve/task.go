package pve

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// exitWarningsPrefix starts the exit status of a task that ended with
// warnings (pve-semantics.md §8).
const exitWarningsPrefix = "WARNINGS: "

// warnLogLimit bounds how many log lines WaitTask reads to collect a
// successful task's WARN: lines.
const warnLogLimit = 1000

// WaitTask's default poll schedule (WithTaskPoll): the first interval is
// 500 ms so that a 1-second task is seen stopped by the third status call
// (at 0, 0.5 and 1 s); intervals then grow to a third of the time waited,
// so a wait ends at most a third after its task, up to 5 s for long ones.
const (
	defaultPollMin = 500 * time.Millisecond
	defaultPollMax = 5 * time.Second
)

// pollDelay is the interval before the next status call when a wait has
// lasted waited: a third of it, within [lo, hi]. A task seen running at
// waited ends after it, so the call after the interval comes at most a
// third of the task's time (or lo, or hi) after its end, and the number of
// calls grows with the logarithm of the task's time up to hi, then by one
// per hi.
func pollDelay(waited, lo, hi time.Duration) time.Duration {
	return min(max(waited/3, lo), hi)
}

// WaitTask polls a task until it stops and reports how it ended. It asks
// at once, then at intervals that grow with the time waited (WithTaskPoll,
// pollDelay), and returns ctx's error when ctx ends first (the task keeps
// running on PVE). A task counts as done only when stopped:
// "OK" is success; "WARNINGS: n" is success with Warnings n and the log's WARN:
// lines (or, when the log cannot be read, one "(task log unavailable: ...)"
// note in their place); any other exit status is a *TaskError with the tail of the task log.
//
// PVE: GET /nodes/{node}/tasks/{upid}/status
func (c *Client) WaitTask(ctx context.Context, upid UPID) (TaskResult, error) {
	if upid.IsZero() {
		return TaskResult{}, fmt.Errorf("wait task: empty UPID")
	}
	start := c.now()
	for {
		st, err := c.TaskStatus(ctx, upid)
		if err != nil {
			return TaskResult{}, err
		}
		if st.Stopped() {
			return c.taskOutcome(ctx, upid, st.ExitStatus)
		}
		if err := c.sleep(ctx, pollDelay(c.now().Sub(start), c.pollMin, c.pollMax)); err != nil {
			return TaskResult{}, fmt.Errorf("task %s: wait: %w", upid, err)
		}
	}
}

// sleepCtx waits d, or until ctx ends (then it returns ctx's error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// taskOutcome turns a stopped task's exit status into a result or an error.
func (c *Client) taskOutcome(ctx context.Context, upid UPID, exit string) (TaskResult, error) {
	res := TaskResult{UPID: upid, ExitStatus: exit}
	if exit == ExitOK {
		return res, nil
	}
	if n, ok := parseWarnings(exit); ok {
		res.Warnings = n
		lines, _, err := c.taskLog(ctx, upid, 0, warnLogLimit)
		if err != nil {
			// The task succeeded; its log only names the warnings. A log that
			// cannot be read is a note in their place, never a failure
			// (a failure would roll back a step that took effect).
			res.WarningLines = []string{fmt.Sprintf("(task log unavailable: %v)", err)}
			return res, nil
		}
		for _, l := range lines {
			if strings.HasPrefix(l.T, "WARN:") {
				res.WarningLines = append(res.WarningLines, l.T)
			}
		}
		return res, nil
	}
	te := &TaskError{UPID: upid, ExitStatus: exit}
	tail, err := c.logTail(ctx, upid, TaskLogTailLines)
	if err != nil {
		// The task failed; that is the error to report. The log read failing
		// is noted in the tail rather than hiding the task's own error.
		tail = []string{fmt.Sprintf("(task log unavailable: %v)", err)}
	}
	te.LogTail = tail
	return TaskResult{}, te
}

// parseWarnings reads "WARNINGS: n".
func parseWarnings(exit string) (int, bool) {
	rest, ok := strings.CutPrefix(exit, exitWarningsPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(rest))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// logTail returns the last n lines of a task's log. PVE reports the line
// count as "total" beside the data; when a log is longer than one read, the
// tail is fetched from total-n.
func (c *Client) logTail(ctx context.Context, upid UPID, n int) ([]string, error) {
	const first = 500
	lines, total, err := c.taskLog(ctx, upid, 0, first)
	if err != nil {
		return nil, err
	}
	if total > len(lines) && total > first {
		if lines, _, err = c.taskLog(ctx, upid, total-n, n); err != nil {
			return nil, err
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.T
	}
	return out, nil
}

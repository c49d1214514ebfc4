package pve

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is WaitTask's clock in the poll tests: it stands still until a
// poll's sleep advances it, so a schedule is checked by counts, not timing.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (k *fakeClock) now() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.t
}

func (k *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k.mu.Lock()
	k.t = k.t.Add(d)
	k.mu.Unlock()
	return nil
}

// timedTask serves one task that runs for d on k from k's present time and
// counts the status calls; it returns the client (with the default poll
// schedule on k) and the count.
func timedTask(t testing.TB, f *fixture, k *fakeClock, upid UPID, d time.Duration) *atomic.Int32 {
	var polls atomic.Int32
	end := k.now().Add(d)
	f.mux.HandleFunc("GET /api2/json/nodes/{node}/tasks/{upid}/status", func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		st := map[string]any{"upid": upid.String(), "node": upid.Node, "status": "running"}
		if !k.now().Before(end) {
			st["status"], st["exitstatus"] = "stopped", "OK"
		}
		writeData(t, w, st)
	})
	f.c.pollMin, f.c.pollMax = defaultPollMin, defaultPollMax
	f.c.now, f.c.sleep = k.now, k.sleep
	return &polls
}

// waitTimed runs WaitTask on a task of d and returns the time waited on the
// fake clock and the status calls made.
func waitTimed(t testing.TB, f *fixture, d time.Duration) (time.Duration, int) {
	k := &fakeClock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	u := mustUPID(t, "UPID:pve:0000377E:19E15146:5F3C0469:vzsnapshot:100:felhom@pve!ci:")
	polls := timedTask(t, f, k, u, d)
	start := k.now()
	if _, err := f.c.WaitTask(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return k.now().Sub(start), int(polls.Load())
}

// TestWaitTaskPollSchedule: with the default schedule a task's wait ends
// soon after the task does (within the first interval, or a third of the
// task's time up to the longest interval), a 1-second task costs at most 2
// status polls beyond the first, and a long task's polls stay bounded by
// its time over the longest interval (issue 15 item 4).
func TestWaitTaskPollSchedule(t *testing.T) {
	for _, tt := range []struct {
		task     time.Duration
		maxPolls int
	}{
		{0, 1},
		{300 * time.Millisecond, 2},
		{time.Second, 3},
		{2 * time.Second, 5},
		{5 * time.Second, 9},
		{time.Minute, 12 + int(time.Minute/defaultPollMax)},
		{10 * time.Minute, 12 + int(10*time.Minute/defaultPollMax)},
	} {
		f := setup(t)
		wait, polls := waitTimed(t, f, tt.task)
		if polls > tt.maxPolls {
			t.Errorf("task of %v: %d status polls, want at most %d", tt.task, polls, tt.maxPolls)
		}
		late := max(defaultPollMin, min(tt.task/3, defaultPollMax))
		if wait < tt.task || wait-tt.task > late {
			t.Errorf("task of %v: waited %v, want within %v after it ended", tt.task, wait, late)
		}
	}
}

// BenchmarkWaitTaskPoll reports, for tasks of several lengths on a fake
// clock, the time WaitTask waits (wait-s, on that clock) and the status
// calls it makes (polls) with the default schedule.
func BenchmarkWaitTaskPoll(b *testing.B) {
	for _, d := range []time.Duration{200 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 30 * time.Second, 5 * time.Minute} {
		b.Run(d.String(), func(b *testing.B) {
			var wait time.Duration
			var polls int
			for b.Loop() {
				f := setup(b)
				wait, polls = waitTimed(b, f, d)
			}
			b.ReportMetric(wait.Seconds(), "wait-s")
			b.ReportMetric(float64(polls), "polls")
		})
	}
}

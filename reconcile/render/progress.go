package render

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/felhom/felhom/reconcile/result"
)

// LogProgress reports each event as one structured log line, for logs and
// CI where no terminal redraws.
type LogProgress struct{ Log *slog.Logger }

// Report logs e.
func (l LogProgress) Report(e result.Event) {
	attrs := []any{"vmid", e.VMID, "name", e.Name, "node", e.Node}
	switch e.Kind {
	case result.EventStart:
		l.Log.Info("apply: start", append(attrs, "steps", e.Steps)...)
	case result.EventWait:
		l.Log.Info("apply: wait", append(attrs, "detail", e.Detail)...)
	case result.EventStep:
		l.Log.Info("apply: step", append(attrs, "step", e.Step, "of", e.Steps, "detail", e.Detail)...)
	case result.EventTask:
		l.Log.Info("apply: task", append(attrs, "upid", e.UPID)...)
	case result.EventDone:
		attrs = append(attrs, "outcome", string(e.Outcome), "elapsed", e.Elapsed.Round(time.Millisecond).String())
		if e.Err != "" {
			l.Log.Warn("apply: done", append(attrs, "error", e.Err)...)
			return
		}
		l.Log.Info("apply: done", attrs...)
	}
}

// TerminalProgress keeps one line per container on a terminal and redraws
// them in place: the container, its current step, task and elapsed time.
// Call Stop when apply returns.
type TerminalProgress struct {
	w     io.Writer
	now   func() time.Time
	mu    sync.Mutex
	rows  map[int]*termRow
	drawn int
	stop  chan struct{}
	done  chan struct{}
}

type termRow struct {
	name, state, upid string
	started           time.Time
	elapsed           time.Duration
	finished          bool
}

// NewTerminalProgress starts a display on w that refreshes the elapsed
// times every interval.
func NewTerminalProgress(w io.Writer, interval time.Duration) *TerminalProgress {
	t := &TerminalProgress{w: w, now: time.Now, rows: map[int]*termRow{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-tick.C:
				t.mu.Lock()
				t.draw()
				t.mu.Unlock()
			}
		}
	}()
	return t
}

// Report updates the container's line and redraws.
func (t *TerminalProgress) Report(e result.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rows[e.VMID]
	if r == nil {
		r = &termRow{name: fmt.Sprintf("ct %d %s", e.VMID, e.Name), started: t.now()}
		t.rows[e.VMID] = r
	}
	switch e.Kind {
	case result.EventStart:
		r.state = "starting"
	case result.EventWait:
		r.state = e.Detail
	case result.EventStep:
		r.upid = ""
		if e.Step > 0 {
			r.state = fmt.Sprintf("%d/%d %s", e.Step, e.Steps, e.Detail)
		} else {
			r.state = e.Detail
		}
	case result.EventTask:
		r.upid = e.UPID
	case result.EventDone:
		r.finished, r.elapsed, r.upid = true, e.Elapsed, ""
		r.state = string(e.Outcome)
		if e.Err != "" {
			r.state += ": " + e.Err
		}
	}
	t.draw()
}

// Stop ends the refreshes and leaves the last picture on the screen.
func (t *TerminalProgress) Stop() {
	close(t.stop)
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	t.draw()
}

// draw rewrites the lines drawn last time (cursor up, clear line).
func (t *TerminalProgress) draw() {
	ids := make([]int, 0, len(t.rows))
	for id := range t.rows {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var b strings.Builder
	if t.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", t.drawn)
	}
	for _, id := range ids {
		r := t.rows[id]
		el := r.elapsed
		if !r.finished {
			el = t.now().Sub(r.started)
		}
		line := fmt.Sprintf("%-24s %6.1fs  %s", r.name, el.Seconds(), r.state)
		if r.upid != "" {
			line += "  (task " + r.upid + ")"
		}
		b.WriteString("\x1b[2K" + line + "\n")
	}
	t.drawn = len(ids)
	io.WriteString(t.w, b.String())
}

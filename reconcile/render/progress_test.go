package render

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/reconcile/result"
)

func TestTerminalProgressRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	tp := NewTerminalProgress(&buf, time.Hour)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tp.now = func() time.Time { return at }
	tp.Report(result.Event{Kind: result.EventStart, VMID: 101, Name: "web", Steps: 2})
	tp.Report(result.Event{Kind: result.EventStep, VMID: 101, Name: "web", Step: 1, Steps: 2, Detail: "take snapshot x"})
	tp.Report(result.Event{Kind: result.EventTask, VMID: 101, Name: "web", UPID: "UPID:pve1:1"})
	at = at.Add(1500 * time.Millisecond)
	tp.Report(result.Event{Kind: result.EventStart, VMID: 102, Name: "db", Steps: 1})
	tp.Report(result.Event{Kind: result.EventDone, VMID: 101, Name: "web", Outcome: result.OutcomeApplied, Elapsed: 2 * time.Second})
	tp.Stop()
	out := buf.String()
	last := out[strings.LastIndex(out, "\x1b[2A"):]
	for _, want := range []string{"ct 101 web", "2.0s  applied", "ct 102 db", "0.0s  starting"} {
		if !strings.Contains(last, want) {
			t.Errorf("last picture lacks %q: %q", want, last)
		}
	}
	if !strings.Contains(out, "1/2 take snapshot x  (task UPID:pve1:1)") {
		t.Errorf("no step with its task: %q", out)
	}
}

func TestLogProgress(t *testing.T) {
	var buf bytes.Buffer
	lp := LogProgress{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	lp.Report(result.Event{Kind: result.EventStep, VMID: 101, Name: "web", Node: "pve1", Step: 1, Steps: 2, Detail: "take snapshot x"})
	lp.Report(result.Event{Kind: result.EventDone, VMID: 101, Name: "web", Node: "pve1", Outcome: result.OutcomeFailed, Err: "boom"})
	out := buf.String()
	for _, want := range []string{`msg="apply: step" vmid=101 name=web node=pve1 step=1 of=2 detail="take snapshot x"`, `level=WARN msg="apply: done"`, "outcome=failed", "error=boom"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

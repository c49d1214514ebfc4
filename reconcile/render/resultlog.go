package render

import (
	"context"
	"log/slog"
	"time"

	"github.com/felhom/felhom/reconcile/result"
)

// LogLine is one structured log record: its level, message and attributes.
type LogLine struct {
	Level slog.Level
	Msg   string
	Attrs []slog.Attr
}

// ResultLog is what apply did as log records, for a daemon's log: one per
// container (warn level when it failed or went stale), with its outcome,
// failure kind, error, time taken, snapshot, rollback and pending keys, and
// a closing one with the counts.
func ResultLog(res *result.Result) []LogLine {
	out := make([]LogLine, 0, len(res.Containers)+1)
	for _, c := range res.Containers {
		attrs := []slog.Attr{
			slog.Int("vmid", c.VMID), slog.String("name", c.Name), slog.String("node", c.Node),
			slog.String("outcome", string(c.Outcome)),
		}
		if c.Failure != "" {
			attrs = append(attrs, slog.String("failure", string(c.Failure)))
		}
		if c.Error != "" {
			attrs = append(attrs, slog.String("error", c.Error))
		}
		attrs = append(attrs, slog.Int("steps", len(c.Steps)), slog.String("duration", c.Duration.Round(time.Millisecond).String()))
		if c.Snapshot != "" {
			attrs = append(attrs, slog.String("snapshot", c.Snapshot))
		}
		if c.Rollback != nil {
			attrs = append(attrs, slog.Bool("rolled_back", c.RolledBack))
		}
		if len(c.HalfDone) > 0 {
			attrs = append(attrs, slog.Any("half_done", c.HalfDone))
		}
		if len(c.Pending) > 0 {
			attrs = append(attrs, slog.Any("pending", c.Pending))
		}
		if len(c.Warnings) > 0 {
			attrs = append(attrs, slog.Int("warnings", len(c.Warnings)))
		}
		level := slog.LevelInfo
		if c.Outcome == result.OutcomeFailed || c.Outcome == result.OutcomeStale {
			level = slog.LevelWarn
		}
		out = append(out, LogLine{Level: level, Msg: "apply: container", Attrs: attrs})
	}
	n := res.Count()
	level := slog.LevelInfo
	if res.Failed() {
		level = slog.LevelWarn
	}
	out = append(out, LogLine{Level: level, Msg: "apply: result", Attrs: []slog.Attr{
		slog.Int("applied", n[result.OutcomeApplied]), slog.Int("unchanged", n[result.OutcomeUnchanged]),
		slog.Int("skipped", n[result.OutcomeSkipped]), slog.Int("stale", n[result.OutcomeStale]),
		slog.Int("failed", n[result.OutcomeFailed]), slog.Bool("cancelled", res.Cancelled),
		slog.String("duration", res.Finished.Sub(res.Started).Round(time.Millisecond).String()),
	}})
	return out
}

// LogResult writes ResultLog's records to l.
func LogResult(ctx context.Context, l *slog.Logger, res *result.Result) {
	for _, line := range ResultLog(res) {
		l.LogAttrs(ctx, line.Level, line.Msg, line.Attrs...)
	}
}

package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/reconcile/render"
	"github.com/felhom/felhom/spec"
)

// BaselinePrefix starts the one machine line of a felhom snapshot's
// description: "felhom-baseline: " and a compact JSON object of change path
// to value (the form of Change.Before), such as
//
//	felhom-baseline: {"cores":"2","memory":"2 GiB","net0.bridge":"vmbr0"}
//
// It is the description's last line, written by apply after the container
// it protects was changed and verified; Observe reads it back as
// diff.Live.Applied.
const BaselinePrefix = "felhom-baseline: "

// Description limits. PVE's schema gives a snapshot's description no
// maxLength (apidata.json: POST .../snapshot and PUT
// .../snapshot/{snapname}/config); the container's own description is
// limited to 8192 characters ($confdesc in pve-container
// src/PVE/LXC/Config.pm). felhom keeps a snapshot's description well within
// that: at most MaxSnapshotDescription bytes in all, of which the baseline
// line takes at most maxBaselineLine.
const (
	MaxSnapshotDescription = 6144
	maxBaselineLine        = 4096
)

// SnapshotDescription returns the description of a felhom snapshot once its
// container was changed and verified: summary (render.Describe's plan text, for
// people) and then the baseline line. The line is at most 4 KiB: when the
// values do not fit, the longest are left out (those fields are then never
// marked as drift). The summary is cut at a line, ending "...", so that the
// whole stays within MaxSnapshotDescription.
func SnapshotDescription(summary string, baseline map[string]string) string {
	line := baselineLine(baseline)
	room := MaxSnapshotDescription - len(line) - 1
	summary = strings.TrimRight(summary, "\n")
	if len(summary) > room {
		cut := strings.LastIndexByte(summary[:room-len("\n...")], '\n')
		if cut < 0 {
			cut = 0
		}
		summary = summary[:cut] + "\n..."
	}
	return summary + "\n" + line
}

// baselineLine is BaselinePrefix and the compact JSON of b (keys sorted),
// within maxBaselineLine bytes.
func baselineLine(b map[string]string) string {
	m := make(map[string]string, len(b)) // never nil: an empty baseline is "{}"
	maps.Copy(m, b)
	keys := slices.Collect(maps.Keys(m))
	// Longest values go first when the line is too long; ties by path, so
	// the outcome is deterministic.
	sort.Slice(keys, func(i, j int) bool {
		if len(m[keys[i]]) != len(m[keys[j]]) {
			return len(m[keys[i]]) > len(m[keys[j]])
		}
		return keys[i] < keys[j]
	})
	for {
		line := BaselinePrefix + compactJSON(m)
		if len(line) <= maxBaselineLine || len(keys) == 0 {
			return line
		}
		delete(m, keys[0])
		keys = keys[1:]
	}
}

func compactJSON(m map[string]string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		// A map of strings always encodes; invalid UTF-8 becomes U+FFFD.
		return "{}"
	}
	return strings.TrimRight(buf.String(), "\n")
}

// ParseBaseline reads the baseline from a felhom snapshot's description: its
// last non-empty line, when that starts with BaselinePrefix and holds a JSON
// object of strings. ok is false for any other description (a snapshot
// still holding only its plan summary, one rolled back to, someone else's
// text, a malformed line): such a description is ignored, never an error.
func ParseBaseline(description string) (baseline map[string]string, ok bool) {
	d := strings.TrimRight(description, "\r\n \t")
	last := d[strings.LastIndexByte(d, '\n')+1:]
	rest, found := strings.CutPrefix(strings.TrimRight(last, "\r"), BaselinePrefix)
	if !found {
		return nil, false
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(rest), &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// latestBaseline returns the baseline of the newest felhom snapshot (by
// snaptime; by the time in its name when PVE gives none) whose description
// holds one, or nil. Snapshots not named by felhom (plan.SnapshotName) are
// never read.
func latestBaseline(snaps []pve.Snapshot) map[string]string {
	_, b := latestBaselineSnapshot(snaps)
	return b
}

// latestBaselineSnapshot is latestBaseline with the snapshot it is read
// from (the zero Snapshot when none).
func latestBaselineSnapshot(snaps []pve.Snapshot) (pve.Snapshot, map[string]string) {
	type cand struct {
		at   time.Time
		name string
		b    map[string]string
		s    pve.Snapshot
	}
	var best *cand
	for _, s := range snaps {
		named, ok := plan.SnapshotTime(s.Name)
		if !ok {
			continue
		}
		b, ok := ParseBaseline(s.Description)
		if !ok {
			continue
		}
		at := s.SnapTime
		if at.IsZero() {
			at = named
		}
		c := cand{at: at, name: s.Name, b: b, s: s}
		if best == nil || c.at.After(best.at) || (c.at.Equal(best.at) && c.name > best.name) {
			best = &c
		}
	}
	if best == nil {
		return pve.Snapshot{}, nil
	}
	return best.s, best.b
}

// recordBaseline runs once the change is in place and verified: it records
// what the spec's fields read back as (ContainerResult.Baseline) and keeps
// it where the next plan finds it, in the description of the felhom
// snapshot taken before the change (SnapshotDescription; one PUT
// .../snapshot/{snapname}/config). Nothing is kept when no snapshot was
// taken (a vzdump stood in, or the snapshot policy takes none) or when the
// plan's own snapshot-prune deletes it. A saved plan records it from the
// spec it carries (plannedFrom), as apply with the specs does; one written
// before plans carried it carries the older baseline over (carriedBaseline).
// A write that fails
// is a warning: the change itself stands.
func (a *applier) recordBaseline(ctx context.Context) {
	var b map[string]string
	if c := a.plannedFrom(); c != nil && a.cur.Digest != "" {
		l := &diff.Live{Node: a.cp.Node, VMID: a.cp.VMID, Running: a.runningAfter()}
		fillPending(l, a.cur)
		b = diff.Baseline(c, l)
		a.cr.Baseline = b
	}
	if a.snapshot == "" && a.powered != nil {
		a.recordPower(ctx)
	}
	if a.snapshot == "" || a.prunes(a.snapshot) {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.StepTimeout)
	defer cancel()
	if b == nil {
		b = a.carriedBaseline(sctx)
	}
	desc := SnapshotDescription(render.Describe(a.plan, a.cp), b)
	err := a.api.UpdateSnapshotDescription(sctx, a.cp.Node, a.cp.VMID, a.snapshot, desc)
	if errors.Is(err, pve.ErrLocked) {
		// A backup took the lock meanwhile: wait it out once.
		if _, werr := a.waitUnlocked(sctx); werr == nil {
			err = a.api.UpdateSnapshotDescription(sctx, a.cp.Node, a.cp.VMID, a.snapshot, desc)
		}
	}
	if err != nil {
		a.cr.Warnings = append(a.cr.Warnings, fmt.Sprintf("what was applied is not kept in snapshot %s (%v); later plans may mark drift wrongly on this container until its next apply", a.snapshot, err))
	}
}

// plannedFrom is the spec the container was planned from: the one apply
// was given, else the one a saved plan carries (ContainerPlan.Spec), or nil
// for a plan written before plans carried it. It is used for the baseline
// only: the safety checks against the spec trust only specs apply was given.
func (a *applier) plannedFrom() *spec.Container {
	if a.spec != nil {
		return a.spec
	}
	if a.cp.Spec == nil {
		return nil
	}
	return &spec.Container{Kind: spec.KindContainer, Metadata: spec.Metadata{Name: a.cp.Name}, Spec: *a.cp.Spec}
}

// carriedBaseline is the baseline of an apply without the specs (a saved
// plan): the container's older baseline (one GET .../snapshot) without the
// paths this plan wrote, whose form after the write only the spec gives.
// Paths the plan did not write keep what felhom applied before, so a drift
// the policy left alone ("report") stays drift. Nothing known (no older
// baseline, or the list cannot be read) gives an empty one, which keeps an
// older baseline from speaking for the changed fields.
func (a *applier) carriedBaseline(ctx context.Context) map[string]string {
	out := map[string]string{}
	snaps, err := a.api.Snapshots(ctx, a.cp.Node, a.cp.VMID)
	if err != nil {
		return out
	}
	written := map[string]bool{}
	for _, s := range a.cp.Steps {
		switch s.Action {
		case plan.ActionSetConfig:
			ch := configChange(s.Params)
			for k := range ch.Set {
				written[k] = true
			}
			for _, k := range append(ch.Delete, ch.Revert...) {
				written[k] = true
			}
		case plan.ActionResize:
			written[s.Params["disk"]] = true
		}
	}
	for _, ch := range a.cp.Changes {
		// Only a reboot that ran (not one skipped for a closed window)
		// made the restart-bound changes current.
		if a.rebooted && ch.Class.NeedsRestart() {
			written[configKey(ch.Path)] = true
		}
	}
	for path, v := range latestBaseline(snaps) {
		if !written[configKey(path)] {
			out[path] = v
		}
	}
	if a.powered != nil {
		out[diff.PowerPath] = runState(*a.powered)
	}
	return out
}

// configKey is the config key a change path belongs to: "net0" for
// "net0.bridge", "memory" for "memory".
func configKey(path string) string {
	k, _, _ := strings.Cut(path, ".")
	return k
}

// prunes reports whether the plan's snapshot-prune steps delete the snapshot
// called name.
func (a *applier) prunes(name string) bool {
	for _, s := range a.cp.Steps {
		if s.Action == plan.ActionSnapshotPrune && s.Params["snapname"] == name {
			return true
		}
	}
	return false
}

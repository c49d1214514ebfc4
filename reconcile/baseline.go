package reconcile

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/plan"
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
// container was changed and verified: summary (Describe's plan text, for
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
	type cand struct {
		at   time.Time
		name string
		b    map[string]string
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
		c := cand{at: at, name: s.Name, b: b}
		if best == nil || c.at.After(best.at) || (c.at.Equal(best.at) && c.name > best.name) {
			best = &c
		}
	}
	if best == nil {
		return nil
	}
	return best.b
}

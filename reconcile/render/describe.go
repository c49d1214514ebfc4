package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/felhom/felhom/reconcile/plan"
)

// Describe is the description of the felhom snapshot taken before changing
// cp: the plan for that container (its changes and steps, and the plan's
// source revision and time), as text PVE keeps with the snapshot.
func Describe(p *plan.Plan, cp *plan.ContainerPlan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "felhom: taken before applying its plan")
	if p != nil && p.SourceRevision != "" {
		fmt.Fprintf(&b, " for %s", p.SourceRevision)
	}
	if p != nil && !p.CreatedAt.IsZero() {
		fmt.Fprintf(&b, " (made %s)", p.CreatedAt.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")
	for _, ch := range cp.Changes {
		switch ch.Op {
		case plan.OpAdd:
			fmt.Fprintf(&b, "+ %s %s (%s)\n", ch.Path, ch.After, ch.Class)
		case plan.OpRemove:
			fmt.Fprintf(&b, "- %s %s (%s)\n", ch.Path, ch.Before, ch.Class)
		default:
			fmt.Fprintf(&b, "~ %s %s -> %s (%s)\n", ch.Path, ch.Before, ch.After, ch.Class)
		}
	}
	for i, s := range cp.Steps {
		fmt.Fprintf(&b, "%d. %s\n", i+1, s.String())
	}
	return strings.TrimRight(b.String(), "\n")
}

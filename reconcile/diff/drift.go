package diff

import (
	"strings"

	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// Drift: a live value that moved away from what felhom last applied.

// drift reports whether the live side of f differs from what felhom last
// applied (Live.Applied).
func (d *differ) drift(f field) bool {
	if d.live.Applied == nil {
		return false
	}
	if applied, ok := d.live.Applied[f.path]; ok {
		return applied != f.before
	}
	if f.op == plan.OpAdd {
		// A whole slot is missing: drift if felhom had applied any of its keys.
		for p := range d.live.Applied {
			if strings.HasPrefix(p, f.path+".") {
				return true
			}
		}
	}
	return false
}

// reportOnly reports whether f is drift that the drift policy says to report
// but not revert: the live value moved away from what felhom applied, and the
// spec still asks for what felhom applied.
func (d *differ) reportOnly(f field) bool {
	if d.s.Drift != spec.DriftReport || !d.drift(f) {
		return false
	}
	applied, ok := d.live.Applied[f.path]
	return ok && applied == f.after
}

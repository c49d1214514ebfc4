package render

import (
	"encoding/json"
	"io"

	"github.com/felhom/felhom/reconcile/plan"
)

// JSON writes the plan as it is, indented, with a trailing newline: the
// machine contract of reconcile/plan/FORMAT.md. HTML characters are not
// escaped, so values read as written.
func JSON(w io.Writer, p *plan.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

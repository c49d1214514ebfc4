package spec

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Severity says whether a Diagnostic makes the specs invalid.
type Severity int

// Severities.
const (
	SeverityError   Severity = iota // the specs are invalid
	SeverityWarning                 // worth a look; the specs are still valid
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// MarshalJSON writes the severity as "error" or "warning".
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads "error" or "warning".
func (s *Severity) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v {
	case "error":
		*s = SeverityError
	case "warning":
		*s = SeverityWarning
	default:
		return fmt.Errorf("severity %q: want error or warning", v)
	}
	return nil
}

// Diagnostic is one problem found in the specs.
type Diagnostic struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`   // 1-based; 0 when the problem is the whole file
	Column int    `json:"column,omitempty"` // 1-based
	// Path is the JSON pointer of the offending value in its document, e.g.
	// "/spec/memory" (empty for file-level problems).
	Path     string   `json:"path,omitempty"`
	Value    string   `json:"value,omitempty"` // the offending value as written, shortened
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
	Severity Severity `json:"severity"`
}

// String renders the diagnostic as "file:line:col: error: message (hint)".
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		fmt.Fprintf(&b, ":%d", d.Line)
		if d.Column > 0 {
			fmt.Fprintf(&b, ":%d", d.Column)
		}
	}
	fmt.Fprintf(&b, ": %s: %s", d.Severity, d.Message)
	if d.Hint != "" {
		fmt.Fprintf(&b, "; %s", d.Hint)
	}
	return b.String()
}

// Diagnostics is a list of problems; as an error it lists them one a line.
type Diagnostics []Diagnostic

// Error renders every diagnostic, one a line.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any diagnostic is an error (not a warning).
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Err returns ds as an error when it has errors, nil otherwise.
func (ds Diagnostics) Err() error {
	if ds.HasErrors() {
		return ds
	}
	return nil
}

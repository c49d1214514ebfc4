package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
)

// ContentRevision names the spec tree under root in fsys by its content:
// "specs-" and 12 hex digits of a SHA-256 of the loaded containers
// (Set.Revision), so the same specs name the same revision wherever their
// files lie and however they are laid out. A tree that does not load
// cleanly is an error (*InvalidError).
func ContentRevision(fsys fs.FS, root string) (string, error) {
	set, diags := Load(fsys, root)
	if diags.HasErrors() {
		return "", &InvalidError{Root: root, Diagnostics: diags}
	}
	return set.Revision()
}

// Revision is ContentRevision of the loaded set: a digest of its containers
// as JSON, defaults applied (their source positions are not part of it).
func (s *Set) Revision() (string, error) {
	specs := make([]Container, len(s.Containers))
	for i, c := range s.Containers {
		specs[i] = *c
	}
	b, err := json.Marshal(specs)
	if err != nil {
		return "", fmt.Errorf("spec revision: %w", err)
	}
	sum := sha256.Sum256(b)
	return "specs-" + hex.EncodeToString(sum[:])[:12], nil
}

// InvalidError is a spec tree that did not load: Diagnostics holds every
// problem found (errors and warnings), with file names relative to the tree's
// file system.
type InvalidError struct {
	// Root is the tree's folder in its file system.
	Root        string
	Diagnostics Diagnostics
}

func (e *InvalidError) Error() string {
	n, first := 0, ""
	for _, d := range e.Diagnostics {
		if d.Severity == SeverityError {
			if n == 0 {
				first = ": " + d.String()
			}
			n++
		}
	}
	return fmt.Sprintf("specs under %s are invalid (%d errors)%s", e.Root, n, first)
}

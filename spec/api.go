package spec

import (
	"errors"
	"io/fs"
)

// Set is every container loaded from a spec tree, defaults applied.
type Set struct {
	// Containers is sorted by VMID.
	Containers []*Container
}

// ByVMID returns the container with vmid, or nil.
func (s *Set) ByVMID(vmid int) *Container {
	for _, c := range s.Containers {
		if c.Spec.VMID == vmid {
			return c
		}
	}
	return nil
}

// ByName returns the container named name, or nil.
func (s *Set) ByName(name string) *Container {
	for _, c := range s.Containers {
		if c.Metadata.Name == name {
			return c
		}
	}
	return nil
}

var errTODO = errors.New("spec: not implemented yet")

// Load reads every *.yaml and *.yml file under root in fsys (folders whose
// name starts with "." are skipped), applies each folder's kind: Defaults to
// the containers in it and below (explicit values win), and validates the
// result. It returns every diagnostic at once; the Set holds the containers
// that could be decoded even when there are errors, so callers must check
// Diagnostics.HasErrors before acting on it.
func Load(fsys fs.FS, root string) (*Set, Diagnostics) {
	return &Set{}, Diagnostics{{Message: errTODO.Error()}}
}

// Parse parses and validates one file's documents on their own (no folder
// defaults, no cross-file checks, no filled-in defaults). name is used in
// diagnostics only.
func Parse(name string, data []byte) ([]Document, Diagnostics) {
	return nil, Diagnostics{{File: name, Message: errTODO.Error()}}
}

package daemon

import (
	"context"

	"github.com/felhom/felhom/spec/source"
)

// Revision is one state of a source (spec/source's).
type Revision = source.Revision

// Source is the part of a spec/source.Source the loop uses: Fetch returns
// the newest revision; Changed delivers a value when a new one may be
// there. Running the source (its Run) is the caller's.
type Source interface {
	String() string
	Fetch(ctx context.Context) (Revision, error)
	Changed() <-chan struct{}
}

var _ Source = source.Source(nil)

package daemon

import (
	"context"
	"io/fs"
	"time"
)

// Revision is one state of a source: its id (a git commit, or a content
// digest for a folder), the spec tree and when it was made.
type Revision struct {
	ID   string
	FS   fs.FS
	Time time.Time
}

// Source is where the specs come from (spec/source's directory and git
// sources satisfy it through a thin adapter). Fetch returns the current
// revision; Changed delivers a value when a new one may be there.
type Source interface {
	String() string
	Fetch(ctx context.Context) (Revision, error)
	Changed() <-chan struct{}
}

package source

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"sync"
	"time"
)

// Revision is one state of a source: an id and the spec tree it names.
type Revision struct {
	// ID names the revision: a git source's commit id (40 hex digits), a
	// directory's content hash (spec.ContentRevision of its specs, or
	// "invalid-" and a hash of the files when they do not load, so that
	// every different content has a different id).
	ID string
	// FS is the spec tree at this revision, rooted at the source's folder
	// (a git source's sub-folder). It never changes: reading it later gives
	// the files the ID names, whatever the source has seen since.
	FS fs.FS
	// Time is a git commit's committer time, or when a directory was read.
	Time time.Time
}

// Source yields revisions of a spec tree. The loop calls Fetch for the
// newest revision (at start, on a webhook, on its resync), runs Run for the
// source's life, and calls Fetch again whenever Changed fires.
type Source interface {
	// String names the source for logs and the status page (a folder, or a
	// URL without credentials and the ref).
	String() string
	// Fetch brings the source up to date (a git fetch; a directory is read
	// again) and returns its newest revision. An error leaves the source as
	// it was; the revision handed out before stays valid.
	Fetch(ctx context.Context) (Revision, error)
	// Changed receives a value when Run has read a revision other than the
	// one read before it (by Run or Fetch). It holds at most one value: many changes
	// before the loop looks are one. It is never closed.
	Changed() <-chan struct{}
	// Run watches (a directory) or polls (git, on its interval) until ctx
	// ends, then returns nil. It returns an error only when it cannot start
	// (a directory's parent folder cannot be watched). Errors while running
	// are logged and retried: a directory not there yet is waited for.
	Run(ctx context.Context) error
}

// New makes the source cfg describes: exactly one of cfg.Dir and cfg.Git.
// A git source keeps its clone under stateDir. log receives the source's
// warnings and changes (nil discards them). New does no network I/O; it
// checks the configuration and reads the credential and key files.
func New(cfg Config, stateDir string, log *slog.Logger) (Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Dir != nil {
		d, err := NewDir(*cfg.Dir, log)
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	g, err := NewGit(*cfg.Git, stateDir, log)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// tracker is what a source shares between Fetch and Run: the id read last
// and the Changed channel.
type tracker struct {
	mu      sync.Mutex
	last    string // the ID of the newest read, by Fetch or Run
	changed chan struct{}
}

func newTracker() *tracker { return &tracker{changed: make(chan struct{}, 1)} }

// handOut records that Fetch returns id.
func (t *tracker) handOut(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last = id
}

// saw records that Run read id, and signals Changed when it differs from
// the read before; it reports whether it signalled.
func (t *tracker) saw(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == t.last {
		return false
	}
	t.last = id
	select {
	case t.changed <- struct{}{}:
	default:
	}
	return true
}

// errNoSource is Config.Validate's error for a Config naming no source.
var errNoSource = errors.New("source: name one of dir: or git:")
